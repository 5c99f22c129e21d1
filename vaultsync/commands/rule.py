"""Explain a rule: what it finds, why, an example and its fix."""

from __future__ import annotations

import argparse

from vaultsync.commands.common import report_stream
from vaultsync.core.errors import UsageError
from vaultsync.rules import RULES, by_name_or_code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", nargs="?", help="a rule code or name; none lists all rules")


def run(args: argparse.Namespace) -> int:
    if args.code is None:
        with report_stream(args) as out:
            for rule in sorted(RULES.values(), key=lambda r: r.code):
                out.write(
                    f"{rule.code}  {rule.name:<26} {rule.severity.label:<8} "
                    f"{rule.fix.value:<7} {rule.summary}\n"
                )
        return 0
    found = by_name_or_code(args.code)
    if found is None:
        raise UsageError(f"unknown rule {args.code!r} (run `vaultsync rule` for the list)")
    outside = "" if found.default else " Not in the default rule set: select it to use it."
    with report_stream(args) as out:
        out.write(f"# {found.code} {found.name}\n\n")
        out.write(f"Default severity: {found.severity.label}. Fix: {found.fix.value}.{outside}\n\n")
        out.write(found.doc.strip() + "\n")
    return 0
