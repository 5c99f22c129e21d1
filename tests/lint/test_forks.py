"""forks.split: work shared with forked children gives what one process gives."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

from vaultsync.lint import forks as forks_module


def _squares(part: Sequence[int]) -> list[int]:
    return [n * n for n in part]


def _rows(part: Sequence[int]) -> list[tuple[int, int]]:
    return [(os.getpid(), n * n) for n in part]


def _unpack_counting(pids: set[int]) -> object:
    def unpack(row: tuple[int, int]) -> int:
        pids.add(row[0])
        return row[1]

    return unpack


@pytest.mark.parametrize("processes", [2, 3, 5])
def test_results_are_in_order_and_come_from_the_children(processes: int) -> None:
    items = list(range(1001))
    pids: set[int] = set()
    result = forks_module.split(items, processes, _squares, _rows, _unpack_counting(pids))  # type: ignore[arg-type]
    assert result == _squares(items)
    assert len(pids) == processes - 1
    assert os.getpid() not in pids


def test_a_child_that_dies_has_its_part_done_in_the_parent() -> None:
    parent = os.getpid()

    def dies_in_child(part: Sequence[int]) -> list[tuple[int, int]]:
        if os.getpid() != parent:
            os._exit(9)
        raise AssertionError("remote work ran in the parent")

    items = list(range(100))
    assert forks_module.split(items, 3, _squares, dies_in_child, lambda row: row) == _squares(items)


def test_results_too_big_for_the_shared_room_are_done_in_the_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(forks_module, "_ROOM_BASE", 64)
    monkeypatch.setattr(forks_module, "_ROOM_PER_ITEM", 1)
    calls: list[int] = []

    def local(part: Sequence[int]) -> list[int]:
        calls.append(len(part))
        return _squares(part)

    items = list(range(500))
    assert forks_module.split(items, 2, local, _rows, lambda row: row[1]) == _squares(items)
    assert sum(calls) == len(items)  # the child's part was redone here


def test_when_fork_fails_the_parent_does_all_the_work(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    items = list(range(300))
    assert forks_module.split(items, 3, _squares, _rows, lambda row: row[1]) == _squares(items)


def test_an_error_in_the_parent_stops_the_children(forks: list[int]) -> None:
    def slow(part: Sequence[int]) -> list[int]:
        import time

        time.sleep(60)  # would hold the test for a minute if the parent waited for it
        return list(part)

    def fails(part: Sequence[int]) -> list[int]:
        raise ValueError("bad note")

    with pytest.raises(ValueError, match="bad note"):
        forks_module.split(list(range(10)), 2, fails, slow, lambda row: row)
    assert len(forks) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # already killed and waited for


def test_small_lists_and_systems_without_fork_stay_in_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VAULTSYNC_JOBS", "4")
    assert forks_module.usable(10, threshold=400) == 1
    assert forks_module.usable(1000, threshold=400) == 4
    monkeypatch.setenv("VAULTSYNC_JOBS", "1")
    assert forks_module.usable(1000, threshold=400) == 1
    monkeypatch.setenv("VAULTSYNC_JOBS", "4")
    monkeypatch.delattr(os, "fork")  # as on Windows
    assert forks_module.usable(1000, threshold=400) == 1


def _rss_shared_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssShmem:"):
                return int(line.split()[1])
    raise AssertionError("no RssShmem")


@pytest.mark.skipif(not hasattr(forks_module.mmap, "MADV_REMOVE"), reason="Linux only")
def test_taking_results_for_the_last_time_frees_the_pages_read() -> None:
    """A child's results (here 60 MB of them, put by this process itself) are
    unpickled the same way, and with `release` the shared pages they came in are freed
    as they are read, not held until the room is closed."""
    value = {f"note {i}": os.urandom(600) for i in range(100_000)}
    value["lines"] = ["x" * 300] * 1000
    rooms = [forks_module.shared_room(400_000) for _ in range(2)]
    try:
        changes = []
        for room, release in zip(rooms, (False, True), strict=True):
            forks_module.put(room, value)
            before = _rss_shared_kb()
            assert forks_module.take(room, release=release) == value
            changes.append(_rss_shared_kb() - before)
        kept, freed = changes
        assert abs(kept) < 5_000  # KB: without `release` the pages stay
        assert freed < -50_000  # with it, all but the last few MB are gone
        assert rooms[1][8 << 20 : (8 << 20) + 16] == bytes(16)  # freed for good
        assert rooms[0][8 << 20 : (8 << 20) + 16] != bytes(16)
    finally:
        for room in rooms:
            room.close()
