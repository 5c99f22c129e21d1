"""Cached `check` results: when no file changed, the last report is the answer.

A warm `check` of an unchanged vault then costs one directory walk and one `stat`
per file plus loading this file, instead of indexing the vault. The key covers
everything a diagnostic can depend on: every vault file's path, size and mtime, the
Obsidian settings and schema files read beside the notes, the configuration, the
rule selection, the paths asked about and vaultsync's own version. Results are not
stored while any file is younger than the mtime granularity can vouch for.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vaultsync import __version__
from vaultsync.config.settings import Config
from vaultsync.core.model import Diagnostic, Edit, Fix, FixKind, Severity, Span
from vaultsync.io import statefile
from vaultsync.io.files import discover
from vaultsync.lint.cache import CACHE_DIR
from vaultsync.rules import Selection
from vaultsync.vault.templates import settings_files

RESULTS_FILE = "results.pickle"
REPORT_FILE = "report.pickle"
GRAPH_FILE = "graph.pickle"  # `vaultsync graph`'s renderings, apart from check's reports
# Renderings kept per results key (e.g. the text report and the JSON one of an editor).
_RENDERS_KEPT = 3
# 2: diagnostics stored as plain tuples; 3: the key stored ahead of them; 4: pickled per
# note, so a check from a snapshot stores the notes it did not check again as they were;
# 5: math and `%%` comments read anew, links in comments quiet by default (issue 17)
FORMAT = 5
_RACY_SECONDS = 2.0
# Diagnostics are stored as plain tuples: unpickling 80,000 dataclass objects goes
# through Python-level __setstate__ and cost half a second on 10,000 notes.
_ALLOWED = {("datetime", "date"), ("datetime", "datetime")}
_FIX_KINDS = {kind.value: kind for kind in FixKind}
# A dict lookup, not Severity(n): an Enum call costs a microsecond, once per diagnostic.
_SEVERITIES = {int(level): level for level in Severity}

FlatDiagnostic = tuple[Any, ...]


def flatten(d: Diagnostic) -> FlatDiagnostic:
    fix = None
    if d.fix is not None:
        fix = (d.fix.applicability.value, tuple((tuple(e.span), e.new_text) for e in d.fix.edits))
    return (d.path, tuple(d.span), d.code, d.message, int(d.severity), d.data, fix)


def rebuild(row: FlatDiagnostic) -> Diagnostic:
    path, span, code, message, severity, data, fix = row
    rebuilt_fix = None
    if fix is not None:
        kind, edits = fix
        rebuilt_fix = Fix(
            _FIX_KINDS[kind], tuple(Edit(tuple.__new__(Span, s), text) for s, text in edits)
        )
    return Diagnostic(
        path, tuple.__new__(Span, span), code, message, _SEVERITIES[severity], data, rebuilt_fix
    )


def pack_by_note(diagnostics: Sequence[Diagnostic]) -> dict[str, bytes]:
    """Each note's diagnostics, flattened and pickled together (notes in order of first
    appearance: report order for a sorted list)."""
    grouped: dict[str, list[FlatDiagnostic]] = {}
    for d in diagnostics:
        rows = grouped.get(d.path)
        if rows is None:
            rows = grouped[d.path] = []
        rows.append(flatten(d))
    return {path: statefile.dumps(rows) for path, rows in grouped.items()}


def unpack_by_note(packed: Iterable[bytes]) -> list[Diagnostic]:
    """The diagnostics `pack_by_note` packed (ValueError, TypeError or KeyError if damaged)."""
    diagnostics: list[Diagnostic] = []
    for blob in packed:
        try:
            rows = statefile.loads(blob, _ALLOWED)
        except Exception as exc:  # a damaged state file is not used
            raise ValueError("damaged diagnostics") from exc
        diagnostics.extend(map(rebuild, rows))
    return diagnostics


def _side_files(root: Path, config: Config) -> list[Path]:
    """Files outside the note set that rules read: Obsidian settings, config, schemas."""
    paths = [
        root / ".obsidian" / "types.json",
        root / ".obsidian" / "app.json",
        *settings_files(root),  # the template folders
        root / ".vaultsync.toml",
    ]
    schema_dir = root / config.schemas.dir
    with contextlib.suppress(OSError):
        paths.extend(sorted(schema_dir.iterdir()))
    return paths


class ResultCache:
    """What a run made of the vault, keyed by the vault's state: a stat of every file, the
    settings and side files the rules read, and the selection (`None`: output that does
    not depend on the rules, such as the link graph, kept in `report_file`)."""

    def __init__(
        self,
        root: Path,
        config: Config,
        selection: Selection | None,
        only: set[str] | None,
        report_file: str = REPORT_FILE,
    ) -> None:
        self.path = root / CACHE_DIR / RESULTS_FILE
        self.report_path = root / CACHE_DIR / report_file
        self.storable = True
        self.complete = True  # every file stat'ed
        digest = hashlib.sha256()
        newest = 0
        header = (
            __version__,
            FORMAT,
            sys.version_info[:2],
            config.fingerprint(),
            None if selection is None else sorted(selection.enabled),
            None
            if selection is None
            else sorted((code, int(level)) for code, level in selection.severities.items()),
        )
        digest.update(repr(header).encode())
        for side in _side_files(root, config):
            try:
                stat = side.stat()
            except OSError:
                digest.update(f"\0{side.name}\0-".encode())
                continue
            newest = max(newest, stat.st_mtime_ns)
            digest.update(f"\0{side}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
        # Everything but the vault's own files and the notes asked about: a snapshot of a
        # whole check (delta.py) taken under the same base key can be brought up to date
        # by looking at which files changed, for the whole vault or some of its notes.
        self.base_key = digest.hexdigest()
        digest.update(repr(None if only is None else sorted(only)).encode())
        # Plain strings, not Path objects: this loop is most of a warm run's time.
        base = os.path.join(str(root), "")
        update = digest.update
        # Kept for engine.load: a run that indexes the vault need not list and stat it again.
        self.files = discover(root, config)
        self.stats: dict[str, os.stat_result] = {}
        for file in self.files:
            try:
                stat = self.stats[file.path] = os.stat(base + file.location)
            except OSError:
                self.storable = self.complete = False
                continue
            mtime = stat.st_mtime_ns
            if mtime > newest:
                newest = mtime
            update(f"\0{file.path}\0{stat.st_size}\0{mtime}".encode())
        self.key = digest.hexdigest()
        # A file written within the mtime granularity could change without its stat
        # changing; results computed now are not reused for such a vault.
        if newest / 1e9 >= time.time() - _RACY_SECONDS:
            self.storable = False

    def load(self) -> tuple[int, list[Diagnostic]] | None:
        """(number of notes, diagnostics) of the last run with this exact key."""
        document = statefile.load(self.path, _ALLOWED, key=self.key)
        if document is None:
            return None
        notes = document.get("notes")
        by_note = document.get("by_note")
        if not isinstance(notes, int) or not isinstance(by_note, dict):
            return None
        try:
            return notes, unpack_by_note(by_note.values())
        except (TypeError, ValueError, KeyError):
            return None

    def save(self, notes: int, diagnostics: Sequence[Diagnostic]) -> None:
        if self.storable:
            self.save_packed(notes, pack_by_note(diagnostics))

    def save_packed(self, notes: int, by_note: dict[str, bytes]) -> None:
        """`save`, for diagnostics already packed by `pack_by_note`."""
        if self.storable:
            statefile.save(self.path, {"notes": notes, "by_note": by_note}, key=self.key)

    def load_report(self, render_key: str) -> tuple[str, int] | None:
        """(report text, worst severity shown or -1) rendered by the last run with this key.

        The report is a pure function of the diagnostics and the rendering options in
        `render_key`, so an unchanged vault is answered without rebuilding a single
        diagnostic: the warm path costs a walk, a stat per file and this read.
        """
        found = self.load_report_bytes(render_key)
        if found is None:
            return None
        try:
            return found[0].decode("utf-8", "surrogatepass"), found[1]
        except UnicodeDecodeError:
            return None

    def load_report_bytes(self, render_key: str) -> tuple[bytes, int] | None:
        """`load_report`, its text still encoded (UTF-8): for a writer that takes bytes."""
        document = statefile.load(self.report_path, frozenset(), key=self.key)
        if document is None:
            return None
        renders = document.get("renders")
        found = renders.get(render_key) if isinstance(renders, dict) else None
        if not (
            isinstance(found, tuple)
            and len(found) == 2
            and isinstance(found[0], bytes)
            and isinstance(found[1], int)
        ):
            return None
        try:
            return zlib.decompress(found[0]), found[1]
        except zlib.error:
            return None

    def save_report(self, render_key: str, text: str | Sequence[str], worst: int) -> None:
        """Keep the report `text` (or the pieces it is made of) for `load_report`."""
        if not self.storable:
            return
        document = statefile.load(self.report_path, frozenset(), key=self.key)
        renders: dict[str, tuple[bytes, int]] = {}
        if document is not None:
            kept = document.get("renders")
            if isinstance(kept, dict):
                renders = {k: v for k, v in kept.items() if k != render_key}
        while len(renders) >= _RENDERS_KEPT:
            renders.pop(next(iter(renders)))  # the oldest rendering goes first
        # Compressed: a JSON report of 10,000 notes is 26 MB as text, 3 MB this way, and
        # level 1 costs less to write than the bytes it saves. Piece by piece: the text
        # of 100,000 notes' report is never encoded whole.
        compressor = zlib.compressobj(1)
        chunks = [
            compressor.compress(piece.encode("utf-8", "surrogatepass"))
            for piece in ([text] if isinstance(text, str) else text)
        ]
        chunks.append(compressor.flush())
        renders[render_key] = (b"".join(chunks), worst)
        statefile.save(self.report_path, {"renders": renders}, key=self.key)
