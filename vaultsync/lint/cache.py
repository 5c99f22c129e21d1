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

import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from vaultsync import __version__
from vaultsync.config.settings import Config
from vaultsync.io import statefile
from vaultsync.io.files import file_digest

# 2: symlinked notes are flagged and never cached; 3: records packed by column; 4: each
# note pickled on its own, so saving after an edit re-pickles that note, not the vault;
# 5: an index of the rows first, their bytes after it, so one row can be read alone;
# 6: a link keeps where its target starts, not the target's whole span; 7: a note keeps
# what is still open at its end (ParsedNote.unclosed); 8: a link says whether it sits in
# a `%%` comment, and math and comments are read anew (issue 17); 9: a link says whether
# it sits in a table row; 10: a fence in a quote ends only at its own quote depth
FORMAT = 10
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


# size, mtime_ns, digest, and where the row's pickled packed entry lies: (offset, length)
# in the file's tail, or offset -1 for a row stored by this run (its bytes in `fresh`).
CacheRow = tuple[int, int, str, int, int]
# A row for `save_parts`: path, stat, digest and the length of its bytes in a part file.
PartRow = tuple[str, os.stat_result, str, int]


# Earlier versions of changed rows are kept (a check from a snapshot needs each changed
# note as the snapshot saw it, though `fix` may have cached a newer one since): up to
# this many versions of a note, for up to this many notes.
_VERSIONS_KEPT = 3
_NOTES_WITH_VERSIONS = 64


def notes_path(root: Path) -> Path:
    """Where the parse cache of the vault at `root` is kept."""
    return root / CACHE_DIR / NOTES_FILE


