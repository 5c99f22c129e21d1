"""Share a list of work between this process and forked copies of it.

The parent takes the first slice itself and never waits idle; each forked child takes one
of the other slices and sends back its results as plain rows (tuples of builtins, cheap to
pickle) through a pipe. A child inherits everything the parent has through fork(), so
nothing is sent to it. If a child fails for any reason, its slice is done again here, so
an error surfaces exactly as it would in one process.

A process pool would cost more on the machines this is measured on: its workers each
start from nothing, and the parent sits idle while they parse, then unpacks every row.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def workers() -> int:
    """How many processes may work at once: VAULTSYNC_JOBS, else the usable cores."""
    configured = os.environ.get("VAULTSYNC_JOBS", "")
    if configured.isdigit():
        return max(1, int(configured))
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def usable(count: int, threshold: int) -> int:
    """How many processes to share `count` items between; 1 means do them all here."""
    available = workers()
    # fork() is unsafe once other threads exist (the daemon's), and Windows has none.
    if (
        available < 2
        or count < threshold
        or threading.active_count() > 1
        or not hasattr(os, "fork")
    ):
        return 1
    return min(available, count)


def die_with_parent() -> None:
    """Child set-up: end with the parent process.

    A SIGKILLed parent never reads the results; without this a child would block
    forever writing them into the pipe (Linux: PR_SET_PDEATHSIG).
    """
    if sys.platform != "linux":
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before the line above took effect
        os._exit(1)


def apart(work: Callable[[], object]) -> bool | None:
    """Run `work` in a forked child and wait for it, so that the memory it takes goes
    back to the OS when the child ends (the daemon's whole check before it starts,
    which leaves only files behind). Whether it ran to its end; None: no child could be
    forked (no fork() here, or other threads run), so it did not run at all."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return None
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # pragma: no cover - the child ends in os._exit, never returns
        code = 1
        try:
            die_with_parent()
            work()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


# The parent's share of the items, relative to a child's: a child also packs and sends its
# results, which the parent then unpacks (about a quarter more work per item, measured).
_PARENT_WEIGHT = 1.25


