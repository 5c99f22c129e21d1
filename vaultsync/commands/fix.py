"""Fix problems in a vault (or some of its notes): safe fixes by default, then report the rest."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import TYPE_CHECKING, NamedTuple, TextIO

from vaultsync.commands.common import (
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
from vaultsync.core.model import Severity
from vaultsync.output import jsonout, report
from vaultsync.output.patch import unified_diff

if TYPE_CHECKING:
    from vaultsync.core.model import Diagnostic
    from vaultsync.fixing.fix import FileChange, FixOptions, FixResult
    from vaultsync.lint.api import CheckResult, ReportSubject
    from vaultsync.rules import Selection


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lint_options(parser)
    add_output_options(parser)
    parser.add_argument(
        "--diff",
        action="store_true",
        help="print a unified diff of the fixes and write nothing (exit 1 if there are any)",
    )
    parser.add_argument("--unsafe", action="store_true", help="also apply unsafe fixes")
    parser.add_argument(
        "--create-missing",
        action="store_true",
        help="create a stub note for each unresolved link target (L001)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="also rewrite generated sections that were edited by hand (S004)",
    )


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{code}: {n}" for code, n in sorted(counter.items()))


class _Outcome(NamedTuple):
    """What a fix run reports: the vault it ends with, the problems left, the notes it
    changed and the ones it could not write."""

    subject: ReportSubject
    diagnostics: list[Diagnostic]
    changes: dict[str, FileChange]
    skipped: dict[str, str]

    @property
    def fixed(self) -> Counter[str]:
        from vaultsync.fixing.fix import fixed_codes

        return fixed_codes(self.changes)


def run(args: argparse.Namespace) -> int:
    from vaultsync.fixing.fix import FixOptions, fix_vault
    from vaultsync.fixing.neighbours import follow
    from vaultsync.io import writer

    target = resolve_target(
        args.paths, args.config, use_cache=not args.no_cache, vault=args.vault_root
    )
    options = FixOptions(
        unsafe=args.unsafe,
        force=args.force,
        create_missing=args.create_missing,
        dry_run=args.diff,
    )
    check_output_options(args)
    known = read_baseline(args)
    if not options.dry_run:
        writer.clean_temp_files(target.root)  # a crashed run's leftovers
    chosen = selection(args, target.config)
    outcome = None
    warm = None if args.no_cache else _warm_start(target, chosen, options)
    if isinstance(warm, _Outcome):
        outcome = warm  # nothing to fix: the check from the caches is the answer
    else:
        result = None
        if warm is not None:
            result = _fix_from_caches(target, chosen, options, warm)
        if result is None:
            vault = load_vault(target, args.quiet, use_cache=not args.no_cache)
            result = fix_vault(vault, chosen, target.only, options)
            if target.only is not None:
                # Notes outside the given ones whose backlinks sections follow their links.
                result = follow(result, chosen, target.only, options)
            elif result.converged and not options.dry_run and not args.no_cache:
                # What the fix ended with is a whole check of the vault as written: kept
                # as `check` keeps one, the next check or fix starts warm from it.
                from vaultsync.lint.api import remember_check

                remember_check(target.root, target.config, chosen, result.vault, result.diagnostics)
        if not result.converged:
            files = ", ".join(result.still_changing)
            print(
                f"vaultsync: error: fixes did not converge after {result.passes} passes, "
                f"nothing was written; still changing: {files} (this is a bug in vaultsync, "
                "please report it)",
                file=sys.stderr,
            )
            return 2
        outcome = _Outcome(result.vault, result.diagnostics, result.changes, result.skipped)
    if args.write_baseline is not None:
        write_baseline(args, outcome.diagnostics)  # what the fixes could not fix
    found = len(outcome.diagnostics)
    shown = [] if args.write_baseline else without_baseline(outcome.diagnostics, known)
    outcome = outcome._replace(diagnostics=shown)
    with report_stream(args) as out:
        if args.format == "json":
            _write_json(out, str(target.root), result_doc(outcome))
        elif args.format in ("github", "sarif"):
            hidden = found - len(outcome.diagnostics)
            render_report(out, args, outcome.subject, outcome.diagnostics, hidden)
        elif options.dry_run:
            for change in outcome.changes.values():
                out.writelines(
                    unified_diff(change.path, change.path, change.before, change.after, change.bom)
                )
        else:
            _write_text(out, outcome, quiet=args.quiet, statistics=args.statistics)
    for path, reason in outcome.skipped.items():
        why = reason.removeprefix(path + ": ")
        print(f"vaultsync: skipped {report.shown_path(path)}: {why}", file=sys.stderr)
    if args.exit_zero:
        return 0
    if options.dry_run:
        return 1 if outcome.changes else 0
    threshold = Severity.parse(target.config.fail_on)
    remaining = any(d.severity >= threshold for d in outcome.diagnostics)
    return 1 if remaining or outcome.skipped else 0


def _warm_start(
    target: Target, chosen: Selection, options: FixOptions
) -> _Outcome | CheckResult | None:
    """A fix starts as a warm check: the outcome when a check answered from the caches
    (as `check` leaves them) shows nothing `fix` would apply; that check when it shows
    something; None: no cache to answer from.

    With paths, the notes `fix` may touch are those notes and, through their backlinks
    sections, any note's sections (`neighbours.follow`): a fixable problem elsewhere
    that is no section's is not this fix's business.
    """
    from vaultsync.fixing.fix import CREATE_CODE, SECTION_PREFIX, wanted
    from vaultsync.lint.api import NotWarm, check_vault

    try:  # only from the caches: a fix with work to do must not load the vault twice
        checked = check_vault(target.root, target.config, chosen, None, warm_only=True)
    except NotWarm:
        return None
    only = target.only
    for diag in checked.diagnostics:
        if only is not None and diag.path not in only and not diag.code.startswith(SECTION_PREFIX):
            continue
        if wanted(diag.fix, diag.code, options):
            return checked
        if options.create_missing and diag.code == CREATE_CODE:
            return checked
    diagnostics = checked.diagnostics
    if only is not None:
        diagnostics = [d for d in diagnostics if d.path in only]
    return _Outcome(checked.subject, diagnostics, {}, {})


def _fix_from_caches(
    target: Target, chosen: Selection, options: FixOptions, checked: CheckResult
) -> FixResult | None:
    """The fix, starting from the vault the caches give (the last whole check's snapshot
    and the notes changed since, as `check` starts from it): it checks again only what
    its edits touch. None: the caches cannot give that vault; fix the vault as loaded."""
    from vaultsync.fixing.fix import fix_vault
    from vaultsync.fixing.neighbours import follow
    from vaultsync.lint.api import NotWarm, tracked_vault

    edited = checked.edited
    try:
        tracked = checked.tracked
        if tracked is None:  # no note changed since the snapshot: make its vault now
            tracked = tracked_vault(target.root, target.config, chosen)
            edited = set()
        if tracked is None or edited is None:
            return None
        vault = tracked.vault
        result = fix_vault(
            vault, chosen, target.only, options, tracked=tracked, checked=checked.diagnostics
        )
        if target.only is not None:
            # The notes whose backlinks the edits since the last check changed, and
            # those the fix's own edits touched.
            result = follow(result, chosen, target.only, options, edited)
    except NotWarm:  # a cache row went bad under us: fix the vault as loaded
        return None
    if target.only is None:  # what is left, as a whole check reports it
        return result
    result.diagnostics = [d for d in result.diagnostics if d.path in target.only]
    return result


def _write_text(out: TextIO, result: _Outcome, *, quiet: bool, statistics: bool) -> None:
    if statistics:  # only the table of the problems left, as `check --statistics` has it
        report.write_statistics(out, result.diagnostics)
        return
    fixed = result.fixed
    if not quiet:
        for change in result.changes.values():
            verb = "Created" if change.before is None else "Fixed"
            out.write(f"{verb} {report.shown_path(change.path)} ({_counts(change.fixed)})\n")
        total = sum(fixed.values())
        files = len(result.changes)
        detail = f" ({_counts(fixed)})" if fixed else ""
        out.write(
            f"Fixed {total} problem{'s' if total != 1 else ''} in {files} "
            f"file{'s' if files != 1 else ''}{detail}.\n"
        )
    report.write_text(out, result.diagnostics, quiet=quiet)


def result_doc(result: _Outcome) -> dict[str, object]:
    summary = Counter(d.severity.label for d in result.diagnostics)
    return {
        "version": report.JSON_VERSION,
        "vault": str(result.subject.root),
        "notes": len(result.subject.notes),
        "changes": [
            {"path": c.path, "created": c.before is None, "fixed": dict(sorted(c.fixed.items()))}
            for c in result.changes.values()
        ],
        "skipped": [{"path": p, "reason": r} for p, r in result.skipped.items()],
        "fixed": dict(sorted(result.fixed.items())),
        "diagnostics": [report.diagnostic_json(d) for d in result.diagnostics],
        "summary": {
            **{s.label: summary.get(s.label, 0) for s in Severity},
            "fixable": report.fixable(result.diagnostics),
        },
    }


def _write_json(out: TextIO, vault: str, document: dict[str, object]) -> None:
    jsonout.write(out, document)
