"""Watch a vault: keep generated sections current and serve the local plugin API."""

from __future__ import annotations

import argparse
from pathlib import Path

from vaultsync.commands.common import (
    add_root_option,
    add_vault_options,
    resolve_target,
    selection,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vault", nargs="?", type=Path, metavar="VAULT", help="the vault folder")
    parser.add_argument(
        "--once",
        action="store_true",
        help="index and bring sections up to date, then exit (no watching, no API)",
    )
    add_root_option(parser)
    add_vault_options(
        parser, quiet="no status lines on stdout (warnings and errors still go to stderr)"
    )
    parser.set_defaults(select=[], ignore=[])


def run(args: argparse.Namespace) -> int:
    from vaultsync.daemon import lifecycle as daemon

    target = resolve_target(
        [args.vault] if args.vault else [],
        args.config,
        use_cache=not args.no_cache,
        vault=args.vault_root,
    )
    options = daemon.Options(
        root=target.root,
        config=target.config,
        selection=selection(args, target.config),
        verbose=args.verbose,
        quiet=args.quiet,
        once=args.once,
        use_cache=not args.no_cache,
    )
    return daemon.run(options)
