"""`vaultsync watch` lifecycle: one daemon per vault, its files in `.vaultsync/`, clean stops.

- `.vaultsync/daemon.lock`: flock'd for the daemon's lifetime (a second daemon is refused);
- `.vaultsync/daemon.json`: {"pid", "port", "vault", "version"}, written once the API listens;
- `.vaultsync/token`: a fresh random token per start, mode 0600.
SIGINT/SIGTERM stop it after the batch in flight; both files are removed on the way out.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import gc
import json
import logging
import os
import queue
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, TextIO

from vaultsync import __version__
from vaultsync.config.settings import Config
from vaultsync.core.errors import UsageError
from vaultsync.io import writer
from vaultsync.rules import Selection

if TYPE_CHECKING:  # for start-up speed, as in _serve: no watchdog or web stack until served
    from watchdog.observers.api import BaseObserver

    from vaultsync.daemon.live import LiveVault
    from vaultsync.daemon.watch import FsEvent, Worker
    from vaultsync.lint.delta import Start

STATE_DIR = ".vaultsync"
LOCK_NAME = "daemon.lock"
INFO_NAME = "daemon.json"
TOKEN_NAME = "token"

log = logging.getLogger("vaultsync.daemon")


@dataclass(frozen=True, slots=True)
class Options:
    root: Path
    config: Config
    selection: Selection  # what the API reports
    verbose: int = 0
    quiet: bool = False
    once: bool = False  # index and settle, then exit (no watching, no API)
    use_cache: bool = True  # start from check's caches, and leave them (`--no-cache`: not)


def acquire_lock(state: Path) -> IO[bytes]:
    """The held lock file; UsageError when another daemon watches this vault."""
    handle = (state / LOCK_NAME).open("a+b")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        pid = "?"
        with contextlib.suppress(OSError, ValueError, AttributeError):
            pid = str(json.loads((state / INFO_NAME).read_text(encoding="utf-8"))["pid"])
        raise UsageError(
            f"another vaultsync daemon (pid {pid}) is already watching {state.parent}"
        ) from None
    return handle


def _write_private(path: Path, text: str, mode: int) -> None:
    """Write `text` with `mode` from the start (not the umask's), synced, atomically."""
    data = text.encode("utf-8")
    writer.replace_file(path, lambda handle: handle.write(data), mode=mode, sync=True)


def release_memory() -> None:
    """Hand the memory freed while indexing back to the OS (glibc keeps it otherwise).

    The first pass replaces the parsed form of every note whose section it writes; on a
    10,000-note vault that leaves tens of MB of freed, fragmented heap behind.
    """
    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("vaultsync: %(levelname)s: %(message)s"))
    root = logging.getLogger("vaultsync")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def run(options: Options, out: TextIO = sys.stdout) -> int:
    configure_logging(options.verbose)
    root = options.root
    state = root / STATE_DIR
    try:
        state.mkdir(exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{state}: cannot create: {exc.strerror or exc}") from None
    lock = acquire_lock(state)
    try:
        return _serve(options, state, out)
    finally:
        lock.close()  # closing the file releases the flock


def _say(options: Options, out: TextIO, text: str) -> None:
    if not options.quiet:
        out.write(f"vaultsync: {text}\n")
        out.flush()


def _serve(options: Options, state: Path, out: TextIO) -> int:
    # Heavy imports only here: `vaultsync check` never pays for watchdog or the web stack.
    from vaultsync.daemon.live import LiveVault
    from vaultsync.daemon.watch import Worker

    root, config = options.root, options.config
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    observer = None
    try:
        started = time.perf_counter()
        writer.clean_temp_files(root)
        _say(options, out, f"indexing {root}")
        events: queue.Queue[FsEvent | None] = queue.Queue()
        # Watch before indexing: a save made meanwhile is queued, not missed. (With the
        # observer's thread running, the index is also parsed in this process alone, not
        # shared with forked copies: fork() is unsafe with threads, and records sent back
        # from a child take ~30% more memory.)
        observer = _observe(options, events)
        start = None
        if options.use_cache and config.cache:
            start, observer = _from_caches(options, events, observer)
        # Without a start from the caches, every note is parsed here, as before the
        # daemon started from them (the path its memory figures were measured on).
        live = LiveVault(root, config, options.selection, use_cache=False, start=start)
        fix_selection = Selection.build(config.watch.fix, [], dict(config.severity))
        worker = Worker(
            live,
            fix_selection,
            config.watch.debounce_ms,
            config.watch.follow_renames,
            publish=lambda event, data: None,
            events=events,
        )
        todo = set(live.vault.notes)
        if start is not None:
            todo = _to_settle(start, fix_selection, options.selection, todo)
            log.info(
                "started from the last whole check's caches: %d notes to check again",
                len(todo),
            )
        with worker.write_lock:
            written = worker.settle(todo)
        live.drop_derived()
        release_memory()
        vault = live.vault
        _say(
            options,
            out,
            f"indexed {len(vault.notes)} notes and {len(vault.index.attachments)} attachments "
            f"in {time.perf_counter() - started:.1f} s; wrote {len(written)} sections "
            f"({', '.join(config.watch.fix)} rules)",
        )
        if options.once or stop.is_set():
            return 0
        return _listen(options, state, out, live, worker, stop)
    finally:
        if observer is not None:
            observer.stop()
            observer.join(5)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _observe(options: Options, events: queue.Queue[FsEvent | None]) -> BaseObserver | None:
    """A running watch of the vault, its events into `events`; None with `--once`."""
    if options.once:
        return None
    from watchdog.observers import Observer

    from vaultsync.daemon.watch import Handler

    observer = Observer()
    observer.schedule(Handler(options.root, events), str(options.root), recursive=True)
    observer.start()
    return observer


def _from_caches(
    options: Options, events: queue.Queue[FsEvent | None], observer: BaseObserver | None
) -> tuple[Start | None, BaseObserver | None]:
    """The vault as the caches a whole `check` leaves say it is now (lint.api), and the
    observer watching it. Without such caches, a whole check makes them first, as
    `check` would (in two processes: the watch pauses meanwhile, since fork() is unsafe
    with its thread running; what changed then, the snapshot's file stats tell).
    None: the caches cannot say (a vault changed within the last seconds leaves none);
    the vault is loaded instead."""
    from vaultsync.lint import api, forks

    root, config, selection = options.root, options.config, options.selection
    start = api.snapshot_start(root, config, selection)
    if start is not None:
        return start, observer
    log.info("no caches of a whole check to start from: checking the whole vault first")
    if observer is not None:
        observer.stop()
        observer.join()
    # In a child of its own: what the check held goes back to the OS when it ends.
    if forks.apart(lambda: api.check_vault(root, config, selection)) is None:
        api.check_vault(root, config, selection)
    observer = _observe(options, events)
    return api.snapshot_start(root, config, selection), observer


def _to_settle(start: Start, fix: Selection, reported: Selection, every: set[str]) -> set[str]:
    """The notes the first pass must check: those changed since the snapshot (and the
    notes they touch), and those whose diagnostics in it have a fix of the `watch.fix`
    rules that `fix` would apply. All of `every` when the snapshot cannot tell: its
    check (`reported`) left some of those rules out, or its diagnostics are gone."""
    from vaultsync.fixing.fix import FixOptions, wanted
    from vaultsync.lint.results import unpack_by_note

    stored = start.stored()
    if not fix.enabled <= reported.enabled or stored is None:
        return every
    todo = set(start.edited.stale)
    options = FixOptions()
    try:
        for path in start.fixable:
            found = unpack_by_note([stored[path]])
            if any(d.code in fix.enabled and wanted(d.fix, d.code, options) for d in found):
                todo.add(path)
    except (KeyError, TypeError, ValueError):
        return every
    return todo


def _listen(
    options: Options,
    state: Path,
    out: TextIO,
    live: LiveVault,
    worker: Worker,
    stop: threading.Event,
) -> int:
    from vaultsync.daemon.api.events import EventHub
    from vaultsync.daemon.api.server import ApiServer, create_app, listen, serialize_events
    from vaultsync.daemon.api.service import Service

    config = options.config
    try:
        sock = listen(config.api.port)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{config.api.port}: {exc.strerror or exc}"
        ) from None
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(32)
    hub = EventHub()
    service = Service(live, worker, port)
    worker.publish = serialize_events(service, hub.publish)
    server = ApiServer(create_app(service, hub), sock, token, list(config.api.allowed_origins))
    info = state / INFO_NAME
    token_file = state / TOKEN_NAME
    worker.start()
    try:
        _write_private(token_file, token + "\n", 0o600)
        server.start()
        document = {"pid": os.getpid(), "port": port, "vault": str(options.root)}
        _write_private(info, json.dumps({**document, "version": __version__}) + "\n", 0o644)
        _say(
            options,
            out,
            f"API on http://127.0.0.1:{port} (token in {STATE_DIR}/{TOKEN_NAME}); "
            "watching for changes, Ctrl-C to stop",
        )
        while not stop.wait(0.5):
            pass
        _say(options, out, "stopping")
        return 0
    finally:
        worker.stop()  # the batch in flight finishes its writes first
        hub.close()
        server.stop()
        for path in (info, token_file):
            with contextlib.suppress(OSError):
                path.unlink()
