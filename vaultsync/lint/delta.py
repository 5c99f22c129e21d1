"""A check after a few edits: re-check only the notes those edits can touch.

A whole-vault `check` with the cache on leaves a snapshot beside its results: every
file's size and mtime, the backlink map, which notes link into which by heading or
block, the notes holding index blocks, every note's aliases, the counts behind
canonical spellings, the text report's lines note by note, and (in files of their own)
every note's diagnostics and, once a JSON report was asked for, its JSON records. A
later check of the same files, configuration and rule selection, in which only a few
notes changed, starts from it:

- the changed notes are read and parsed; every other note stays a row of the parse
  cache, unpacked only if a rule reads it (a heading a re-checked link points into);
- the notes checked again are the ones the daemon (live.py) checks again after a save:
  the changed notes, the notes linking into one of them by heading or block, the notes
  that gained or lost one of them as a backlink, and the notes holding index blocks;
- the notes not checked again keep their diagnostics: a text or JSON report is the
  snapshot's with the changed notes' lines or records replaced, other reports rebuild
  from the stored diagnostics;
- whatever a few edits could change across the vault makes it a full check instead: a
  file added, removed or renamed, an attachment or a setting changed, an alias changed,
  a canonical spelling changed, a note unreadable, or more changed notes than pays.

Only full checks write the snapshot, together with the parse cache rows it describes;
each use first makes sure the two still agree, so a `fix` or `graph` run in between
(which refresh the parse cache) cannot make it answer for notes it did not see.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from vaultsync.config.settings import Config
from vaultsync.core.errors import NotWarm
from vaultsync.core.model import Diagnostic
from vaultsync.io import statefile
from vaultsync.io.files import VaultFile, file_digest
from vaultsync.lint.cache import ALLOWED_GLOBALS, CACHE_DIR, CacheRow, NoteCache
from vaultsync.lint.codec import unpack_entry
from vaultsync.lint.engine import check_note
from vaultsync.lint.results import pack_by_note, unpack_by_note
from vaultsync.output.report import (
    fixable,
    json_records,
    json_report,
    text_lines,
    write_text_summary,
)
from vaultsync.rules import Selection
from vaultsync.rules.context import Context
from vaultsync.vault import loaded
from vaultsync.vault.index import DeferredEntry, NoteEntry
from vaultsync.vault.linkmaps import LinkMaps, Tracked
from vaultsync.vault.loaded import Vault, read_entry
from vaultsync.vault.spellings import VariantTracker

SNAPSHOT_FILE = "snapshot.pickle"
DIAGNOSTICS_FILE = "snapshot-diagnostics.pickle"
JSON_FILE = "snapshot-json.pickle"
# 2: diagnostics in a file of their own; 3: spelling counts stored in buckets; 4: the
# report lines kept note by note; 5: how many notes hold a backlinks section; 6: the link
# maps as vault/linkmaps.py keeps them
FORMAT = 6
# More changed notes than this: a full check costs about as much, and is simpler.
_MAX_CHANGED = 64
# Files whose mtime is this close to the snapshot's own writing are taken as changed: a
# write in the same clock tick would not show in their stat.
_RACY_SECONDS = 2.0


def _snapshot_path(root: Path) -> Path:
    return root / CACHE_DIR / SNAPSHOT_FILE


def _diagnostics_path(root: Path) -> Path:
    """The snapshot's diagnostics, apart: a text report from the snapshot never reads them."""
    return root / CACHE_DIR / DIAGNOSTICS_FILE


def _json_path(root: Path) -> Path:
    """The JSON report's records of the snapshot's diagnostics, note by note: read by a
    JSON report alone, and written only once one was asked for (a check with a text
    report does not pay for them)."""
    return root / CACHE_DIR / JSON_FILE


def save(
    root: Path,
    base_key: str,
    vault: Vault,
    stats: dict[str, os.stat_result],
    lines: NoteLines,
    packed: dict[str, bytes],
    linkers: Mapping[str, Iterable[str]] | None = None,
    records: NoteLines | None = None,
) -> None:
    """Leave a snapshot of a whole-vault check for the next check to start from.

    `lines` and `packed`: the check's diagnostics as `note_lines` and
    results.pack_by_note give them. `linkers`: what `linkmaps.linkers_of` gives for every
    note, when worked out already (a vault checked in halves, which holds no note that
    holds index blocks). `records`: their JSON records (`note_lines(..., json_records)`),
    when the check made them for its report.
    """
    notes = vault.notes
    maps = LinkMaps.of_vault(vault, linkers)
    tracker = VariantTracker.of_vault(notes, vault.variants, vault.config.links.canonical)
    token = f"{base_key}:{time.time_ns()}:{os.getpid()}"
    document = {
        "stats": {path: (s.st_size, s.st_mtime_ns) for path, s in stats.items()},
        "written_at": time.time(),
        "notes": len(notes),
        "token": token,
        **_per_note(lines),
        "maps": maps.state(),
        "aliases": {path: entry.aliases for path, entry in notes.items() if entry.aliases},
        "tracker": tracker.state(),
    }
    # Written after the rows it describes (the parse cache is saved by engine.load) and
    # after its diagnostics and records, which carry the same token.
    if records is None:
        with contextlib.suppress(OSError):
            _json_path(root).unlink()  # another snapshot's: never used, only in the way
    else:
        _save_records(root, token, records.order, records.texts)
    if statefile.save(_diagnostics_path(root), {"by_note": packed}, key=(FORMAT, token)):
        statefile.save(_snapshot_path(root), document, key=(FORMAT, base_key))


def _save_records(root: Path, token: str, order: list[str], texts: list[str]) -> None:
    statefile.save(_json_path(root), {"order": order, "texts": texts}, key=(FORMAT, token))


Tally = tuple[int, int, int, int]  # safely fixable problems; problems by severity 0, 1, 2


# How a report renders one note's diagnostics: report.text_lines, report.json_records.
Render = Callable[[list[Diagnostic]], str]


class NoteLines(NamedTuple):
    """A check's report by note (its text lines, or its JSON records): what the snapshot
    keeps of its diagnostics."""

    order: list[str]  # notes with problems, in report (path) order
    texts: list[str]  # each one's lines (or records)
    tallies: list[Tally]  # what each one's lines count


def note_lines(diagnostics: Sequence[Diagnostic], render: Render = text_lines) -> NoteLines:
    """The report's lines of `diagnostics` (sorted), note by note, as `render` renders
    them (the text report's lines unless told)."""
    grouped: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        grouped.setdefault(d.path, []).append(d)
    order = sorted(grouped)
    texts = [render(grouped[path]) for path in order]
    return NoteLines(order, texts, [_tally(grouped[path]) for path in order])


def join_lines(first: NoteLines, second: NoteLines) -> NoteLines:
    """The lines of two checks of disjoint notes, every note of `second` after `first`'s
    in path order (the halves of shards.py)."""
    assert not (first.order and second.order) or first.order[-1] < second.order[0]
    return NoteLines(
        first.order + second.order, first.texts + second.texts, first.tallies + second.tallies
    )


def text_report(lines: NoteLines, quiet: bool) -> tuple[list[str], int]:
    """The text report (`report.write_text`) of the diagnostics `lines` were made from,
    in pieces (at 100,000 notes it is tens of MB, never needed whole); and the worst
    severity in it or -1."""
    return _with_summary(lines.texts, _sum_tallies(lines.tallies), quiet)


def json_report_of(records: NoteLines, vault: str, notes: int) -> tuple[list[str], int]:
    """The JSON report (`report.write_json`) of the diagnostics whose JSON records
    `records` are (`note_lines(..., json_records)`), in pieces; and the worst severity
    in it or -1."""
    return _json_with_summary(records.texts, _sum_tallies(records.tallies), vault, notes)


def _with_summary(pieces: list[str], totals: Tally, quiet: bool) -> tuple[list[str], int]:
    """`pieces` of a report and its summary line after them unless `quiet`; and the
    worst severity in it or -1."""
    fixes, *by_level = totals
    summary = io.StringIO()
    if not quiet:
        write_text_summary(summary, sum(by_level), fixes)
    return [*pieces, summary.getvalue()], _worst(totals)


def _json_with_summary(
    records: list[str], totals: Tally, vault: str, notes: int
) -> tuple[list[str], int]:
    """The JSON report of `records` (pieces of `json_records`) and the worst severity in
    it or -1."""
    fixes, *by_level = totals
    return json_report(vault, notes, records, by_level, fixes), _worst(totals)


def _worst(totals: Tally) -> int:
    _fixes, *by_level = totals
    return max((level for level, count in enumerate(by_level) if count), default=-1)


def _per_note(lines: NoteLines) -> dict[str, Any]:
    """The text report's lines note by note, with what they count: a later check prints
    the notes it did not check again by cutting the changed notes' lines out of it,
    without rebuilding a single diagnostic. Kept by note, not joined: at 100,000 notes
    the joined text and its pickled copy were 94 MB more at the peak of a check."""
    return {
        "texts": lines.texts,
        "order": lines.order,
        "tallies": lines.tallies,
        "totals": _sum_tallies(lines.tallies),
    }


def _tally(diagnostics: Sequence[Diagnostic]) -> Tally:
    by_level = Counter(int(d.severity) for d in diagnostics)
    return fixable(diagnostics), by_level[0], by_level[1], by_level[2]


def _sum_tallies(tallies: Iterable[Tally], sign: int = 1, start: Tally = (0, 0, 0, 0)) -> Tally:
    fixes, info, warning, error = start
    for more_fixes, more_info, more_warning, more_error in tallies:
        fixes += sign * more_fixes
        info += sign * more_info
        warning += sign * more_warning
        error += sign * more_error
    return fixes, info, warning, error


def discard(root: Path) -> None:
    """Forget the snapshot (a full check that cannot leave a new one)."""
    for path in (_snapshot_path(root), _diagnostics_path(root), _json_path(root)):
        with contextlib.suppress(OSError):
            path.unlink()


@dataclass
class _Lines:
    """The snapshot's check by note (see `_per_note`): which notes have problems, and
    what each one's lines count; the lines themselves are the snapshot's (text) or in a
    file of their own (JSON records)."""

    order: list[str]  # notes with problems, in report (path) order
    tallies: list[Tally]  # what each note's lines count
    totals: Tally

    def lines_of(self, path: str) -> tuple[int, Tally | None]:
        """Where `path`'s lines are, or would go, in `order`; and their tally if it has
        any."""
        i = bisect_left(self.order, path)
        if i < len(self.order) and self.order[i] == path:
            return i, self.tallies[i]
        return i, None


class Unusable(NotWarm):
    """The snapshot cannot answer for the vault as it is now: check it whole."""


@dataclass
class Recheck:
    """A check answered from the snapshot: the notes whose diagnostics stand, kept as the
    snapshot has them, and the diagnostics of the notes checked again."""

    notes: int  # notes in the vault
    kept: list[str]  # notes whose diagnostics stand (those with any), in report order
    lines: _Lines  # the snapshot's notes with problems
    texts: list[str]  # their text report's lines, note by note
    stale: set[str]  # notes whose diagnostics the snapshot has no longer right
    only: set[str] | None  # the notes asked about; None: all
    fresh: dict[str, list[Diagnostic]]  # note checked again -> its diagnostics, sorted
    stored: Callable[[], dict[str, bytes] | None]  # the snapshot's packed diagnostics
    # The snapshot's JSON records by note, if it has them; and keeping them for it.
    records: Callable[[], list[str] | None]
    keep_records: Callable[[list[str]], None]
    # The vault as it is now, when one was made: unchanged notes are their parse-cache
    # rows, unpacked when read (a damaged row raises Unusable then).
    tracked: Tracked | None = None

    def _order(self) -> list[str]:
        # Reports sort by path first: whole notes in path order are report order.
        return sorted({*self.kept, *(p for p, found in self.fresh.items() if found)})

    def _kept(self) -> dict[str, bytes]:
        stored = self.stored()
        if stored is None or list(stored) != self.lines.order:
            raise Unusable("the snapshot's diagnostics are gone or another check's")
        return stored

    def diagnostics(self) -> list[Diagnostic]:
        """Every diagnostic, in report order (Unusable: the snapshot cannot say)."""
        kept = self._kept()
        found: list[Diagnostic] = []
        for path in self._order():
            fresh = self.fresh.get(path)
            found.extend(fresh if fresh is not None else unpack_by_note([kept[path]]))
        return found

    def packed(self) -> dict[str, bytes]:
        """All diagnostics as `pack_by_note` packs them, the kept ones as they were."""
        kept = self._kept()
        fresh = pack_by_note([d for found in self.fresh.values() for d in found])
        return {path: fresh[path] if path in fresh else kept[path] for path in self._order()}

    def text_report(self, quiet: bool) -> tuple[str, int]:
        """The text report (`report.write_text`), and the worst severity in it or -1."""
        pieces, totals = self._spliced(self.texts, text_lines)
        report, worst = _with_summary(pieces, totals, quiet)
        return "".join(report), worst

    def json_report(self, vault: str) -> tuple[list[str], int]:
        """The JSON report (`report.write_json`) in pieces, and the worst severity in it
        or -1 (Unusable: the snapshot cannot say). The snapshot's records of its notes
        are rendered from its diagnostics the first time a JSON report asks for them."""
        records = self.records()
        if records is None:
            kept = self._kept()
            records = [json_records(unpack_by_note([kept[path]])) for path in self.lines.order]
            self.keep_records(records)
        pieces, totals = self._spliced(records, json_records)
        return _json_with_summary(pieces, totals, vault, self.notes)

    def _spliced(self, texts: list[str], render: Render) -> tuple[list[str], Tally]:
        """The report's lines (or records) in pieces, and what they count: the snapshot's
        `texts` (note by note, in `lines.order`) of the notes not checked again, and the
        notes checked again rendered by `render`."""
        lines = self.lines
        pieces: list[str] = []
        if self.only is None:
            # The snapshot's report with each stale note's lines replaced by its new ones.
            totals = lines.totals
            done = 0
            for path in sorted(self.stale):
                at, tally = lines.lines_of(path)
                pieces.extend(texts[done:at])
                done = at
                if tally is not None:
                    done += 1
                    totals = _sum_tallies([tally], -1, totals)
                totals = self._add_fresh(path, pieces, totals, render)
            pieces.extend(texts[done:])
        else:
            totals = (0, 0, 0, 0)
            for path in sorted({*self.kept, *self.fresh}):
                if path in self.fresh:
                    totals = self._add_fresh(path, pieces, totals, render)
                    continue
                at, tally = lines.lines_of(path)
                assert tally is not None  # `_answer` made sure every kept note has lines
                pieces.append(texts[at])
                totals = _sum_tallies([tally], 1, totals)
        return pieces, totals

    def _add_fresh(self, path: str, pieces: list[str], totals: Tally, render: Render) -> Tally:
        fresh = self.fresh.get(path)
        if not fresh:
            return totals
        pieces.append(render(fresh))
        return _sum_tallies([_tally(fresh)], 1, totals)


