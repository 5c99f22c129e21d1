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
    from vaultsync.daemon.live import LiveVault
    from vaultsync.daemon.watch import Worker

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
    from watchdog.observers import Observer

    from vaultsync.daemon.live import LiveVault
    from vaultsync.daemon.watch import FsEvent, Handler, Worker

    root, config = options.root, options.config
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        started = time.perf_counter()
        writer.clean_temp_files(root)
        _say(options, out, f"indexing {root}")
        events: queue.Queue[FsEvent | None] = queue.Queue()
        observer = None
        if not options.once:
            # Watch before indexing: a save made meanwhile is queued, not missed. (With
            # the observer's thread running, the index is also parsed in this process
            # alone, not shared with forked copies: fork() is unsafe with threads, and
            # records sent back from a child take ~30% more memory.)
            observer = Observer()
            observer.schedule(Handler(root, events), str(root), recursive=True)
            observer.start()
        live = LiveVault(root, config, options.selection, use_cache=False)
        fix_selection = Selection.build(config.watch.fix, [], dict(config.severity))
        worker = Worker(
            live,
            fix_selection,
            config.watch.debounce_ms,
            config.watch.follow_renames,
            publish=lambda event, data: None,
            events=events,
        )
        with worker.write_lock:
            written = worker.settle(set(live.vault.notes))
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
        assert observer is not None
        try:
            return _listen(options, state, out, live, worker, stop)
        finally:
            observer.stop()
            observer.join(5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
