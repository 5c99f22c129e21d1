"""Export the vault's link graph as JSON or Graphviz dot."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from vaultsync.commands.common import (
    add_root_option,
    add_vault_options,
    load_vault,
    report_stream,
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
    from vaultsync.output import graph

    target = resolve_target(
        [args.vault] if args.vault else [],
        args.config,
        use_cache=not args.no_cache,
        vault=args.vault_root,
    )
    use_cache = not args.no_cache and target.config.cache
    results = None
    if use_cache:
        from vaultsync.lint.results import GRAPH_FILE, ResultCache

        # The graph is a pure function of the vault's files and settings: a vault that
        # has not changed since the last graph of this format is answered from it.
        results = ResultCache(target.root, target.config, None, None, report_file=GRAPH_FILE)
        rendered = results.load_report_bytes(args.format)
        if rendered is not None:
            write_encoded_report(args, rendered[0])
            return 0
    listing = None if results is None else (results.files, results.stats)
    vault = load_vault(target, args.quiet, use_cache=use_cache, listing=listing)
    document = io.StringIO()
    if args.format == "dot":
        graph.write_dot(document, vault)
    else:
        graph.write_json(document, vault)
    text = document.getvalue()
    with report_stream(args) as out:
        out.write(text)
    if results is not None:
        results.save_report(args.format, text, 0)
    return 0
