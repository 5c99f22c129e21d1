"""A whole-vault check without the cache, in two processes that each parse and check half.

engine.load and engine.check share the work another way: a forked child parses part of
the vault and sends every parsed note back, and a second child forked after the index
is built checks part of it. On 10,000 notes that left the second core saving a sixth of
the time: the notes sent back are unpacked here, the index and the backlink map are
built here alone, and each checker pays a copy-on-write page fault for every page of
the parsed vault it reads (reference counts are writes).

Here the child is forked before anything is parsed. Each process reads and parses its
half and sends the other a `HalfSummary` of it: what the rules of one note read of another
note, that is its aliases, headings and block ids, how often each link spelling is
written and which notes it links to (its backlink targets, resolved from the file list
alone). Each then builds the same index, variants and backlink map, checks its own
half, and the child sends back its diagnostics: for a plain text report, the report
lines it rendered from them; with the cache, packed as the results keep them and as
report lines note by note (and, for a JSON report, as its JSON records note by note),
its parse cache rows going to a part file the parent copies into the cache file. A
note of the other half is a `DeferredEntry` there whose source is the other half:
reading its parsed note raises `RemoteNote`.

Whatever this cannot answer exactly is left to the classic way (the child's notes are
then parsed again here): a note holding index or unresolved blocks (those list every
note by its properties and links), a rule reading a note of the other half anyway, a
child that fails or results that do not fit their shared memory. The answer is the
same either way; the classic way is only slower.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import signal
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from vaultsync.config.settings import Config
from vaultsync.core.model import Diagnostic
from vaultsync.io.files import VaultFile
from vaultsync.io.writer import alive
from vaultsync.lint import forks
from vaultsync.lint.cache import notes_path
from vaultsync.lint.engine import check_note
from vaultsync.rules import Selection
from vaultsync.rules.context import Context
from vaultsync.vault import loaded
from vaultsync.vault.index import (
    DeferredEntry,
    NoteEntry,
    Outline,
    VaultIndex,
    count_linkpaths,
    find_variants,
    key_all,
)
from vaultsync.vault.loaded import Progress, Vault, read_entry
from vaultsync.vault.sections import (
    backlink_map,
    backlinks_held,
    counts_as_holder,
    holds_blocks,
    seed_backlink_map,
    seed_backlinks_held,
    targets_finder,
)
from vaultsync.vault.templates import template_paths

if TYPE_CHECKING:
    from vaultsync.lint.delta import NoteLines

# Below this many notes, a second process costs more than it saves.
THRESHOLD = 2000

# The parent's share of the notes: a little over half, since the forked child was
# measured finishing each phase later (on the benchmark vault, splitting at a half left
# the parent waiting 0.1-0.3 s for the child's summary).
_FIRST_SHARE = 0.53

# The two processes' signals to each other, a byte each through a pipe.
_SUMMARY = b"S"  # (child) my summary is in the shared memory
_GO_ON = b"C"  # (parent) mine is in yours: check your half
_STOP = b"Q"  # (parent) stop: the check is done the classic way


class RemoteNote(Exception):
    """A note parsed by the other process was read: this check is done the classic way."""


class _Remote:
    """The source of the other half's notes (an `EntrySource`): their parsed notes are
    in the other process, so reading one raises `RemoteNote`. One for every note."""

    def load(self, path: str) -> NoteEntry:
        raise RemoteNote(path)

    def __repr__(self) -> str:
        return "<the other half>"


_REMOTE = _Remote()


class HalfSummary(NamedTuple):
    """What the rules of the other half read of one half's notes (builtins only)."""

    # Per note, in path order: path, error, excluded, bom, digest, name, aliases, outline
    # (None when the note could not be read).
    notes: list[tuple[str, str | None, bool, bool, str, str, list[str], Outline | None]]
    linkpaths: dict[str, int]  # how often each link path is written, first seen first
    keys: dict[str, str]  # link_key of each of those and of the notes' names
    # Per note of the vault, the notes of this half that link to it (its backlinks
    # here, as sections.backlink_map counts them).
    linked_from: dict[str, list[str]]
    holders: bool  # a note holds index or unresolved blocks
    held: int  # how many notes hold a backlinks section (sections.backlinks_held)


