"""Check a vault (or some of its notes) and report problems."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import TYPE_CHECKING

from vaultsync.commands.common import (
    ReportSubject,
    Summary,
    Target,
    add_lint_options,
    add_output_options,
    check_output_options,
    load_vault,
    read_baseline,
    render_report,
    report_stream,
    resolve_target,
    selection,
    without_baseline,
    write_baseline,
)
from vaultsync.core.model import Diagnostic, Severity

if TYPE_CHECKING:
    from vaultsync.lint.delta import NoteLines
    from vaultsync.lint.engine import Listing
    from vaultsync.lint.results import ResultCache
    from vaultsync.lint.shards import Halves, TextPart
    from vaultsync.rules import Selection
    from vaultsync.vault.loaded import Vault


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lint_options(parser)
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    check_output_options(args)
    target = resolve_target(
        args.paths, args.config, use_cache=not args.no_cache, vault=args.vault_root
    )
    known = read_baseline(args)
    chosen = selection(args, target.config)
    use_cache = not args.no_cache and target.config.cache
    results = None
    cached = None
    # A report depends on nothing but the diagnostics and these options; with a baseline
    # (whose file may change) or --write-baseline it is always made afresh.
    render_key = None
    if known is None and args.write_baseline is None:
        render_key = repr((args.format, args.quiet, args.statistics, str(Path.cwd())))
    if use_cache:
        from vaultsync.lint.results import ResultCache

        results = ResultCache(target.root, target.config, chosen, target.only)
        if render_key is not None:
            rendered = results.load_report(render_key)
            if rendered is not None:  # nothing changed, and this very report was made
                text, worst = rendered
                with report_stream(args) as out:
                    out.write(text)
                return _exit_code(args, target.config.fail_on, worst)
        cached = results.load()
    subject: ReportSubject
    if cached is None and results is not None:
        # A few notes changed since the last whole check: start from its snapshot.
        from vaultsync.lint import delta

        recheck = delta.recheck(
            target.root,
            target.config,
            chosen,
            results.base_key,
            (results.files, results.stats),
            target.only,
        )
        if recheck is not None:
            if args.format == "text" and not args.statistics and render_key is not None:
                # The notes not checked again are printed as the snapshot has them,
                # without rebuilding their diagnostics. Only the report is kept: the
                # same check again is answered from it, and another report starts from
                # the snapshot again.
                text, worst = recheck.text_report(args.quiet)
                with report_stream(args) as out:
                    out.write(text)
                results.save_report(render_key, text, worst)
                return _exit_code(args, target.config.fail_on, worst)
            try:
                cached = (recheck.notes, recheck.diagnostics())
                results.save_packed(recheck.notes, recheck.packed())
            except delta.Unusable:
                cached = None  # its diagnostics went missing: check the vault whole
    if cached is not None:  # nothing changed since the last run: its report stands
        note_count, diagnostics = cached
        subject = Summary(target.root, range(note_count))
    else:
        from vaultsync.lint import engine  # only now: a warm run never needs the parser

        listing = None if results is None else (results.files, results.stats)
        halves = None
        # A plain text report, which the second half of a check in halves may send as
        # its lines (without the cache) or its lines by note (with it).
        plain = args.format == "text" and not args.statistics and render_key is not None
        # A whole check without the cache, or the first with it, runs in two halves.
        if target.only is None and (results is None or not _parse_cache_exists(target.root)):
            listing, halves = _check_in_halves(target, chosen, args.quiet, plain, listing)
        if halves is not None and halves.text is not None:
            return _write_halves(args, target.config.fail_on, halves.diagnostics, halves.text)
        if halves is not None and halves.report is not None:
            assert results is not None  # halves send one only for a check with the cache
            vault, report = halves.vault, halves.report
            _save_results(results, vault, report.lines, report.packed, halves.linkers)
            if plain:  # the report is its lines: the second half's are not rebuilt
                pieces, worst = report.text(args.quiet)
                with report_stream(args) as out:
                    out.writelines(pieces)
                if render_key is not None:
                    results.save_report(render_key, pieces, worst)
                return _exit_code(args, target.config.fail_on, worst)
            diagnostics = report.diagnostics(halves.diagnostics)
        else:
            linkers = None
            if halves is not None:
                vault, diagnostics, linkers = halves.vault, halves.diagnostics, halves.linkers
            else:
                vault = load_vault(target, args.quiet, use_cache=use_cache, listing=listing)
                diagnostics = engine.check(vault, chosen, target.only)
            if results is not None:
                from vaultsync.lint.delta import note_lines
                from vaultsync.lint.results import pack_by_note

                if target.only is None:
                    lines = note_lines(diagnostics)
                    _save_results(results, vault, lines, pack_by_note(diagnostics), linkers)
                else:
                    results.save_packed(len(vault.notes), pack_by_note(diagnostics))
        subject = vault
    if args.write_baseline is not None:
        write_baseline(args, diagnostics)
        return 0
    shown = without_baseline(diagnostics, known)
    worst = max((int(d.severity) for d in shown), default=-1)
    buffer = io.StringIO()
    render_report(buffer, args, subject, shown, hidden=len(diagnostics) - len(shown))
    text = buffer.getvalue()
    with report_stream(args) as out:
        out.write(text)
    if results is not None and render_key is not None:
        results.save_report(render_key, text, worst)
    return _exit_code(args, target.config.fail_on, worst)


def _check_in_halves(
    target: Target, chosen: Selection, quiet: bool, text: bool, listing: Listing | None
) -> tuple[Listing, Halves | None]:
    """A whole vault checked in two processes, each parsing and checking half of it
    (shards.py). The vault's files and stats (`listing`, taken by the results cache;
    None: without the cache, the files are listed here and no stats are read), and what
    the halves found, or None when one process is better here. `text`: only a text
    report is wanted (without the cache)."""
    from vaultsync.io.files import discover
    from vaultsync.lint import shards
    from vaultsync.output import progress

    if listing is None:
        listing = (discover(target.root, target.config), {})
        stats = None
    else:
        stats = listing[1]
    with progress.loading(quiet) as on_progress:
        found = shards.check(
            target.root, target.config, chosen, listing[0], on_progress, text, stats
        )
        return listing, found


def _parse_cache_exists(root: Path) -> bool:
    """Whether a parse cache is there to start from: without one (a first check), a
    whole check runs in halves as one without the cache does, and writes it."""
    from vaultsync.lint.cache import notes_path

    return notes_path(root).exists()


def _write_halves(
    args: argparse.Namespace, fail_on: str, first: list[Diagnostic], second: TextPart
) -> int:
    """The text report of a check in halves: the first half's diagnostics, then the
    lines the second half rendered, then the summary (as report.write_text has it)."""
    from vaultsync.output.report import fixable, write_text, write_text_summary

    worst = max((int(d.severity) for d in first), default=second.worst)
    with report_stream(args) as out:
        write_text(out, first, quiet=True)
        out.write(second.text)
        if not args.quiet:
            problems = len(first) + second.problems
            write_text_summary(out, problems, fixable(first) + second.fixable)
    return _exit_code(args, fail_on, max(worst, second.worst))


def _save_results(
    results: ResultCache,
    vault: Vault,
    lines: NoteLines,
    packed: dict[str, bytes],
    linkers: dict[str, set[str]] | None,
) -> None:
    """After a whole-vault check: its results, and the snapshot the next check after a
    few edits starts from.

    `lines`, `packed`: the diagnostics as delta.note_lines and results.pack_by_note
    give them; `linkers`: for a vault checked in halves, the links into headings and
    blocks (shards.Halves).
    """
    from vaultsync.lint import delta
    from vaultsync.lint.shards import RemoteNote

    results.save_packed(len(vault.notes), packed)
    if not results.storable:
        delta.discard(vault.root)  # it no longer matches the parse cache just written
        return
    try:
        delta.save(vault.root, results.base_key, vault, results.stats, lines, packed, linkers)
    except RemoteNote:  # it read a note of a half this process does not hold
        delta.discard(vault.root)  # the next check after an edit checks the vault whole


def _exit_code(args: argparse.Namespace, fail_on: str, worst: int) -> int:
    """1 when a problem shown is at or above `fail-on`, unless --exit-zero."""
    if args.exit_zero:
        return 0
    return 1 if worst >= Severity.parse(fail_on) else 0
