"""The persistent parse cache in `.vaultsync/cache/` (a warm run re-parses changed notes only).

An entry is reused when the file's size and mtime_ns are what they were when it was
parsed. When they differ, or when the mtime was too close to the moment the cache
was written to be trusted (a write in the same clock tick would look unchanged), the
file is read and its sha256 compared with the cached digest before anything is
reused. The cache is versioned by vaultsync's version, the cache format, Python's
version and the settings that change parsing; any mismatch, truncation or garbage
means it is ignored and rebuilt, never trusted and never a crash.

The file is a pickle, and a vault may come from someone else (a pull request in CI),
so it is read with an unpickler that can build nothing but plain data and dates:
a crafted cache file cannot run code.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any

from vaultsync import __version__, statefile
from vaultsync.config import Config

# 2: symlinked notes are flagged and never cached; 3: records packed by column; 4: each
# note pickled on its own, so saving after an edit re-pickles that note, not the vault
FORMAT = 4
CACHE_DIR = ".vaultsync/cache"
NOTES_FILE = "notes.pickle"
# mtimes this close to the cache's own write time are verified by content hash.
_RACY_SECONDS = 2.0

# Frontmatter values may hold dates; nothing else beyond builtins may be unpickled.
ALLOWED_GLOBALS = {
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
}


def _stamp(config: Config) -> tuple[Any, ...]:
    """What the cached parse results depend on besides the files themselves."""
    return (
        __version__,
        FORMAT,
        sys.version_info[:2],
        config.max_file_size,
    )


CacheRow = tuple[int, int, str, bytes]  # size, mtime_ns, digest, pickled packed entry


class NoteCache:
    """Parsed notes from the last run, by vault path."""

    def __init__(self, root: Path, config: Config, enabled: bool) -> None:
        self.root = root
        self.enabled = enabled and config.cache
        self.stamp = _stamp(config)
        self.rows: dict[str, CacheRow] = {}
        self.written_at = 0.0
        self.dirty = False
        if self.enabled:
            self._load()

    @property
    def path(self) -> Path:
        return self.root / CACHE_DIR / NOTES_FILE

    def _load(self) -> None:
        document = statefile.load(self.path, ALLOWED_GLOBALS)
        if document is None or document.get("stamp") != self.stamp:
            return
        try:
            rows = document["rows"]
            written_at = float(document["written_at"])
        except (KeyError, TypeError, ValueError):
            return
        if not isinstance(rows, dict):
            return
        self.rows = rows
        self.written_at = written_at

    def lookup(self, path: str, location: str, stat: os.stat_result) -> tuple[Any, ...] | None:
        """The packed entry for `path` if the file is unchanged since it was cached."""
        row = self.rows.get(path)
        if row is None:
            return None
        try:
            size, mtime_ns, digest, blob = row
            racy = mtime_ns / 1e9 >= self.written_at - _RACY_SECONDS
        except (TypeError, ValueError):
            return None
        if size != stat.st_size or mtime_ns != stat.st_mtime_ns or racy:
            try:
                with open(location, "rb") as handle:
                    current = hashlib.sha256(handle.read()).hexdigest()
            except OSError:
                return None
            if current != digest:
                return None
            self.rows[path] = (stat.st_size, stat.st_mtime_ns, digest, blob)
            self.dirty = True
        try:
            packed = statefile.loads(blob, ALLOWED_GLOBALS)
        except Exception:  # a damaged row is one note parsed again
            return None
        if not isinstance(packed, tuple) or not packed or packed[0] != path:
            return None
        return packed

    def store(self, path: str, stat: os.stat_result, digest: str, packed: tuple[Any, ...]) -> None:
        self.rows[path] = (stat.st_size, stat.st_mtime_ns, digest, statefile.dumps(packed))
        self.dirty = True

    def retain(self, paths: set[str]) -> None:
        """Forget notes that are gone."""
        stale = self.rows.keys() - paths
        for path in stale:
            del self.rows[path]
        self.dirty = self.dirty or bool(stale)

    def save(self) -> None:
        if not self.enabled or not self.dirty:
            return
        document = {"stamp": self.stamp, "written_at": time.time(), "rows": self.rows}
        if statefile.save(self.path, document):
            self.dirty = False