class TextPart(NamedTuple):
    """The second half's part of a text report (`report.write_text` without the summary)."""

    text: str  # its diagnostics' lines
    problems: int  # how many diagnostics
    fixable: int  # how many with a safe fix
    worst: int  # the highest severity among them, -1 for none


class CheckedReport(NamedTuple):
    """A check with the cache: its diagnostics as the results and the snapshot keep
    them, put together from both halves without rebuilding the second half's."""

    packed: dict[str, bytes]  # results.pack_by_note of all of them, in report order
    lines: NoteLines  # their text report, note by note
    second: list[bytes]  # the second half's packed diagnostics
    records: NoteLines | None  # their JSON records, note by note, when asked for

    def text(self, quiet: bool) -> tuple[list[str], int]:
        """The text report in pieces, and the worst severity in it or -1."""
        from vaultsync.lint.delta import text_report

        return text_report(self.lines, quiet)

    def json(self, vault: Vault) -> tuple[list[str], int] | None:
        """The JSON report in pieces, and the worst severity in it or -1; None when the
        halves did not render their records (check(json=False))."""
        from vaultsync.lint.delta import json_report_of

        if self.records is None:
            return None
        return json_report_of(self.records, str(vault.root), len(vault.notes))

    def diagnostics(self, first: list[Diagnostic]) -> list[Diagnostic]:
        """Every diagnostic, sorted, given the first half's (sorted)."""
        from vaultsync.lint.results import unpack_by_note

        return first + unpack_by_note(self.second)


class Halves(NamedTuple):
    vault: Vault  # as this process holds it: the other half's notes are not parsed here
    # Sorted; only the first half's when `text` or `report` is set, and none when
    # `report` is set for a plain text or JSON report (check(text=True) or
    # check(json=True)): its lines or records stand in.
    diagnostics: list[Diagnostic]
    text: TextPart | None  # the second half's text report part, when it was asked for
    # linkmaps.linkers_of every note, for the snapshot of a check with the cache
    # (None: the vault holds every note parsed, delta.save works them out itself).
    linkers: dict[str, set[str]] | None = None
    report: CheckedReport | None = None  # a check with the cache: all its diagnostics


class _Job(NamedTuple):
    """What both processes are asked to do."""

    root: Path
    config: Config
    selection: Selection
    files: list[VaultFile]
    text: bool  # only a text report is wanted, and the second half sends its lines
    stats: dict[str, os.stat_result] | None  # with the cache: the notes' stats
    # With the cache: where each half writes its parse cache rows (the first half's, the
    # second's), for the parent to copy into the parse cache file.
    parts: tuple[Path, Path]
    plain: bool  # only a text report is wanted (with the cache or without)
    json: bool  # with the cache, a JSON report is wanted: each half renders its records


class _Part(NamedTuple):
    """A half's parse cache rows, their bytes written one after another to `file`."""

    file: Path
    rows: list[tuple[str, str, int]]  # path, digest, length of its pickled packed entry


class _Results(NamedTuple):
    """The child's results for a check with the cache."""

    packed: dict[str, bytes]  # its diagnostics, results.pack_by_note packed
    lines: NoteLines  # and their text report, note by note
    part: _Part | None  # its parse cache rows (None: they could not be written)
    linkers: dict[str, set[str]]  # linkmaps.linkers_of its notes
    records: NoteLines | None  # their JSON records, note by note (_Job.json)


# The part files of the parse cache (`_Job.parts`), named for the process that made
# them: a run killed before removing its own leaves them to the next run.
_PART_PREFIX = ".notes-part-"


