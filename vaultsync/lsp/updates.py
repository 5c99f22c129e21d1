"""What each change does to the live vaults, and the diagnostics it publishes.

Published: every open note, after each change to its buffer; the notes whose diagnostics
a note's changes may have changed (their backlinks sections, links into its headings,
spellings and aliases), when it is saved or closed, or changes on disk; and, once
published with problems, a note again when they go away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from functools import partial

from lsprotocol import types

from vaultsync.core.text import nfc
from vaultsync.daemon.lifecycle import release_memory
from vaultsync.daemon.live import Update
from vaultsync.lsp.buffers import Buffer, Buffers, outline, sync
from vaultsync.lsp.diagnostics import to_lsp
from vaultsync.lsp.disk import DiskWatcher
from vaultsync.lsp.positions import Text
from vaultsync.lsp.scheduler import Scheduler
from vaultsync.lsp.vaults import Folder, Vaults

log = logging.getLogger("vaultsync.lsp")

Publish = Callable[[types.PublishDiagnosticsParams], None]
# Notes refreshed per step of a refresh; a buffer's check can run between two steps.
_STEP = 64


class Updates:
    def __init__(
        self, vaults: Vaults, buffers: Buffers, publish: Publish, show: Callable[[str], None]
    ) -> None:
        self.vaults = vaults
        self.buffers = buffers
        self._publish = publish
        self._show = show  # a message the user should see (a vault that cannot be indexed)
        self.scheduler = Scheduler(self._check)
        self._disk_lock = threading.Lock()
        self._on_disk: dict[Folder, set[str]] = {}  # changed files waiting, as named on disk
        self.watcher: DiskWatcher | None = None  # when the client does not report files

    # --- asked for by the protocol thread -----------------------------------------------

    def load_new(self) -> None:
        """Index the vaults nobody asked to index yet."""
        for folder in self.vaults.new_folders():
            if self.watcher is not None:
                self.watcher.watch(folder.root)
            self.scheduler.submit(partial(self._load, folder))

    def changed(self, uri: str) -> None:
        self.scheduler.check(uri)

    def saved(self, uri: str) -> None:
        self.scheduler.submit(lambda: self._saved(uri))

    def closed(self, buffer: Buffer) -> None:
        self.scheduler.submit(lambda: self._closed(buffer))

    def reload(self, folder: Folder) -> None:
        folder.loaded.clear()  # requests wait for the new index
        self.scheduler.submit(lambda: self._load(folder))

    def on_disk(self, folder: Folder, names: Iterable[str]) -> None:
        """Files changed on disk (vault-relative, as named there); taken in together."""
        with self._disk_lock:
            waiting = self._on_disk.get(folder)
            if waiting is None:
                waiting = self._on_disk[folder] = set()
                self.scheduler.submit(lambda: self._disk(folder))
            waiting.update(names)

    # --- done by the scheduler's thread ---------------------------------------------------

    def _load(self, folder: Folder) -> None:
        folder.load()
        if folder.live is None:
            self._show(f"vaultsync: {folder.error}")
            return
        release_memory()  # what indexing freed goes back to the system, as in the daemon
        for buffer in self.buffers.of(folder):
            buffer.applied, buffer.applied_text = None, None
            self._check(buffer.uri)

    def _check(self, uri: str) -> None:
        buffer = self.buffers.get(uri)
        if buffer is None:
            return
        live = buffer.folder.live
        if live is None:
            return  # its vault is being indexed, and then checks every open buffer
        with live.lock:
            self.absorb(buffer)
            if buffer.published != (id(live), live.generation, buffer.applied):
                self.publish(buffer.folder, [buffer.path])

    def absorb(self, buffer: Buffer) -> None:
        """Put the buffer's latest text into the live vault (any thread; once per version),
        noting which other notes that may change."""
        folder, live = buffer.folder, buffer.folder.live
        if live is None:
            return
        with live.lock:
            entry = live.vault.notes.get(buffer.path)
            aliases = entry.aliases if entry is not None else []
            if buffer.outline is None and entry is not None:
                buffer.outline = outline(entry.parsed)  # as saved, before any edit
            update = sync(buffer)
            if update is None:
                return
            touched = folder.touched.setdefault(buffer.path, set())
            touched |= update.affected
            after = live.vault.notes.get(buffer.path)
            if update.variants_changed or (after is not None and after.aliases != aliases):
                folder.variants_touched = True  # L002/L006 of any note may have changed

    def _saved(self, uri: str) -> None:
        buffer = self.buffers.get(uri)
        if buffer is None or buffer.folder.live is None:
            return
        folder, live, path = buffer.folder, buffer.folder.live, buffer.path
        if path not in live.vault.notes and folder.location(path).is_file():
            # Saved for the first time: a new note (the file event may come later).
            self._take_in(folder, [live.location(path)])
        self._check(uri)
        dependents = folder.touched.pop(path, set())
        entry = live.vault.notes.get(path)
        saved = outline(entry.parsed if entry is not None else None)
        if saved != buffer.outline:
            dependents |= set(live.incoming(path))  # links into its headings or blocks
            buffer.outline = saved
        self._refresh(folder, dependents - {path})

    def _closed(self, buffer: Buffer) -> None:
        folder, path = buffer.folder, buffer.path
        self._send(buffer.uri, [], None)  # the editor no longer shows it
        folder.published.discard(path)
        live = folder.live
        if live is None:
            return
        # An unsaved buffer is gone: the live vault takes the file's text back.
        self._take_in(folder, [live.location(path)], folder.touched.pop(path, set()))

    def _disk(self, folder: Folder) -> None:
        with self._disk_lock:
            names = self._on_disk.pop(folder, set())
        if folder.live is None or not names:
            return
        root = folder.root
        shown = {b.path: b for b in self.buffers.of(folder)}
        # While its file exists, an open buffer is the note; the file is what was saved.
        names = {n for n in names if nfc(n) not in shown or not (root / n).is_file()}
        self._take_in(folder, sorted(names))

    def _take_in(
        self, folder: Folder, names: list[str], dependents: set[str] | None = None
    ) -> Update | None:
        """Files changed on disk: the live vault reads them; the notes that may have new
        diagnostics are published."""
        live = folder.live
        if live is None or not names:
            return None
        root = folder.root
        with live.lock:
            files = {f.location for f in live.vault.files}
            # A name that is no file and was none is a folder: its files come and go with it.
            rescan = any(n not in files and not (root / n).is_file() for n in names)
            rescan = rescan or any((root / n).is_dir() for n in names)
            linked = set(dependents or ())
            for name in names:
                rel = folder.relative(str(root / name))
                if rel is not None:
                    linked |= set(live.incoming(rel))  # their links into it may break
            update = live.apply(names, rescan=rescan)
            if update.empty:
                if dependents:
                    self._refresh(folder, dependents)
                return update
            shown = {b.path: b for b in self.buffers.of(folder)}
            for path in update.added | update.removed:
                buffer = shown.get(path)
                if buffer is not None:
                    # Its text went with the file, or comes back with it.
                    buffer.applied, buffer.applied_text = None, None
                    self.scheduler.check(buffer.uri)
            for path in update.removed:
                if path in folder.published and path not in shown:
                    folder.published.discard(path)
                    self._send(folder.uri(path), [], None)
            refresh = linked | update.changed | update.affected
            if update.everything or update.variants_changed:
                refresh |= folder.published | set(shown)
            refresh -= update.removed
            self._refresh(folder, refresh)
            return update

    # --- publishing ---------------------------------------------------------------------

    def _refresh(self, folder: Folder, paths: Iterable[str]) -> None:
        """Publish these notes' diagnostics, a step at a time behind any buffer's check."""
        if folder.variants_touched:
            paths = set(paths) | folder.published | {b.path for b in self.buffers.of(folder)}
            folder.variants_touched = False
        todo = sorted(paths)

        def step() -> None:
            chunk, rest = todo[:_STEP], todo[_STEP:]
            self.publish(folder, chunk)
            if rest:
                todo[:] = rest
                self.scheduler.submit(step, first=True)

        if todo:
            self.scheduler.submit(step, first=True)

    def publish(self, folder: Folder, paths: Iterable[str]) -> None:
        """Send the diagnostics of these notes: open ones always, others when they have
        problems or had some."""
        live = folder.live
        if live is None:
            return
        with live.lock:
            notes = live.vault.notes
            for path in paths:
                buffer = self.buffers.at(folder, path)
                if buffer is not None and buffer.applied_text is None:
                    continue  # not in the live vault yet: its check is on its way
                found = live.diagnostics([path]) if path in notes else []
                if buffer is None and not found and path not in folder.published:
                    continue
                if found:
                    folder.published.add(path)
                else:
                    folder.published.discard(path)
                if buffer is not None and buffer.applied_text is not None:
                    text, version, uri = buffer.applied_text, buffer.applied, buffer.uri
                    buffer.published = (id(live), live.generation, version)
                else:
                    text = self.buffers.text_of(folder, path) or ""
                    version, uri = None, folder.uri(path)
                positions = Text(text)
                self._send(uri, [to_lsp(d, positions) for d in found], version)

    def _send(self, uri: str, diagnostics: list[types.Diagnostic], version: int | None) -> None:
        self._publish(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )
