"""The one door to checking a vault: `check_vault` picks the fastest way to the plain
path's answer (a report made before, the results cache, an incremental recheck from the
last snapshot, two halves, or the plain load-and-check) so that the command line, the
public API and the tests ask one function and never choose a strategy themselves.

Imported on every `vaultsync check`: it imports the strategies only when it uses them
(a warm check answered from the results cache never loads the parser).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from vaultsync.core.errors import NotWarm as NotWarm  # raised by check_vault(warm_only=True)

if TYPE_CHECKING:
    from vaultsync.config.settings import Config
    from vaultsync.core.model import Diagnostic
    from vaultsync.lint.delta import NoteLines, Start
    from vaultsync.lint.engine import Listing
    from vaultsync.lint.results import ResultCache
    from vaultsync.lint.shards import Halves, TextPart
    from vaultsync.rules import Selection
    from vaultsync.vault.linkmaps import Tracked
    from vaultsync.vault.loaded import Vault


class ReportSubject(Protocol):
    """What a report names besides the diagnostics: the vault root and its notes."""

    @property
    def root(self) -> Path: ...

    @property
    def notes(self) -> Sized: ...


class CountedVault(NamedTuple):
    """A ReportSubject for a check answered from the results cache: the root, and a
    stand-in for the notes that only has their count."""

    root: Path
    notes: Sized


@dataclass(frozen=True, slots=True)
class Report:
    """What the caller will render from the result.

    `key`: the report's identity (its format and options); with one, a report rendered
    before for the same key answers an unchanged vault, and the caller keeps the report it
    renders (`CheckResult.keep`). None: the report is made afresh and none is kept (a
    baseline, whose file may change, or a caller that wants the diagnostics).
    `plain_text`: the report is the plain text one (no statistics), whose lines a strategy
    may write itself instead of building every diagnostic; only with a `key`.
    `quiet`: the text report without its summary, and no progress bar.
    `json`: the report is the JSON one (`report.write_json`), which a strategy may put
    together from each note's JSON records made before instead of building every
    diagnostic; only with a `key`.
    """

    key: str | None = None
    plain_text: bool = False
    quiet: bool = True
    json: bool = False


@dataclass(slots=True)
class CheckResult:
    """What a check found: the diagnostics (sorted) and what the report names, or, when
    a strategy or the results cache made the report itself (text or JSON), that
    report's `pieces` and the `worst` severity in it (-1: none)."""

    subject: ReportSubject
    diagnostics: list[Diagnostic]
    pieces: Sequence[str] | None = None
    worst: int = -1
    _results: ResultCache | None = field(default=None, repr=False)
    _key: str | None = field(default=None, repr=False)
    # Answered from the snapshot and the notes changed since: the vault as it is now, and
    # the notes whose diagnostics those changes may have changed (`linkmaps.edit`).
    tracked: Tracked | None = field(default=None, repr=False)
    edited: set[str] | None = None

    def keep(self, text: str | Sequence[str], worst: int) -> None:
        """Keep the report the caller rendered (and wrote) from this result, so the same
        check of an unchanged vault is answered from it; nothing without a `Report.key`."""
        if self._results is not None and self._key is not None:
            self._results.save_report(self._key, text, worst)


def check_vault(
    root: Path,
    config: Config,
    selection: Selection,
    paths: set[str] | None = None,
    *,
    use_cache: bool = True,
    report: Report = Report(),
    warm_only: bool = False,
) -> CheckResult:
    """Check the vault at `root` with `selection` and report on `paths` (vault-relative
    note paths; None: every note). `use_cache`: read and write the caches (when the config
    allows them). Whatever the strategy, the diagnostics are the plain path's.
    `warm_only`: answer only from the caches (the results, or the snapshot and the few
    notes changed since); raise `NotWarm` where the vault would have to be loaded."""
    results = None
    cached = None
    render_key = report.key
    if use_cache and config.cache:
        from vaultsync.lint.results import ResultCache

        results = ResultCache(root, config, selection, paths)
        if render_key is not None:
            rendered = results.load_report(render_key)
            if rendered is not None:  # nothing changed, and this very report was made
                text, worst = rendered  # kept already: nothing to keep again
                return CheckResult(CountedVault(root, ()), [], [text], worst)
        cached = results.load()

    def found(
        subject: ReportSubject,
        diagnostics: list[Diagnostic],
        pieces: Sequence[str] | None = None,
        worst: int = -1,
    ) -> CheckResult:
        return CheckResult(subject, diagnostics, pieces, worst, results, render_key)

    if cached is None and results is not None:
        # A few notes changed since the last whole check: start from its snapshot.
        from vaultsync.lint import delta

        recheck = delta.recheck(
            root, config, selection, results.base_key, (results.files, results.stats), paths
        )
        if recheck is not None:
            if report.plain_text and render_key is not None:
                # The notes not checked again are printed as the snapshot has them,
                # without rebuilding their diagnostics. Only the report is kept: the
                # same check again is answered from it, and another report starts from
                # the snapshot again.
                text, worst = recheck.text_report(report.quiet)
                return found(CountedVault(root, ()), [], [text], worst)
            if report.json and render_key is not None:
                # The same for JSON: the notes not checked again are the snapshot's
                # records of them.
                with contextlib.suppress(delta.Unusable):  # its diagnostics went missing
                    pieces, worst = recheck.json_report(str(root))
                    return found(CountedVault(root, ()), [], pieces, worst)
            try:
                cached = (recheck.notes, recheck.diagnostics())
                results.save_packed(recheck.notes, recheck.packed())
            except delta.Unusable:
                cached = None  # its diagnostics went missing: check the vault whole
            else:
                note_count, diagnostics = cached
                answer = found(CountedVault(root, range(note_count)), diagnostics)
                answer.tracked, answer.edited = recheck.tracked, recheck.stale
                return answer
    if cached is not None:  # nothing changed since the last run: its report stands
        note_count, diagnostics = cached
        return found(CountedVault(root, range(note_count)), diagnostics)

    if warm_only:
        raise NotWarm(root)
    from vaultsync.lint import engine  # only now: a warm run never needs the parser

    listing = None if results is None else (results.files, results.stats)
    halves = None
    # A plain text report, which the second half of a check in halves may send as its
    # lines (without the cache) or its lines by note (with it); or a JSON report, made
    # from each note's records (with the cache: they are kept for the next one).
    plain = report.plain_text and render_key is not None
    by_records = report.json and render_key is not None and results is not None
    # A whole check without the cache, or the first with it, runs in two halves.
    if paths is None and (results is None or not _parse_cache_exists(root)):
        listing, halves = _check_in_halves(
            root, config, selection, report.quiet, listing, text=plain, json=by_records
        )
    if halves is not None and halves.text is not None:
        pieces, worst = _halves_text(halves.diagnostics, halves.text, report.quiet)
        return found(halves.vault, [], pieces, worst)
    if halves is not None and halves.report is not None:
        assert results is not None  # halves send one only for a check with the cache
        vault, checked = halves.vault, halves.report
        _save_results(
            results, vault, checked.lines, checked.packed, halves.linkers, checked.records
        )
        if plain:  # the report is its lines: the second half's are not rebuilt
            pieces, worst = checked.text(report.quiet)
            return found(vault, [], pieces, worst)
        made = checked.json(vault)
        if made is not None:  # the same for the JSON report, made of the records
            return found(vault, [], *made)
        return found(vault, checked.diagnostics(halves.diagnostics))
    linkers = None
    if halves is not None:
        vault, diagnostics, linkers = halves.vault, halves.diagnostics, halves.linkers
    else:
        from vaultsync.output import progress

        with progress.loading(report.quiet) as on_progress:
            vault = engine.load(
                root, config, on_progress, use_cache=results is not None, listing=listing
            )
        diagnostics = engine.check(vault, selection, paths)
    if results is not None:
        from vaultsync.lint.delta import json_report_of, note_lines
        from vaultsync.lint.results import pack_by_note
        from vaultsync.output.report import json_records

        if paths is None:
            lines = note_lines(diagnostics)
            records = note_lines(diagnostics, json_records) if by_records else None
            _save_results(results, vault, lines, pack_by_note(diagnostics), linkers, records)
            if records is not None:  # the report is made of the records the snapshot keeps
                return found(vault, [], *json_report_of(records, str(root), len(vault.notes)))
        else:
            results.save_packed(len(vault.notes), pack_by_note(diagnostics))
    return found(vault, diagnostics)


def tracked_vault(root: Path, config: Config, selection: Selection) -> Tracked | None:
    """The vault as the last whole check's snapshot and the notes changed since give it,
    with its link maps and spelling counts (for a fix that starts from the caches);
    None: no snapshot can give it. Its unchanged notes are parse-cache rows, unpacked
    when read: one that cannot be raises `NotWarm`."""
    start = snapshot_start(root, config, selection)
    return None if start is None else start.edited.tracked


def remember_check(
    root: Path, config: Config, selection: Selection, vault: Vault, diagnostics: list[Diagnostic]
) -> None:
    """Leave the caches a whole check of `vault` with `selection` would leave, from the
    `diagnostics` a whole-vault fix ended with (sorted): the parse cache rows of the notes
    it wrote, its results and the snapshot, so that the next `check` or `fix` is a warm
    one instead of a whole check. Nothing when the vault's files are no longer the ones
    `vault` holds (a file added or removed meanwhile), and only the rows of the notes
    that still are as parsed when one was edited meanwhile."""
    if not config.cache:
        return
    from vaultsync.lint import engine
    from vaultsync.lint.delta import note_lines
    from vaultsync.lint.results import ResultCache, pack_by_note

    results = ResultCache(root, config, selection, None)
    if [f.path for f in results.files] != [f.path for f in vault.files]:
        return
    if not engine.remember(vault, results.stats):
        return  # a note changed since the fix read or wrote it: `diagnostics` are not its
    _save_results(results, vault, note_lines(diagnostics), pack_by_note(diagnostics), None)