def check(
    root: Path,
    config: Config,
    selection: Selection,
    files: list[VaultFile],
    progress: Progress | None = None,
    text: bool = False,
    stats: dict[str, os.stat_result] | None = None,
    json: bool = False,
) -> Halves | None:
    """`engine.check(engine.load(root, config, use_cache=False), selection)`, sorted, in
    two processes; None when this vault is checked better the classic way (too few
    notes, one core, other threads running).

    `text`: only a text report is wanted; the second half may then come back as its
    report lines (`Halves.text`), which the child renders itself. Every note of the
    second half sorts after every note of the first, so its lines follow theirs.
    `stats`: the files' stats, for a check with the cache (and none yet): the parse
    cache is written as engine.load writes it, and `Halves.linkers` and
    `Halves.report` are given for the results and the snapshot. `json` (with `stats`):
    a JSON report is wanted; each half renders its diagnostics' records for it
    (`CheckedReport.json`), the second half's never rebuilt.
    """
    note_files = [file for file in files if file.is_note]
    if forks.usable(len(note_files), THRESHOLD) < 2:
        return None
    folder = notes_path(root).parent
    parts = (folder / f"{_PART_PREFIX}{os.getpid()}-1", folder / f"{_PART_PREFIX}{os.getpid()}-2")
    if stats is not None:
        _remove_dead_parts(folder)
    job = _Job(root, config, selection, files, text and stats is None, stats, parts, text, json)
    try:
        return _check(job, note_files, progress)
    finally:
        for part in parts:
            with contextlib.suppress(OSError):
                part.unlink()


def _remove_dead_parts(folder: Path) -> None:
    """Remove the part files of runs that were killed before they could."""
    with contextlib.suppress(OSError):
        for leftover in folder.glob(f"{_PART_PREFIX}*"):
            pid = leftover.name[len(_PART_PREFIX) :].partition("-")[0]
            if pid.isdigit() and not alive(int(pid)):
                with contextlib.suppress(OSError):
                    leftover.unlink()


def _check(job: _Job, note_files: list[VaultFile], progress: Progress | None) -> Halves | None:
    split = round(len(note_files) * _FIRST_SHARE)
    mine, theirs = note_files[:split], note_files[split:]
    try:
        up = forks.shared_room(len(theirs))  # the child's summary, then its diagnostics
        down = forks.shared_room(len(mine))  # the parent's summary
    except (OSError, OverflowError, ValueError):
        return None
    from_child, to_parent = os.pipe()
    from_parent, to_child = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        pid = -1
    if pid == 0:  # pragma: no cover - the child ends in os._exit; its work is tested
        os.close(from_child)
        os.close(to_child)
        _child(job, theirs, (up, down), to_parent, from_parent)
    os.close(to_parent)
    os.close(from_parent)
    child = _Child(pid, from_child, to_child)
    try:
        if pid < 0:
            return None
        return _parent(job, mine, theirs, child, (up, down), progress)
    finally:
        child.stop()
        up.close()
        down.close()


class _Child:
    """The forked process of the second half, as the parent sees it."""

    def __init__(self, pid: int, reads: int, writes: int) -> None:
        self.pid = pid  # -1: none was forked
        self.reads = reads  # its signals to the parent
        self.writes = writes  # the parent's to it
        self.status: int | None = None

    def signal(self) -> bytes:
        """The child's next signal; b"" once it is gone."""
        return os.read(self.reads, 1)

    def tell(self, what: bytes) -> None:
        with contextlib.suppress(OSError):  # it is gone: it needs telling nothing
            os.write(self.writes, what)

    def wait(self) -> int:
        """Its exit status, once it has ended (0: it finished its work)."""
        if self.status is None:
            self.status = os.waitpid(self.pid, 0)[1]
        return self.status

    def stop(self) -> None:
        """End it if it still runs (its work is not wanted), and wait for it."""
        if self.pid > 0 and self.status is None:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
            self.wait()
        for fd in (self.reads, self.writes):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.reads = self.writes = -1


class _Half(NamedTuple):
    """One half of the vault as the process holding it has read it (and its `HalfSummary`,
    kept apart: what the vault built from it does not keep can then go)."""

    entries: list[NoteEntry]  # its notes, parsed
    file_index: VaultIndex  # the files alone indexed, which resolved its links


