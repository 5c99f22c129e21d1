"""Output formats for CI: GitHub Actions annotations and SARIF (text and json live in report.py)."""

from __future__ import annotations

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
    base = base_folder(vault_root)
    full = vault_root.resolve() / note
    return Path(os.path.relpath(full, base)).as_posix()
