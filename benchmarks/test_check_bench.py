"""Cold ``vaultsync check`` on generated vaults (design.md §11).

Run with ``.venv/bin/pytest benchmarks/ --benchmark-only``. Each round is a real
process, so the figures include interpreter start-up and imports, as a user sees
them. "Cold" means no vaultsync cache (``--no-cache``); the OS page cache is warm,
since the vault was just generated or read by an earlier round.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.regex_pass import note_texts, regex_pass

REPO_ROOT = Path(__file__).resolve().parent.parent
HUGE = os.environ.get("VAULTSYNC_BENCH_HUGE") == "1"

BenchVault = Callable[..., Path]


def run_check(vault: Path) -> int:
    """One cold ``vaultsync check`` as a separate process; its exit code."""
    proc = subprocess.run(
        [sys.executable, "-m", "vaultsync", "check", str(vault), "--exit-zero", "--no-cache", "-q"],
        stdout=subprocess.DEVNULL,
        cwd=REPO_ROOT,
        check=False,
    )
    return proc.returncode


def _describe(benchmark: BenchmarkFixture, vault: Path, notes: int) -> None:
    md = [p for p in vault.rglob("*.md") if ".obsidian" not in p.parts]
    benchmark.group = "cold check"
    benchmark.extra_info["notes"] = notes
    benchmark.extra_info["markdown_mb"] = round(sum(p.stat().st_size for p in md) / 1e6, 1)


def _children_max_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS); it is the peak of the largest
    # child process waited for so far in this session, so an upper bound per test.
    scale = 1 if sys.platform == "darwin" else 1024
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale / 1e6, 1)


def _cold_check(
    benchmark: BenchmarkFixture, bench_vault: BenchVault, notes: int, rounds: int | None
) -> None:
    vault = bench_vault(notes)
    _describe(benchmark, vault, notes)
    codes: list[int] = []

    def once() -> None:
        codes.append(run_check(vault))

    if rounds is None:
        benchmark(once)
    else:
        benchmark.pedantic(once, rounds=rounds, iterations=1)  # type: ignore[no-untyped-call]
    benchmark.extra_info["children_max_rss_mb"] = _children_max_rss_mb()
    assert codes, "the check never ran"
    assert all(code == 0 for code in codes), f"vaultsync check exit codes: {codes}"


def test_cold_check_1k(benchmark: BenchmarkFixture, bench_vault: BenchVault) -> None:
    _cold_check(benchmark, bench_vault, 1_000, rounds=None)


def test_cold_check_10k(benchmark: BenchmarkFixture, bench_vault: BenchVault) -> None:
    _cold_check(benchmark, bench_vault, 10_000, rounds=3)


@pytest.mark.skipif(
    not HUGE,
    reason="100,000-note vault (~450 MB, minutes to generate); set VAULTSYNC_BENCH_HUGE=1",
)
def test_cold_check_100k(benchmark: BenchmarkFixture, bench_vault: BenchVault) -> None:
    _cold_check(benchmark, bench_vault, 100_000, rounds=3)


def test_baseline_read_all_10k(benchmark: BenchmarkFixture, bench_vault: BenchVault) -> None:
    """Reading every note's bytes in-process: the floor a cold check cannot beat.

    Useful to compare figures across machines (design.md §11 quotes 0.14 s).
    """
    vault = bench_vault(10_000)
    _describe(benchmark, vault, 10_000)
    benchmark.group = "baseline"
    paths = sorted(p for p in vault.rglob("*.md") if ".obsidian" not in p.parts)

    def read_all() -> int:
        return sum(len(p.read_bytes()) for p in paths)

    total = benchmark(read_all)
    assert total > 0


def test_baseline_regex_pass_10k(benchmark: BenchmarkFixture, bench_vault: BenchVault) -> None:
    """One regex pass over every note's text, in-process: CPU speed, to compare machines.

    Reading costs about the same on most machines; this does not. Compare a cold check's
    figure with this one's, not with a figure taken on another day.
    """
    vault = bench_vault(10_000)
    _describe(benchmark, vault, 10_000)
    benchmark.group = "baseline"
    texts = note_texts(vault)
    assert benchmark(regex_pass, texts) > 100_000
