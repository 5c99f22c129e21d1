"""Rename or move a note or attachment and rewrite every link to it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vaultsync.commands.common import (
    Target,
    add_root_option,
    add_vault_options,
    load_vault,
    report_stream,
    vault_root,
)
from vaultsync.core.errors import UsageError
from vaultsync.output.patch import unified_diff


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=Path, metavar="OLD", help="the note or attachment to move")
    parser.add_argument(
        "new",
        metavar="NEW",
        help="its new path, or a folder (ending in / or existing) to move into",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the changes as a unified diff, write nothing"
    )
    add_root_option(parser)
    add_vault_options(
        parser, quiet="no progress bar and no summary line (warnings still go to stderr)"
    )


def destination(old: Path, new: str) -> Path:
    """NEW itself, or OLD's file name inside NEW when NEW names a folder."""
    target = Path(new)
    if new.endswith(("/", "\\")) or target.is_dir():
        return target / old.name
    return target


def run(args: argparse.Namespace) -> int:
    from vaultsync.config.settings import load_config
    from vaultsync.fixing.mv import apply_move, plan_move, vault_path

    old_path: Path = args.old
    if not old_path.is_file():
        raise UsageError(f"{old_path}: no such file")
    root = vault_root(old_path, args.vault_root)
    config = load_config(root, args.config, use_cache=not args.no_cache)
    old = vault_path(root, old_path)
    new = vault_path(root, destination(old_path, args.new))
    vault = load_vault(Target(root, config, None), args.quiet, use_cache=not args.no_cache)
    plan = plan_move(vault, old, new)
    for warning in plan.warnings:
        print(f"vaultsync: warning: {warning}", file=sys.stderr)
    if args.dry_run:
        with report_stream(args) as out:
            out.write(f"rename from {old}\nrename to {new}\n")
            for change in sorted(plan.changes, key=lambda c: c.path):
                out.writelines(
                    unified_diff(
                        change.path, change.new_path, change.before, change.after, change.bom
                    )
                )
        return 0
    skipped = apply_move(vault, plan)
    for why in skipped.values():
        print(f"vaultsync: not written: {why}", file=sys.stderr)
    if not args.quiet:
        notes = len(plan.changes) - len(skipped)
        with report_stream(args) as out:
            out.write(f"Moved {old} -> {new}; rewrote {plan.links} link(s) in {notes} note(s).\n")
    return 1 if skipped else 0