class _CachedRow:
    """The source of an unchanged note (an `EntrySource`): its parse-cache row, in the
    current row of the cache or in an earlier `row` of it. A damaged row raises
    `Unusable`: nothing from this snapshot is trusted then."""

    __slots__ = ("cache", "row")

    def __init__(self, cache: NoteCache, row: CacheRow | None) -> None:
        self.cache = cache
        self.row = row

    def load(self, path: str) -> NoteEntry:
        packed = self.cache.unpack(path, self.row)
        if packed is None:
            raise Unusable(f"cache row of {path}")
        entry = unpack_entry(packed)
        if entry.parsed is None:
            raise Unusable(f"cache row of {path}")
        return entry

    def __repr__(self) -> str:
        return f"<cache row {self.row!r}>"


def recheck(
    root: Path,
    config: Config,
    selection: Selection,
    base_key: str,
    listing: tuple[list[VaultFile], dict[str, os.stat_result]],
    only: set[str] | None = None,
) -> Recheck | None:
    """A check of the vault, or of the notes in `only`, answered from the snapshot;
    None: check it all.

    `listing`: the vault's files and their stats, just taken.
    """
    document = statefile.load(_snapshot_path(root), ALLOWED_GLOBALS, key=(FORMAT, base_key))
    if document is None:
        return None
    files, stats = listing
    try:
        return _recheck(root, config, selection, files, stats, document, only)
    except (Unusable, KeyError, TypeError, ValueError, AttributeError):
        return None


def _changed_notes(
    files: list[VaultFile],
    stats: dict[str, os.stat_result],
    seen: dict[str, tuple[int, int]],
    written_at: float,
    cache: NoteCache,
    root: Path,
) -> list[VaultFile]:
    """The notes changed since the snapshot (Unusable: more than that changed).

    A note whose stat is the one the snapshot saw, but which was written so close to the
    snapshot that a later write could hide in the same clock tick, is changed unless its
    bytes are still the ones the snapshot's check read (their hash, as its parse-cache
    row has it): the notes a `fix` just wrote are not all changed to the next check."""
    if len(seen) != len(stats) or len(stats) != len(files):
        raise Unusable("the file set changed")  # or a file could not be stat'ed
    changed = []
    newest = (written_at - _RACY_SECONDS) * 1e9
    for file in files:
        stat = stats[file.path]
        size, mtime = seen[file.path]  # KeyError: a file the snapshot never saw
        same_stat = size == stat.st_size and mtime == stat.st_mtime_ns
        if same_stat and (mtime < newest or _same_bytes(root, file, (size, mtime), cache)):
            continue
        if not file.is_note:
            raise Unusable(f"attachment changed: {file.path}")
        changed.append(file)
        if len(changed) > _MAX_CHANGED:
            raise Unusable("too many notes changed")
    return changed


def _same_bytes(root: Path, file: VaultFile, seen: tuple[int, int], cache: NoteCache) -> bool:
    """Whether the note still has the bytes its parse-cache row for the stat `seen` (the
    snapshot's) was made from."""
    if not file.is_note:
        return False
    row = cache.rows.get(file.path)
    if row is None or tuple(row[:2]) != seen:
        return False
    return file_digest(root / file.location) == row[2]


def _recheck(
    root: Path,
    config: Config,
    selection: Selection,
    files: list[VaultFile],
    stats: dict[str, os.stat_result],
    document: dict[str, Any],
    only: set[str] | None,
) -> Recheck:
    seen: dict[str, tuple[int, int]] = document["stats"]
    written_at = float(document["written_at"])
    cache = NoteCache(root, config, enabled=True, lazy=True)
    keep_open = False
    try:
        changed = _changed_notes(files, stats, seen, written_at, cache, root)
        if not changed:  # the results went missing, say: the snapshot is the answer
            return _answer(root, document, set(), only, {})
        answer = _recheck_notes(root, config, selection, files, document, changed, cache, only)
        # Open while its vault (`Recheck.tracked`) lives: a fix going on from it unpacks
        # its unchanged notes from the cache as it reads them.
        keep_open = True
        return answer
    finally:
        if not keep_open:
            cache.close()