def snapshot_start(root: Path, config: Config, selection: Selection) -> Start | None:
    """The vault as the last whole check with `selection` left it (its snapshot), with
    the notes changed since read again: for a process that keeps the vault (the daemon),
    without parsing every note. None: the caches are off, or no snapshot can say (no
    whole check yet, or whatever a few edits cannot change changed since)."""
    if not config.cache:
        return None
    from vaultsync.lint import delta
    from vaultsync.lint.results import ResultCache

    results = ResultCache(root, config, selection, None)
    return delta.start(root, config, results.base_key, (results.files, results.stats))


def vault_graph(
    root: Path,
    config: Config,
    form: str,
    *,
    use_cache: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The vault's link graph as `form` ("json" or "dot"), encoded as UTF-8.

    The graph is a pure function of the vault's files and settings: an unchanged vault
    is answered from the graph made last time (kept apart from check's reports), without
    indexing it again; otherwise the vault is loaded (from the parse cache) and the graph
    made and kept.
    """
    from vaultsync.lint import engine
    from vaultsync.output import graph

    results = None
    if use_cache and config.cache:
        from vaultsync.lint.results import GRAPH_FILE, ResultCache

        results = ResultCache(root, config, None, None, report_file=GRAPH_FILE)
        kept = results.load_report_bytes(form)
        if kept is not None:
            return kept[0]
    listing = None if results is None else (results.files, results.stats)
    vault = engine.load(
        root, config, on_progress, use_cache=use_cache and config.cache, listing=listing
    )
    document = io.StringIO()
    if form == "dot":
        graph.write_dot(document, vault)
    else:
        graph.write_json(document, vault)
    text = document.getvalue()
    if results is not None:
        results.save_report(form, text, 0)
    return text.encode("utf-8", "surrogatepass")


def _check_in_halves(
    root: Path,
    config: Config,
    selection: Selection,
    quiet: bool,
    listing: Listing | None,
    *,
    text: bool,
    json: bool,
) -> tuple[Listing, Halves | None]:
    """A whole vault checked in two processes, each parsing and checking half of it
    (shards.py). The vault's files and stats (`listing`, taken by the results cache;
    None: without the cache, the files are listed here and no stats are read), and what
    the halves found, or None when one process is better here. `text`: only a plain
    text report is wanted; `json`: a JSON report is (with the cache), made of records."""
    from vaultsync.io.files import discover
    from vaultsync.lint import shards
    from vaultsync.output import progress

    if listing is None:
        listing = (discover(root, config), {})
        stats = None
    else:
        stats = listing[1]
    with progress.loading(quiet) as on_progress:
        found = shards.check(root, config, selection, listing[0], on_progress, text, stats, json)
        return listing, found


def _parse_cache_exists(root: Path) -> bool:
    """Whether a parse cache is there to start from: without one (a first check), a
    whole check runs in halves as one without the cache does, and writes it."""
    from vaultsync.lint.cache import notes_path

    return notes_path(root).exists()


def _halves_text(first: list[Diagnostic], second: TextPart, quiet: bool) -> tuple[list[str], int]:
    """The text report of a check in halves, in pieces: the first half's diagnostics,
    then the lines the second half rendered, then the summary (as report.write_text has
    it); and the worst severity in it or -1."""
    from vaultsync.output.report import fixable, write_text, write_text_summary

    worst = max((int(d.severity) for d in first), default=second.worst)
    head = io.StringIO()
    write_text(head, first, quiet=True)
    pieces = [head.getvalue(), second.text]
    if not quiet:
        tail = io.StringIO()
        write_text_summary(tail, len(first) + second.problems, fixable(first) + second.fixable)
        pieces.append(tail.getvalue())
    return pieces, max(worst, second.worst)


def _save_results(
    results: ResultCache,
    vault: Vault,
    lines: NoteLines,
    packed: dict[str, bytes],
    linkers: dict[str, set[str]] | None,
    records: NoteLines | None = None,
) -> None:
    """After a whole-vault check: its results, and the snapshot the next check after a
    few edits starts from.

    `lines`, `packed`: the diagnostics as delta.note_lines and results.pack_by_note
    give them; `linkers`: for a vault checked in halves, the links into headings and
    blocks (shards.Halves); `records`: their JSON records, when the check made them.
    """
    from vaultsync.lint import delta
    from vaultsync.lint.shards import RemoteNote

    results.save_packed(len(vault.notes), packed)  # unless a file was written just now
    if not results.complete:
        delta.discard(vault.root)  # a file could not be stat'ed: the snapshot cannot say
        return
    try:
        delta.save(
            vault.root, results.base_key, vault, results.stats, lines, packed, linkers, records
        )
    except RemoteNote:  # it read a note of a half this process does not hold
        delta.discard(vault.root)  # the next check after an edit checks the vault whole