def _slices(items: Sequence[T], parts: int) -> list[Sequence[T]]:
    """`parts` consecutive slices of `items`, the first (the parent's) a little larger."""
    first = round(len(items) * _PARENT_WEIGHT / (_PARENT_WEIGHT + parts - 1))
    rest = items[first:]
    size = max(1, -(-len(rest) // (parts - 1)))
    return [items[:first], *(rest[i : i + size] for i in range(0, len(rest), size))]


# Room reserved for one child's pickled results: address space only, since the pages of
# an anonymous shared mapping are allocated as they are written. Results that do not fit
# are computed again in the parent.
_ROOM_BASE = 64 << 20
_ROOM_PER_ITEM = 16 << 10  # a parsed note packs to ~2 KB on the benchmark vault
_LENGTH = struct.Struct("<Q")


def shared_room(items: int) -> mmap.mmap:
    """Shared memory for a forked child's results on `items` items (OSError, ...: none)."""
    return mmap.mmap(-1, _ROOM_BASE + _ROOM_PER_ITEM * items)


def put(room: mmap.mmap, value: Any) -> None:
    """Leave `value` (pickled) in `room`, for `take`; ValueError when it does not fit."""
    room.seek(_LENGTH.size)
    pickle.dump(value, room, protocol=pickle.HIGHEST_PROTOCOL)
    room[: _LENGTH.size] = _LENGTH.pack(room.tell() - _LENGTH.size)


def take(room: mmap.mmap, release: bool = False) -> Any:
    """What `put` left in `room`. With `release` (the room's last use, its writer gone),
    its pages are handed back to the system as they are read."""
    (length,) = _LENGTH.unpack(room[: _LENGTH.size])
    if release and _RELEASE is not None:
        return pickle.load(_Draining(room, _LENGTH.size, _LENGTH.size + length))
    # Unpickled from the shared memory itself: a copy of it (a slice) would add its
    # size to the peak memory, a hundred megabytes on 100,000 notes.
    with memoryview(room) as whole, whole[_LENGTH.size : _LENGTH.size + length] as pickled:
        return pickle.loads(pickled)  # both views let go even if this fails: the room closes


# Pages of shared memory read this far behind are freed (MADV_REMOVE frees them for
# good, which an anonymous shared mapping allows), so that reading a child's results
# does not hold them twice, as pickled pages and as objects.
_RELEASE = getattr(mmap, "MADV_REMOVE", None)
_RELEASE_STEP = 8 << 20


class _Draining:
    """`room[start:end]` as a file for pickle.load, its pages freed as they are read."""

    def __init__(self, room: mmap.mmap, start: int, end: int) -> None:
        self.room = room
        self.pos = start
        self.end = end
        self.freed = 0  # pages before this offset are freed

    def read(self, size: int = -1) -> bytes:
        stop = self.end if size < 0 else min(self.end, self.pos + size)
        data = self.room[self.pos : stop]
        self._advance(stop)
        return data

    def readinto(self, buffer: memoryview | bytearray) -> int:
        size = min(len(buffer), self.end - self.pos)
        buffer[:size] = self.room[self.pos : self.pos + size]
        self._advance(self.pos + size)
        return size

    def readline(self) -> bytes:
        newline = self.room.find(b"\n", self.pos, self.end)
        return self.read((self.end if newline < 0 else newline + 1) - self.pos)

    def _advance(self, pos: int) -> None:
        self.pos = pos
        done = pos - pos % mmap.PAGESIZE
        if done - self.freed >= _RELEASE_STEP and _RELEASE is not None:
            with contextlib.suppress(OSError):  # not allowed here: the pages stay
                self.room.madvise(_RELEASE, self.freed, done - self.freed)
            self.freed = done


def _child(work: Callable[[Sequence[T]], list[Any]], part: Sequence[T], room: mmap.mmap) -> None:
    """Runs in the forked child: do `part`, leave its rows in `room`, exit without cleanup."""
    status = 1
    try:
        die_with_parent()
        put(room, work(part))
        status = 0
    finally:
        os._exit(status)


def split(
    items: Sequence[T],
    processes: int,
    local: Callable[[Sequence[T]], list[R]],
    remote: Callable[[Sequence[T]], list[Any]],
    unpack: Callable[[Any], R],
) -> list[R]:
    """`local(items)`, computed by `processes` processes, results in the order of `items`.

    `remote(part)` must give, for the same part, rows that `unpack` turns into what
    `local(part)` gives. Rows come back through shared memory, not a pipe: sending ten
    megabytes through a pipe took longer than unpickling them.
    """
    parts = _slices(items, processes) if processes > 1 and items else [items]
    children: list[tuple[int, mmap.mmap]] = []  # removed once waited for
    try:
        for part in parts[1:]:
            try:
                shared = shared_room(len(part))
            except (OSError, OverflowError, ValueError):
                break  # no room for results: the parent does the rest itself
            try:
                pid = os.fork()
            except OSError:  # out of processes or memory: likewise
                shared.close()
                break
            if pid == 0:
                _child(remote, part, shared)
            children.append((pid, shared))
        forked = len(children)
        results = local(parts[0])
        for number, part in enumerate(parts[1:]):
            rows = None
            if number < forked:
                pid, shared = children[0]
                rows = _receive(pid, shared)
                del children[0]
                shared.close()
            results.extend(local(part) if rows is None else map(unpack, rows))
        return results
    finally:
        for pid, shared in children:  # only when interrupted: stop the rest
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            shared.close()


def _receive(pid: int, shared: mmap.mmap) -> list[Any] | None:
    """A child's rows, or None if it did not finish its part; the child is waited for."""
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    rows: list[Any] = take(shared, release=True)
    return rows
