"""Check a vault (or some of its notes) and report problems."""

from __future__ import annotations

import argparse
import sys

from vaultsync import report
from vaultsync.commands.common import add_lint_options, resolve_target, selection
from vaultsync.model import Severity


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lint_options(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format")


def run(args: argparse.Namespace) -> int:
    from vaultsync import engine

    target = resolve_target(args.paths, args.config)
    vault = engine.load(target.root, target.config)
    diagnostics = engine.check(vault, selection(args, target.config), target.only)
    out = sys.stdout
    if args.format == "json":
        report.write_json(out, str(vault.root), len(vault.notes), diagnostics)
    else:
        report.write_text(out, diagnostics, quiet=args.quiet)
        if args.statistics:
            report.write_statistics(out, diagnostics)
    if args.exit_zero:
        return 0
    threshold = Severity.parse(target.config.fail_on)
    return 1 if any(d.severity >= threshold for d in diagnostics) else 0