def _recheck_notes(
    root: Path,
    config: Config,
    selection: Selection,
    files: list[VaultFile],
    document: dict[str, Any],
    changed: list[VaultFile],
    cache: NoteCache,
    only: set[str] | None,
) -> Recheck:
    edited = _edited_vault(root, config, files, document, changed, cache)
    notes = edited.vault.notes
    context = Context(edited.vault, selection)
    fresh: dict[str, list[Diagnostic]] = {}
    for path in edited.stale if only is None else edited.stale & only:
        entry = notes.get(path)
        if entry is not None and not entry.excluded:
            found = check_note(context, entry)
            found.sort(key=Diagnostic.sort_key)  # stable: as engine.check orders them
            fresh[path] = found
    answer = _answer(root, document, edited.stale, only, fresh)
    answer.tracked = edited.tracked
    return answer


@dataclass
class Edited:
    """The vault as it is now, built from the snapshot and the notes changed since: every
    unchanged note a row of the parse cache (`DeferredEntry`), unpacked when read."""

    vault: Vault  # seeded with `maps`
    maps: LinkMaps  # brought up to date with the changed notes
    tracker: VariantTracker  # the canonical spellings' counts, as of now
    stale: set[str]  # notes whose diagnostics the snapshot may have no longer right

    @property
    def tracked(self) -> Tracked:
        """The vault with its maps and counts, for a fix that goes on from it."""
        return Tracked(self.vault, self.maps, self.tracker)


def _edited_vault(
    root: Path,
    config: Config,
    files: list[VaultFile],
    document: dict[str, Any],
    changed: list[VaultFile],
    cache: NoteCache,
) -> Edited:
    """The snapshot's vault with the `changed` notes read again (Unusable: whatever few
    edits could change across the vault changed, see the module's docstring)."""
    seen: dict[str, tuple[int, int]] = document["stats"]
    cached = cache.rows
    current = _CachedRow(cache, None)  # one source for every unchanged note
    aliases: dict[str, list[str]] = document["aliases"]
    changed_paths = {file.path for file in changed}
    notes: dict[str, NoteEntry] = {}
    old: list[NoteEntry] = []
    new: list[NoteEntry] = []
    for file in files:
        if not file.is_note:
            continue
        path = file.path
        if path not in changed_paths:
            if tuple(cached[path][:2]) != seen[path]:
                raise Unusable(f"the parse cache moved on: {path}")
            notes[path] = DeferredEntry(
                path, current, excluded=file.excluded, aliases=aliases.get(path, [])
            )
            continue
        # The note as the snapshot saw it; `fix` (say) may have cached a newer version.
        row = cache.earlier(path, *seen[path])
        if row is None:
            raise Unusable(f"the snapshot's version of {path} is not cached")
        before: NoteEntry = DeferredEntry(
            path, _CachedRow(cache, row), excluded=file.excluded, aliases=aliases.get(path, [])
        )
        after = read_entry(root, file, config.max_file_size)
        if after.parsed is None or after.excluded != file.excluded:
            raise Unusable(f"unreadable or symlinked: {file.path}")
        if after.aliases != before.aliases:
            raise Unusable(f"aliases changed: {file.path}")  # resolution of L006 anywhere
        old.append(before)
        new.append(after)
        notes[file.path] = after

    tracker = VariantTracker.restore(document["tracker"], config.links.canonical)
    if tracker.replace(old, new):
        raise Unusable("a canonical spelling changed")  # L002 of any note may change
    vault = loaded.build(root, config, files, notes, variants=tracker.variants())
    maps = LinkMaps.restore(document["maps"])
    if not new:  # nothing changed since (a process starting from the snapshot)
        maps.seed(vault)
        return Edited(vault, maps, tracker, set())
    stale = maps.edit(vault, old, new)
    if stale is None:
        raise Unusable("the vault's first backlinks section appeared, or its last went")
    return Edited(vault, maps, tracker, stale)


