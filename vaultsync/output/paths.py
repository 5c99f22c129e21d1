"""Report paths for the CI formats (GitHub annotations, SARIF); text and json: report.py."""

from __future__ import annotations

import functools
import os
from pathlib import Path


def base_folder(vault_root: Path) -> Path:
    """The folder report paths are relative to: the working directory when it holds the vault.

    CI tools resolve paths against the repository checkout, which is where they run us;
    a vault in a subfolder of the repository must still be named from the repository root.
    """
    cwd = Path.cwd().resolve()
    root = vault_root.resolve()
    return cwd if root == cwd or cwd in root.parents else root


def report_path(vault_root: Path, note: str) -> str:
    """A note's path (vault-relative, `/`-separated) relative to `base_folder`."""
    return _prefix(str(vault_root), os.getcwd()) + note


@functools.lru_cache(maxsize=8)
def _prefix(vault_root: str, cwd: str) -> str:
    """The vault's folder relative to `base_folder` ("" or "sub/dir/"), once per report:
    resolving both folders for every problem made a SARIF report of 30,000 problems
    take ten seconds. `cwd` is part of the key only: `base_folder` reads it again."""
    root = Path(vault_root)
    relative = Path(os.path.relpath(root.resolve(), base_folder(root))).as_posix()
    return "" if relative == "." else relative + "/"
