"""Check a vault (or some of its notes) and report problems."""

from __future__ import annotations

import argparse

from vaultsync.commands.common import (
    ReportSubject,
    Summary,
    add_lint_options,
    add_output_options,
    load_vault,
    read_baseline,
    resolve_target,
    selection,
    without_baseline,
    write_baseline,
    write_report,
)
from vaultsync.model import Severity


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lint_options(parser)
    add_output_options(parser)


def run(args: argparse.Namespace) -> int:
    from vaultsync import engine

    target = resolve_target(args.paths, args.config, use_cache=not args.no_cache)
    known = read_baseline(args)
    chosen = selection(args, target.config)
    use_cache = not args.no_cache and target.config.cache
    results = None
    cached = None
    if use_cache:
        from vaultsync.results import ResultCache

        results = ResultCache(target.root, target.config, chosen, target.only)
        cached = results.load()
    subject: ReportSubject
    if cached is not None:  # nothing changed since the last run: its report stands
        note_count, diagnostics = cached
        subject = Summary(target.root, range(note_count))
    else:
        vault = load_vault(target, args.quiet, use_cache=use_cache)
        diagnostics = engine.check(vault, chosen, target.only)
        if results is not None:
            results.save(len(vault.notes), diagnostics)
        subject = vault
    if args.write_baseline is not None:
        write_baseline(args, diagnostics)
        return 0
    shown = without_baseline(diagnostics, known)
    write_report(args, subject, shown, hidden=len(diagnostics) - len(shown))
    if args.exit_zero:
        return 0
    threshold = Severity.parse(target.config.fail_on)
    return 1 if any(d.severity >= threshold for d in shown) else 0
