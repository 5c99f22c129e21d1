"""Side by side: vaultsync vs obsidiantools on the same generated vault.

obsidiantools is the Python library users would otherwise reach for (graph,
backlinks, nonexistent notes). It is not a vaultsync dependency; install it into a
separate environment to run this:

    python3 -m venv /tmp/ot && /tmp/ot/bin/pip install obsidiantools
    /tmp/ot/bin/python benchmarks/compare_obsidiantools.py benchmarks/vaults/10000-0

It prints the wall time of each and their ratio. vaultsync runs as a real process
from this checkout (`.venv/bin/python -m vaultsync check --no-cache`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def time_obsidiantools(vault: Path) -> tuple[float, int, int]:
    from obsidiantools.api import Vault  # type: ignore[import-not-found]

    start = time.perf_counter()
    ot = Vault(vault).connect().gather()
    backlinks = sum(len(ot.get_backlinks(n)) for n in ot.md_file_index)
    missing = len(ot.nonexistent_notes)
    return time.perf_counter() - start, backlinks, missing


def time_vaultsync(vault: Path, python: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [python, "-m", "vaultsync", "check", str(vault), "--no-cache", "--exit-zero", "-q"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vault", type=Path)
    parser.add_argument(
        "--vaultsync-python",
        default=str(REPO_ROOT / ".venv" / "bin" / "python"),
        help="the interpreter that has vaultsync installed",
    )
    args = parser.parse_args()
    ours = time_vaultsync(args.vault, args.vaultsync_python)
    theirs, backlinks, missing = time_obsidiantools(args.vault)
    print(f"vaultsync check (cold): {ours:8.2f} s")
    print(
        f"obsidiantools gather:   {theirs:8.2f} s  ({backlinks} backlinks, {missing} nonexistent)"
    )
    print(f"ratio: obsidiantools takes {theirs / ours:.1f}x as long")
    return 0


if __name__ == "__main__":
    sys.exit(main())
