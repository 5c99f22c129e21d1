"""Fixtures for vaultsync's benchmarks.

Vaults are generated once by ``benchmarks/generate.py`` and cached under
``benchmarks/vaults/<notes>-<seed>/`` (git-ignored). A cached vault is reused
only if its marker file names the current ``GENERATOR_VERSION``; otherwise it is
regenerated (into a temporary folder, then renamed, so an interrupted run never
leaves a half-written vault that looks complete).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks.generate import MARKER_NAME, generate_vault, marker_text

VAULTS_DIR = Path(__file__).resolve().parent / "vaults"

# Don't let pytest walk tens of thousands of generated files looking for tests.
collect_ignore = ["vaults"]


def ensure_vault(notes: int, seed: int = 0) -> Path:
    """Path of a complete generated vault for ``(notes, seed)``, generating it if needed."""
    target = VAULTS_DIR / f"{notes}-{seed}"
    marker = target / MARKER_NAME
    if marker.is_file() and marker.read_text(encoding="utf-8") == marker_text(notes, seed):
        return target
    VAULTS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = VAULTS_DIR / f".tmp-{notes}-{seed}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    generate_vault(tmp, notes, seed)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target


@pytest.fixture(scope="session")
def bench_vault() -> Callable[..., Path]:
    """Factory: ``bench_vault(notes, seed=0) -> Path`` of a cached generated vault."""
    made: dict[tuple[int, int], Path] = {}

    def get(notes: int, seed: int = 0) -> Path:
        if (notes, seed) not in made:
            made[notes, seed] = ensure_vault(notes, seed)
        return made[notes, seed]

    return get


@pytest.fixture(scope="session", autouse=True)
def compiled_vaultsync() -> None:
    """Byte-compile vaultsync once, as `pip install` does for a user.

    With PYTHONDONTWRITEBYTECODE set (as on CI machines and in some shells), an
    editable install would compile every module from source on each run: about
    0.3 s of start-up that no installed copy pays. compileall writes the caches
    explicitly; imports then only read them.
    """
    import compileall

    compileall.compile_dir(
        Path(__file__).resolve().parent.parent / "vaultsync", quiet=1, force=False
    )
