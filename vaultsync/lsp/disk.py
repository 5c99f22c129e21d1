"""Files changing on disk, for a client that does not report them (watchdog, as the daemon
uses): the editor's own saves, git, another program."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer


class _Handler(FileSystemEventHandler):
    """Passes each changed path on; only enqueues (never blocks the observer's thread)."""

    def __init__(self, changed: Callable[[str], None]) -> None:
        super().__init__()
        self.changed = changed

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":
            return  # a folder's listing changed: its files' own events say how
        self.changed(os.fsdecode(event.src_path))
        dest = getattr(event, "dest_path", "")
        if dest:
            self.changed(os.fsdecode(dest))


class DiskWatcher:
    def __init__(self, changed: Callable[[str], None]) -> None:
        self._handler = _Handler(changed)
        self._observer = Observer()
        self._watched: set[Path] = set()
        self._started = False

    def watch(self, root: Path) -> None:
        if root in self._watched:
            return
        self._watched.add(root)
        self._observer.schedule(self._handler, str(root), recursive=True)
        if not self._started:
            self._observer.daemon = True
            self._observer.start()
            self._started = True

    def stop(self) -> None:
        if self._started:
            self._observer.stop()