class NoteCache:
    """Parsed notes from the last run, by vault path.

    The file is an index (path -> CacheRow) followed by the rows' bytes. Loading reads
    the index; the rows are read all at once when first needed, or one at a time with
    `lazy` (a check from a snapshot reads a handful of the vault's notes).
    """

    def __init__(self, root: Path, config: Config, enabled: bool, lazy: bool = False) -> None:
        self.root = root
        self.enabled = enabled and config.cache
        self.stamp = _stamp(config)
        self.rows: dict[str, CacheRow] = {}
        # Per note, the rows it had before (newest last), for `earlier`.
        self.versions: dict[str, list[CacheRow]] = {}
        self.fresh: dict[str, bytes] = {}
        self.written_at = 0.0
        self.dirty = False
        self._lazy = lazy
        self._file: BinaryIO | None = None
        self._reading = threading.Lock()
        self._tail_start = 0
        self._tail: bytes | None = None
        if self.enabled:
            self._load()

    @property
    def path(self) -> Path:
        return notes_path(self.root)

    def _load(self) -> None:
        found = statefile.load_head(self.path, ALLOWED_GLOBALS)
        if found is None:
            return
        document, handle = found
        try:
            if document.get("stamp") != self.stamp:
                raise ValueError("another version's cache")
            rows = document["rows"]
            versions = document["versions"]
            written_at = float(document["written_at"])
            if not isinstance(rows, dict) or not isinstance(versions, dict):
                raise ValueError("no rows")
        except (KeyError, TypeError, ValueError):
            handle.close()
            return
        self.rows = rows
        self.versions = versions
        self.written_at = written_at
        self._file = handle
        self._tail_start = handle.tell()

    def blob(self, path: str, row: CacheRow | None = None) -> bytes | memoryview | None:
        """The pickled packed entry of `path`'s row (or of one of its earlier `row`s);
        None if it cannot be read."""
        if row is None:
            fresh = self.fresh.get(path)
            if fresh is not None:
                return fresh
        try:
            _size, _mtime, _digest, offset, length = self.rows[path] if row is None else row
            if offset < 0:
                return None  # a fresh row that is no longer the note's
            if self._tail is None and not self._lazy:
                self._tail = self._read_tail()
            if self._tail is not None:
                data: bytes | memoryview = memoryview(self._tail)[offset : offset + length]
            elif self._file is not None:
                # One read at a time: the daemon's notes are rows until read, from
                # whichever thread reads them, and a seek and its read go together.
                with self._reading:
                    self._file.seek(self._tail_start + offset)
                    data = self._file.read(length)
            else:
                return None  # closed, or there was no file to read
        except (KeyError, TypeError, ValueError, OSError):
            return None
        return data if len(data) == length else None

    def _read_tail(self) -> bytes | None:
        if self._file is None:
            return None
        try:
            self._file.seek(self._tail_start)
            return self._file.read()
        finally:
            self._file.close()
            self._file = None

    def lookup(self, path: str, location: str, stat: os.stat_result) -> tuple[Any, ...] | None:
        """The packed entry for `path` if the file is unchanged since it was cached."""
        row = self.rows.get(path)
        if row is None:
            return None
        try:
            size, mtime_ns, digest, offset, length = row
            racy = mtime_ns / 1e9 >= self.written_at - _RACY_SECONDS
        except (TypeError, ValueError):
            return None
        if size != stat.st_size or mtime_ns != stat.st_mtime_ns or racy:
            if file_digest(location) != digest:
                return None
            # The same bytes under a new stat (a file written back as it was): the row
            # as it was stays findable by its old stat, for a snapshot that saw that one.
            self._keep_version(path, row)
            self.rows[path] = (stat.st_size, stat.st_mtime_ns, digest, offset, length)
            self.dirty = True
        return self.unpack(path)

    def earlier(self, path: str, size: int, mtime_ns: int) -> CacheRow | None:
        """The row `path` had when its file had this size and mtime, if still kept."""
        current = self.rows.get(path)
        for row in [*self.versions.get(path, ()), *([current] if current else [])]:
            if tuple(row[:2]) == (size, mtime_ns):
                found: CacheRow = row
                return found
        return None

    def unpack(self, path: str, row: CacheRow | None = None) -> tuple[Any, ...] | None:
        """`path`'s packed entry as cached (whatever its file is now), or as cached in one
        of its earlier `row`s; None if damaged."""
        blob = self.blob(path, row)
        if blob is None:
            return None
        try:
            packed = statefile.loads(blob, ALLOWED_GLOBALS)
        except Exception:  # a damaged row is one note parsed again
            return None
        if not isinstance(packed, tuple) or not packed or packed[0] != path:
            return None
        return packed

    def save_parts(self, rows: Sequence[PartRow], parts: Sequence[Path]) -> None:
        """Save a parse cache of just `rows`, whose pickled packed entries lie one after
        another in the files `parts` (as shards.py writes them): their bytes are copied
        into the cache file, never all held in memory. What this cache held is dropped."""
        placed: dict[str, CacheRow] = {}
        offset = 0
        for path, stat, digest, length in rows:
            placed[path] = (stat.st_size, stat.st_mtime_ns, digest, offset, length)
            offset += length
        try:
            if sum(part.stat().st_size for part in parts) != offset:
                return  # not what was written there: no cache rather than a wrong one
        except OSError:
            return
        document = {"stamp": self.stamp, "written_at": time.time(), "rows": placed, "versions": {}}
        if statefile.save(self.path, document, tail=parts):
            self.rows, self.versions, self.fresh = placed, {}, {}
            self.dirty = False

    def store(self, path: str, stat: os.stat_result, digest: str, packed: tuple[Any, ...]) -> None:
        self.store_blob(path, stat, digest, statefile.dumps(packed))

    def store_blob(self, path: str, stat: os.stat_result, digest: str, blob: bytes) -> None:
        """`store`, with the packed entry already pickled (`statefile.dumps`)."""
        previous = self.rows.get(path)
        if previous is not None:
            self._keep_version(path, previous)
        self.rows[path] = (stat.st_size, stat.st_mtime_ns, digest, -1, len(blob))
        self.fresh[path] = blob
        self.dirty = True

    def _keep_version(self, path: str, row: CacheRow) -> None:
        """Keep `row`, about to be replaced, as an earlier version of `path` (`earlier`);
        not a row stored by this run, whose bytes are about to go."""
        if path not in self.fresh:
            versions = self.versions.setdefault(path, [])
            versions.append(row)
            del versions[:-_VERSIONS_KEPT]

    def retain(self, paths: set[str]) -> None:
        """Forget notes that are gone."""
        stale = self.rows.keys() - paths
        for path in stale:
            del self.rows[path]
            self.fresh.pop(path, None)
            self.versions.pop(path, None)
        self.dirty = self.dirty or bool(stale)

    def save(self) -> None:
        if not self.enabled or not self.dirty:
            return
        chunks: list[bytes | memoryview] = []
        offset = 0

        def place(row: CacheRow, blob: bytes | memoryview) -> CacheRow:
            nonlocal offset
            placed = (row[0], row[1], row[2], offset, len(blob))
            chunks.append(blob)
            offset += len(blob)
            return placed

        rows: dict[str, CacheRow] = {}
        for path, row in self.rows.items():
            blob = self.blob(path)
            if blob is not None:  # else unreadable: parsed again next time
                rows[path] = place(row, blob)
        versions: dict[str, list[CacheRow]] = {}
        # Many changed notes (a branch switched, a whole `fix`): no earlier versions kept.
        if len(self.versions) <= _NOTES_WITH_VERSIONS:
            for path, earlier in self.versions.items():
                kept = [(r, self.blob(path, r)) for r in earlier]
                placed = [place(r, blob) for r, blob in kept if blob is not None]
                if placed:
                    versions[path] = placed
        document = {
            "stamp": self.stamp,
            "written_at": time.time(),
            "rows": rows,
            "versions": versions,
        }
        if statefile.save(self.path, document, tail=chunks):
            self.dirty = False

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
