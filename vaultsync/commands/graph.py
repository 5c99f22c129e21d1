"""Export the vault's link graph as JSON or Graphviz dot."""

from __future__ import annotations

import argparse
from pathlib import Path

from vaultsync.commands.common import (
    add_root_option,
    add_vault_options,
    load_vault,
    report_stream,
    resolve_target,
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
    from vaultsync.output import graph

    target = resolve_target(
        [args.vault] if args.vault else [],
        args.config,
        use_cache=not args.no_cache,
        vault=args.vault_root,
    )
    vault = load_vault(target, args.quiet, use_cache=not args.no_cache)
    with report_stream(args) as out:
        if args.format == "dot":
            graph.write_dot(out, vault)
        else:
            graph.write_json(out, vault)
    return 0