@dataclass
class Start:
    """What a long-running process (the daemon) starts from instead of parsing the
    vault: the vault as it is now (`Edited`), and which notes the snapshot says have a
    problem with a fix."""

    edited: Edited
    cache: NoteCache  # open while the vault lives: its unchanged notes are read from it
    stored: Callable[[], dict[str, bytes] | None]  # the snapshot's packed diagnostics
    fixable: list[str]  # notes not stale whose snapshot diagnostics include a safe fix


def start(
    root: Path,
    config: Config,
    base_key: str,
    listing: tuple[list[VaultFile], dict[str, os.stat_result]],
) -> Start | None:
    """The vault as the snapshot and the notes changed since make it, for a process that
    keeps it (the daemon); None: no snapshot of this vault's files, configuration and
    rule selection (`base_key`, results.ResultCache's) can say (no whole check yet, or too
    much changed since). `listing`: the vault's files and their stats, just taken."""
    document = statefile.load(_snapshot_path(root), ALLOWED_GLOBALS, key=(FORMAT, base_key))
    if document is None:
        return None
    files, stats = listing
    cache = NoteCache(root, config, enabled=True, lazy=True)
    try:
        seen: dict[str, tuple[int, int]] = document["stats"]
        changed = _changed_notes(files, stats, seen, float(document["written_at"]), cache, root)
        edited = _edited_vault(root, config, files, document, changed, cache)
        order, tallies = document["order"], document["tallies"]
        stale = edited.stale
        fixable = [  # strict: ValueError when the report lines disagree
            p for p, tally in zip(order, tallies, strict=True) if tally[0] and p not in stale
        ]
        stored = _stored(root, str(document["token"]))
    except (Unusable, KeyError, TypeError, ValueError, AttributeError):
        cache.close()
        return None
    return Start(edited, cache, stored, fixable)


def _answer(
    root: Path,
    document: dict[str, Any],
    stale: set[str],
    only: set[str] | None,
    fresh: dict[str, list[Diagnostic]],
) -> Recheck:
    texts = document["texts"]
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise Unusable("the snapshot's report lines are damaged")
    lines = _Lines(document["order"], document["tallies"], tuple(document["totals"]))
    if not len(texts) == len(lines.order) == len(lines.tallies):
        raise Unusable("the snapshot's report lines disagree")
    kept = [p for p in lines.order if p not in stale and (only is None or p in only)]
    token = str(document["token"])
    stored = _stored(root, token)

    def records() -> list[str] | None:
        found = statefile.load(_json_path(root), ALLOWED_GLOBALS, key=(FORMAT, token))
        if found is None or found.get("order") != lines.order:
            return None  # none kept yet (a snapshot of a text report), or damaged
        kept_texts = found.get("texts")
        if not isinstance(kept_texts, list) or len(kept_texts) != len(lines.order):
            return None
        return kept_texts if all(isinstance(text, str) for text in kept_texts) else None

    def keep_records(found: list[str]) -> None:
        _save_records(root, token, lines.order, found)

    notes = int(document["notes"])
    return Recheck(notes, kept, lines, texts, stale, only, fresh, stored, records, keep_records)


def _stored(root: Path, token: str) -> Callable[[], dict[str, bytes] | None]:
    """The loader of the packed diagnostics of the snapshot with `token` (read once, on
    first call; None: gone, or another check's)."""
    key = (FORMAT, token)

    @functools.cache
    def stored() -> dict[str, bytes] | None:
        found = statefile.load(_diagnostics_path(root), ALLOWED_GLOBALS, key=key)
        by_note = None if found is None else found.get("by_note")
        return by_note if isinstance(by_note, dict) else None

    return stored