def _read_half(
    root: Path,
    config: Config,
    files: list[VaultFile],
    half: Sequence[VaultFile],
    progress: Progress | None = None,
    total: int = 0,
) -> tuple[_Half, HalfSummary]:
    """Read and parse one half's notes, and summarise them for the other half."""
    max_size = config.max_file_size
    entries = []
    for i, file in enumerate(half, 1):
        entries.append(read_entry(root, file, max_size))
        if progress is not None and i % 256 == 0:
            progress(min(2 * i, total), total)  # the other half keeps pace
    index = VaultIndex(files, {})  # resolution reads the file list alone
    note_paths = {file.path for file in files if file.is_note}
    targets_of = targets_finder(config.backlinks.exclude, index, note_paths)
    notes: list[tuple[str, str | None, bool, bool, str, str, list[str], Outline | None]] = []
    linked_from: dict[str, list[str]] = defaultdict(list)
    holders = False
    held = 0
    skip = template_paths(root, config, files)
    for entry in entries:
        parsed = entry.parsed
        outline: Outline | None = None
        if parsed is not None:
            outline = [(h.level, h.text) for h in parsed.headings], [b.id for b in parsed.blocks]
            for target in targets_of(entry.path, parsed):
                linked_from[target].append(entry.path)
            holders = holders or holds_blocks(parsed)
            held += counts_as_holder(entry.path, entry, skip)
        row = (entry.path, entry.error, entry.excluded, entry.bom, entry.digest)
        notes.append((*row, entry.name, entry.aliases, outline))
    parsed_notes = (entry.parsed for entry in entries if entry.parsed is not None)
    counted = count_linkpaths(chain.from_iterable(parsed.links for parsed in parsed_notes))
    # Keyed here, where the other half is keying its own at the same time.
    keys = key_all(chain(counted, (entry.name for entry in entries)))
    summary = HalfSummary(notes, dict(counted), keys, dict(linked_from), holders, held)
    return _Half(entries, index), summary


def _vault(job: _Job, own: _Half, summaries: tuple[HalfSummary, HalfSummary], first: bool) -> Vault:
    """The vault as this process holds it: its own half's notes parsed, the others
    remote. Index, variants and backlink map come out as loaded.build and
    sections.backlink_map make them from the whole vault.

    `summaries`: this half's and the other's; `first`: whether this process holds the
    first half of the notes (in path order).
    """
    root, config, files = job.root, job.config, job.files
    mine, other = summaries
    remote: dict[str, NoteEntry] = {}
    outlines: dict[str, Outline] = {}
    for path, error, excluded, bom, digest, name, aliases, outline in other.notes:
        if outline is None:
            remote[path] = NoteEntry(path, None, error, excluded, bom, digest)
            continue
        # Name and aliases as the other half has worked them out already.
        entry = DeferredEntry(
            path,
            _REMOTE,
            excluded=excluded,
            aliases=aliases,
            name=name,
            read=(error, bom, digest),
        )
        remote[path] = entry
        outlines[path] = outline
    held = {entry.path: entry for entry in own.entries}
    notes = {f.path: held.get(f.path) or remote[f.path] for f in files if f.is_note}
    index = own.file_index
    index.give_notes(notes)
    index.outlines.update(outlines)
    # Counted half by half, merged in note order: first appearances stay in order.
    halves = (mine, other) if first else (other, mine)
    counted = Counter(halves[0].linkpaths)
    counted.update(halves[1].linkpaths)
    keys = {**halves[0].keys, **halves[1].keys}
    variants = find_variants(notes, counted, config.links.canonical, keys)
    vault = loaded.build(root, config, files, notes, index=index, variants=variants)
    first_half, second_half = halves[0].linked_from, halves[1].linked_from
    backlinks = {
        target: frozenset(sources)
        if (more := second_half.get(target)) is None
        else frozenset(chain(sources, more))
        for target, sources in first_half.items()
    }
    for target, sources in second_half.items():
        if target not in first_half:
            backlinks[target] = frozenset(sources)
    seed_backlink_map(vault, backlinks)
    seed_backlinks_held(vault, mine.held + other.held)
    return vault


def _check_half(
    vault: Vault, selection: Selection, own: list[NoteEntry], text: bool = False
) -> list[Diagnostic]:
    """The diagnostics of this half's notes. `text`: for a text report, which reads no
    fix's edits (they are left to be worked out if read: model.LazyFix)."""
    ctx = Context(vault, selection, lazy_fixes=text)
    diagnostics: list[Diagnostic] = []
    for entry in own:
        if not entry.excluded:
            diagnostics.extend(check_note(ctx, entry))
    return diagnostics


