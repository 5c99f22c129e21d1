"""Serve the Language Server Protocol over stdio (for VS Code, Neovim, Helix, Zed...)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="talk over stdin/stdout (the default and only transport; accepted for clients "
        "that pass it)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more lines in the client's log"
    )


def run(args: argparse.Namespace) -> int:
    from vaultsync.lsp.server import serve  # pygls only for this command

    return serve(args.verbose)
