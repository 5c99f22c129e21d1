"""Export the vault's link graph as JSON or Graphviz dot."""

from __future__ import annotations

import argparse
from pathlib import Path

from vaultsync.commands.common import (
    add_root_option,
    add_vault_options,
    resolve_target,
    write_encoded_report,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vault", nargs="?", type=Path, metavar="VAULT", help="the vault")
    parser.add_argument(
        "--format",
        choices=("json", "dot"),
        default="json",
        help="json: notes, attachments and links (default); dot: a drawing for Graphviz",
    )
    add_root_option(parser)
    add_vault_options(parser, quiet="no progress bar, only the graph")


def run(args: argparse.Namespace) -> int:
    from vaultsync.lint.api import vault_graph
    from vaultsync.output import progress

    target = resolve_target(
        [args.vault] if args.vault else [],
        args.config,
        use_cache=not args.no_cache,
        vault=args.vault_root,
    )
    with progress.loading(args.quiet) as on_progress:
        document = vault_graph(
            target.root,
            target.config,
            args.format,
            use_cache=not args.no_cache,
            on_progress=on_progress,
        )
    write_encoded_report(args, document)
    return 0