def _child(
    job: _Job,
    half: Sequence[VaultFile],
    room: tuple[mmap.mmap, mmap.mmap],
    signal_out: int,
    signal_in: int,
) -> None:  # pragma: no cover - runs in the forked child, ends in os._exit
    """The second half's process: parse, summarise, wait, check, send diagnostics (for
    a text report, their lines; with the cache, also its parse cache rows)."""
    from vaultsync.lint.results import flatten

    status = 1
    try:
        forks.die_with_parent()
        up, down = room
        own, summary = _read_half(job.root, job.config, job.files, half)
        forks.put(up, summary)
        os.write(signal_out, _SUMMARY)
        if os.read(signal_in, 1) == _GO_ON:
            vault = _vault(job, own, (summary, forks.take(down)), first=False)
            del summary  # as in the parent: what the vault did not keep goes
            diagnostics = _check_half(vault, job.selection, own.entries, job.text)
            linkers = None if job.stats is None else _linkers(vault, own.entries)
            vault.memos.clear()  # what the rules shared goes before the results are packed
            if job.text:
                diagnostics.sort(key=Diagnostic.sort_key)
                forks.put(up, _text_part(diagnostics))
            elif linkers is not None:
                packed, lines, records = _packed(diagnostics, job.json)
                part = _cache_rows(job, half, own.entries, job.parts[1])
                forks.put(up, _Results(packed, lines, part, linkers, records))
            else:
                forks.put(up, [flatten(d) for d in diagnostics])
            status = 0
    finally:
        os._exit(status)


def _packed(
    diagnostics: list[Diagnostic], json: bool
) -> tuple[dict[str, bytes], NoteLines, NoteLines | None]:
    """This half's diagnostics (sorted here) as the results and the snapshot keep them;
    with `json`, also their JSON records note by note."""
    from vaultsync.lint.delta import note_lines
    from vaultsync.lint.results import pack_by_note
    from vaultsync.output.report import json_records

    diagnostics.sort(key=Diagnostic.sort_key)
    records = note_lines(diagnostics, json_records) if json else None
    return pack_by_note(diagnostics), note_lines(diagnostics), records


def _linkers(vault: Vault, entries: list[NoteEntry]) -> dict[str, set[str]]:
    """linkmaps.linkers_of this half's notes."""
    from vaultsync.vault.linkmaps import linkers_of

    return linkers_of(vault, [entry.path for entry in entries])


def _cache_rows(
    job: _Job, half: Sequence[VaultFile], entries: list[NoteEntry], into: Path
) -> _Part | None:
    """The parse cache rows of this half's notes, as engine.load stores them: for the
    notes it could stat and may cache (engine.cacheable). Their bytes are written to
    the file `into` one by one, not kept (at 100,000 notes they are ~190 MB); None when
    it cannot be written (a read-only vault is checked without a parse cache)."""
    from vaultsync.io import statefile
    from vaultsync.lint.codec import pack_entry
    from vaultsync.lint.engine import cacheable

    assert job.stats is not None
    files = {file.path: file for file in half}
    rows: list[tuple[str, str, int]] = []
    try:
        statefile.make_folder(into.parent)
        with open(into, "wb") as out:
            for entry in entries:
                if entry.path in job.stats and cacheable(entry, files[entry.path]):
                    rows.append(
                        (entry.path, entry.digest, out.write(statefile.dumps(pack_entry(entry))))
                    )
    except OSError:
        return None
    return _Part(into, rows)


def _store(job: _Job, parts: Sequence[_Part | None]) -> None:
    """Write the parse cache of the whole vault from the halves' rows."""
    from vaultsync.lint.cache import NoteCache

    stats = job.stats
    assert stats is not None
    if None in parts:
        return  # a half could not write its rows: the next run parses the vault again
    cache = NoteCache(job.root, job.config, True)
    if cache.enabled:
        rows = [
            (path, stats[path], digest, size)
            for part in parts
            if part
            for path, digest, size in part.rows
        ]
        cache.save_parts(rows, [part.file for part in parts if part])
    cache.close()


def _text_part(diagnostics: list[Diagnostic]) -> TextPart:
    from vaultsync.output.report import fixable, text_line

    worst = max((int(d.severity) for d in diagnostics), default=-1)
    lines = "".join(map(text_line, diagnostics))
    return TextPart(lines, len(diagnostics), fixable(diagnostics), worst)


