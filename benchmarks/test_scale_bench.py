"""Warm checks, fix and graph export on generated vaults (design.md §11, issue 6).

Every round is a real `vaultsync` process, so figures include start-up and imports.
Peak memory is measured per process with wait4(2) and kept in `extra_info`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

REPO_ROOT = Path(__file__).resolve().parent.parent
HUGE = os.environ.get("VAULTSYNC_BENCH_HUGE") == "1"
SIZES = [
    1_000,
    10_000,
    pytest.param(100_000, marks=pytest.mark.skipif(not HUGE, reason="set VAULTSYNC_BENCH_HUGE=1")),
]

BenchVault = Callable[..., Path]


def vaultsync(*args: str) -> tuple[int, float]:
    """Run `python -m vaultsync ARGS`; (exit code, peak RSS in MB) of that process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "vaultsync", *args],
        stdout=subprocess.DEVNULL,
        cwd=REPO_ROOT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024


def _record(benchmark: BenchmarkFixture, group: str, notes: int, peaks: list[float]) -> None:
    benchmark.group = group
    benchmark.extra_info["notes"] = notes
    benchmark.extra_info["peak_rss_mb"] = round(max(peaks), 1) if peaks else None


@pytest.mark.parametrize("notes", SIZES)
def test_warm_check_unchanged(
    benchmark: BenchmarkFixture, bench_vault: BenchVault, notes: int
) -> None:
    vault = bench_vault(notes)
    assert vaultsync("check", str(vault), "--exit-zero", "-q")[0] == 0  # fill the caches
    peaks: list[float] = []

    def once() -> None:
        code, peak = vaultsync("check", str(vault), "--exit-zero", "-q")
        assert code == 0
        peaks.append(peak)

    benchmark.pedantic(once, rounds=5, iterations=1)  # type: ignore[no-untyped-call]
    _record(benchmark, "warm check, nothing changed", notes, peaks)


Setup = Callable[[], tuple[tuple[()], dict[str, object]]]


def _checked_copy(source: Path, tmp_path: Path) -> tuple[Path, Path, Setup]:
    """A copy of the vault after a whole check (which leaves the snapshot), its first
    note, and a benchmark setup that appends a line with a new link to that note."""
    vault = tmp_path / "vault"
    shutil.copytree(source, vault, symlinks=True)
    assert vaultsync("check", str(vault), "--exit-zero", "-q")[0] == 0
    # That check wrote ~55 MB of caches at 10k: flushed here, outside the timing, so the
    # rounds measure the check after an edit, not the previous run's writeback.
    os.sync()
    note = sorted(vault.glob("*.md"))[0]
    original = note.read_text(encoding="utf-8")
    rounds = iter(range(1_000))

    def edit() -> tuple[tuple[()], dict[str, object]]:
        note.write_text(original + f"\nEdit {next(rounds)}: [[Edited link]]\n", encoding="utf-8")
        return (), {}

    return vault, note, edit


def _bench_after_edit(
    benchmark: BenchmarkFixture, edit: Setup, args: list[str], group: str, notes: int
) -> None:
    peaks: list[float] = []

    def once() -> None:
        code, peak = vaultsync("check", *args, "--exit-zero", "-q")
        assert code == 0
        peaks.append(peak)

    benchmark.pedantic(once, setup=edit, rounds=5, iterations=1)  # type: ignore[no-untyped-call]
    _record(benchmark, group, notes, peaks)


@pytest.mark.parametrize("notes", SIZES)
def test_warm_check_after_editing_one_note(
    benchmark: BenchmarkFixture, bench_vault: BenchVault, notes: int, tmp_path: Path
) -> None:
    vault, _note, edit = _checked_copy(bench_vault(notes), tmp_path)
    _bench_after_edit(benchmark, edit, [str(vault)], "warm check, one note edited", notes)


@pytest.mark.parametrize("notes", SIZES)
def test_check_of_one_edited_note(
    benchmark: BenchmarkFixture, bench_vault: BenchVault, notes: int, tmp_path: Path
) -> None:
    """What a pre-commit hook runs after one note was edited: `check NOTE`, cache warm."""
    _vault, note, edit = _checked_copy(bench_vault(notes), tmp_path)
    group = "check of one edited note (pre-commit)"
    _bench_after_edit(benchmark, edit, [str(note)], group, notes)


@pytest.mark.parametrize("notes", SIZES)
def test_fix_whole_vault(
    benchmark: BenchmarkFixture, bench_vault: BenchVault, notes: int, tmp_path: Path
) -> None:
    source = bench_vault(notes)
    copies = iter(range(1_000))
    peaks: list[float] = []
    target: list[Path] = []

    def fresh_copy() -> tuple[tuple[()], dict[str, object]]:
        # Untimed: remove the last round's copy, make a new one, and flush it to disk.
        # Without the sync, fix's own sync() would also write out the 45 MB the copy left
        # dirty in the page cache, which a user's vault at rest does not have.
        for old in target:
            shutil.rmtree(old)
        copy = tmp_path / f"copy-{next(copies)}"
        shutil.copytree(source, copy, symlinks=True)
        os.sync()
        target[:] = [copy]
        return (), {}

    def once() -> None:
        code, peak = vaultsync("fix", str(target[0]), "--exit-zero", "-q", "--no-cache")
        assert code == 0
        peaks.append(peak)

    benchmark.pedantic(once, setup=fresh_copy, rounds=3, iterations=1)  # type: ignore[no-untyped-call]
    _record(benchmark, "fix, whole vault (no cache)", notes, peaks)


@pytest.mark.parametrize("notes", SIZES)
def test_graph_export(benchmark: BenchmarkFixture, bench_vault: BenchVault, notes: int) -> None:
    vault = bench_vault(notes)
    peaks: list[float] = []

    def once() -> None:
        code, peak = vaultsync("graph", str(vault), "--no-cache")
        assert code == 0
        peaks.append(peak)

    benchmark.pedantic(once, rounds=3, iterations=1)  # type: ignore[no-untyped-call]
    _record(benchmark, "graph export (no cache)", notes, peaks)


def test_baseline_atomic_rewrite_of_every_note_10k(
    benchmark: BenchmarkFixture, bench_vault: BenchVault, tmp_path: Path
) -> None:
    """The floor under `fix` when most notes change: one atomic replace per note.

    No vaultsync: for every note, a temp file beside it holding the note's bytes, then
    `os.replace` over the note, then one `sync()`, as `fix`'s writer does at least.
    """
    source = bench_vault(10_000)
    copy = tmp_path / "copy"
    shutil.copytree(source, copy, symlinks=True)
    os.sync()
    notes = sorted(p for p in copy.rglob("*.md") if ".obsidian" not in p.parts)
    contents = [p.read_bytes() for p in notes]

    def rewrite_all() -> None:
        for i, (note, data) in enumerate(zip(notes, contents, strict=True)):
            temp = note.parent / f".bench-tmp-{i}"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, data)
            os.close(fd)
            os.replace(temp, note)
        os.sync()

    benchmark.pedantic(rewrite_all, rounds=3, iterations=1)  # type: ignore[no-untyped-call]
    benchmark.group = "baseline"
    benchmark.extra_info["notes"] = len(notes)
