"""Check a vault (or some of its notes) and report problems."""

from __future__ import annotations

import argparse

from vaultsync.commands.common import (
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

    target = resolve_target(args.paths, args.config)
    known = read_baseline(args)
    vault = load_vault(target, args.quiet, use_cache=not args.no_cache)
    diagnostics = engine.check(vault, selection(args, target.config), target.only)
    if args.write_baseline is not None:
        write_baseline(args, diagnostics)
        return 0
    shown = without_baseline(diagnostics, known)
    write_report(args, vault, shown, hidden=len(diagnostics) - len(shown))
    if args.exit_zero:
        return 0
    threshold = Severity.parse(target.config.fail_on)
    return 1 if any(d.severity >= threshold for d in shown) else 0