def _parent(
    job: _Job,
    mine: Sequence[VaultFile],
    theirs: Sequence[VaultFile],
    child: _Child,
    room: tuple[mmap.mmap, mmap.mmap],
    progress: Progress | None,
) -> Halves:
    """The first half's process: parse, summarise, exchange, check, gather."""
    from vaultsync.lint.results import rebuild

    up, down = room
    total = len(mine) + len(theirs)
    own, summary = _read_half(job.root, job.config, job.files, mine, progress, total)

    def classic(read: list[NoteEntry]) -> Halves:
        """The check done the classic way, with the notes of `read` already parsed."""
        child.tell(_STOP)
        child.stop()
        return _classic(job, read, progress, total)

    if child.signal() != _SUMMARY:
        return classic(own.entries)
    theirs_summary: HalfSummary = forks.take(up)
    if summary.holders or theirs_summary.holders:
        return classic(own.entries)
    try:
        forks.put(down, summary)
    except ValueError:  # it does not fit
        return classic(own.entries)
    child.tell(_GO_ON)
    vault = _vault(job, own, (summary, theirs_summary), first=True)
    # What the vault did not keep of the summaries goes (at 100,000 notes, ~150 MB).
    del summary, theirs_summary
    try:
        diagnostics = _check_half(vault, job.selection, own.entries, job.text)
    except RemoteNote:
        return classic(own.entries)
    linkers: dict[str, set[str]] | None = None
    part: _Part | None = None
    records: NoteLines | None = None
    if job.stats is not None:  # while the child finishes its half
        linkers = _linkers(vault, own.entries)
        packed, lines, records = _packed(diagnostics, job.json)
        if job.plain or job.json:
            diagnostics = []  # the report is made of the lines: at 100,000 notes ~100 MB
        # What the rules shared goes too, but what the snapshot keeps: the backlink map
        # and how many notes hold a backlinks section.
        backlinks = backlink_map(vault)
        held = backlinks_held(vault)
        vault.memos.clear()
        seed_backlink_map(vault, backlinks)
        seed_backlinks_held(vault, held)
        part = _cache_rows(job, mine, own.entries, job.parts[0])
    else:
        # So do what the rules shared while checking (each note's resolved links, ...).
        vault.memos.clear()
    if child.wait() != 0:
        return classic(own.entries)
    returned = forks.take(up, release=True)
    up.close()  # what is left of its pages goes now (closing again is a no-op)
    text = None
    report = None
    if isinstance(returned, TextPart):
        text = returned
    elif isinstance(returned, _Results):
        assert linkers is not None
        theirs_packed, theirs_lines, theirs_part, theirs_linkers, theirs_records = returned
        del returned
        for target, sources in theirs_linkers.items():
            linkers.setdefault(target, set()).update(sources)
        _store(job, [part, theirs_part])
        from vaultsync.lint.delta import join_lines

        second = list(theirs_packed.values())
        both = None
        if records is not None and theirs_records is not None:
            both = join_lines(records, theirs_records)
        joined = join_lines(lines, theirs_lines)
        report = CheckedReport(packed | theirs_packed, joined, second, both)
    else:
        diagnostics.extend(map(rebuild, returned))
    diagnostics.sort(key=Diagnostic.sort_key)
    if progress is not None:
        progress(total, total)
    return Halves(vault, diagnostics, text, linkers, report)


def _classic(job: _Job, read: list[NoteEntry], progress: Progress | None, total: int) -> Halves:
    """The check done as engine.load and engine.check do it, with the notes `read` so
    far (the others are read now); with the cache, the parse cache is written too."""
    from vaultsync.lint import engine

    max_size = job.config.max_file_size
    known = {entry.path: entry for entry in read}
    notes = {
        file.path: known.get(file.path) or read_entry(job.root, file, max_size)
        for file in job.files
        if file.is_note
    }
    if progress is not None:
        progress(total, total)
    if job.stats is not None:
        note_files = [file for file in job.files if file.is_note]
        _store(job, [_cache_rows(job, note_files, list(notes.values()), job.parts[0])])
    vault = loaded.build(job.root, job.config, job.files, notes)
    return Halves(vault, engine.check(vault, job.selection), None)
