"""Options and set-up shared by the commands that lint (`check`, `fix`)."""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from vaultsync.config import Config, find_root, load_config
from vaultsync.errors import UsageError
from vaultsync.rules import Selection, validate_selector


def _selectors(text: str) -> list[str]:
    items = [s.strip() for s in text.split(",") if s.strip()]
    for item in items:
        try:
            validate_selector(item)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc
    return items


def add_vault_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE", help="use this config file")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    parser.add_argument("-q", "--quiet", action="store_true", help="print diagnostics only")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more output")


def add_lint_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help="vault, folder or notes"
    )
    parser.add_argument(
        "--select",
        type=_selectors,
        action="extend",
        default=[],
        metavar="RULES",
        help="codes, prefixes or names to enable (comma-separated)",
    )
    parser.add_argument(
        "--ignore",
        type=_selectors,
        action="extend",
        default=[],
        metavar="RULES",
        help="codes, prefixes or names to disable (comma-separated)",
    )
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even with problems")
    parser.add_argument("--statistics", action="store_true", help="count problems per rule")
    add_vault_options(parser)


@dataclass(frozen=True, slots=True)
class Target:
    root: Path
    config: Config
    only: set[str] | None  # vault-relative note paths to report on; None: all


def resolve_target(paths: list[Path], config_file: Path | None) -> Target:
    """Find the vault root and config for the given paths (like ruff finds its config)."""
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
    first = paths[0] if paths else Path.cwd()
    root = find_root(first)
    config = load_config(root, config_file)
    if not paths or any(p.resolve() == root for p in paths):
        return Target(root, config, None)
    only: set[str] = set()
    for path in paths:
        absolute = path.resolve()
        try:
            rel = absolute.relative_to(root)
        except ValueError:
            raise UsageError(f"{path}: outside the vault at {root}") from None
        rel_text = unicodedata.normalize("NFC", str(rel).replace(os.sep, "/"))
        if absolute.is_dir():
            only.update(_notes_under(root, rel_text))
        else:
            only.add(rel_text)
    return Target(root, config, only)


def _notes_under(root: Path, folder: str) -> set[str]:
    found: set[str] = set()
    for dirpath, dirs, names in os.walk(root / folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = Path(dirpath).relative_to(root).as_posix()
        for name in names:
            if name.lower().endswith(".md"):
                found.add(unicodedata.normalize("NFC", f"{rel}/{name}" if rel != "." else name))
    return found


def selection(args: argparse.Namespace, config: Config) -> Selection:
    select = args.select or config.select
    ignore = [*config.ignore, *args.ignore]
    return Selection.build(select, ignore, dict(config.severity))


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty() and not os.environ.get("CI")
