"""SIGKILL a running `vaultsync fix` at random moments: every note stays old or fully fixed.

One 2,000-note generated vault is shared by all rounds. The expected fixed bytes come
from an in-process dry run; a first child run to completion must produce exactly them,
and tells how long its write phase lasts. Then each round starts a child `fix`, kills it
with SIGKILL at a random moment (mostly inside the write phase, which begins when the
first `.vaultsync-tmp-*` file appears; some rounds earlier, while it reads), checks every
note byte for byte, and puts back the old bytes of the notes it changed. Temp files a
killed child leaves are not removed by the test: the next run must clean them up.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import dead_pid
from vaultsync.config.settings import load_config
from vaultsync.fixing.fix import FixOptions, fix_vault
from vaultsync.io import writer
from vaultsync.lint import engine
from vaultsync.rules import Selection

# Slow (crash): plain `pytest` deselects it; the full run (README, .ci/run) has it.
pytestmark = pytest.mark.slow

NOTES = 2000
MIN_ROUNDS = 20
MAX_ROUNDS = 40
MIN_PARTIAL = 3  # rounds that must end with some notes new and some old
SELECT = "L009"  # a safe link fix that touches a few hundred of the 2,000 notes
REPO = Path(__file__).resolve().parent.parent


def _source_vault(tmp: Path) -> Path:
    try:
        from benchmarks.conftest import ensure_vault
    except ImportError:
        return _simple_vault(tmp / "simple")
    return ensure_vault(NOTES)


def _simple_vault(root: Path) -> Path:
    """Fallback when the benchmark generator is absent: notes linking in the wrong case."""
    for i in range(NOTES):
        folder = root / f"f{i % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        links = " ".join(f"[[topic {(i * 7 + k) % NOTES}]]" for k in range(3))
        (folder / f"Topic {i}.md").write_text(f"# Topic {i}\n\nSee {links}.\n", "utf-8")
    return root


def _notes(root: Path) -> dict[str, bytes]:
    found = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.endswith(".md") and not name.startswith("."):
                path = Path(folder, name)
                found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def _temps(root: Path, folders: list[Path] | None = None) -> list[str]:
    where = folders if folders is not None else [Path(f) for f, _, _ in os.walk(root)]
    return [
        entry.name
        for folder in where
        for entry in os.scandir(folder)
        if entry.name.startswith(writer.TEMP_PREFIX)
    ]


def _start(root: Path) -> subprocess.Popen[bytes]:
    """The real CLI in a child process."""
    return subprocess.Popen(
        [sys.executable, "-m", "vaultsync", "fix", str(root), "--select", SELECT, "-q"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class _Forked:
    """A forked child running what `vaultsync fix` runs, on a vault loaded once.

    Forking skips the interpreter start-up and the reading of 2,000 notes in every round
    (the notes are put back byte for byte, so the digests read still hold); the child
    goes through the same steps as the CLI: clean temp files, fix passes, batched write.
    It is given the notes to fix (`vaultsync fix PATH...`), the notes with problems, so
    that its checks do not dominate the rounds; the writes are the same.
    """

    def __init__(self, vault: engine.Vault, only: set[str]) -> None:
        self.pid = os.fork()
        if self.pid == 0:  # the child: never return into pytest
            code = 1
            try:
                # Its own process group, so that the kill also reaches any worker processes
                # the engine forks (orphaned, they would wait on a dead parent forever).
                os.setpgid(0, 0)
                writer.clean_temp_files(vault.root)
                result = fix_vault(vault, Selection.build([SELECT], []), only)
                code = 0 if not result.skipped else 1
            finally:
                os._exit(code)
        with contextlib.suppress(OSError):
            os.setpgid(self.pid, self.pid)  # also from here: no race with the kill below
        self.status: int | None = None

    def poll(self) -> int | None:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
        return self.status

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.status is None:
            _, self.status = os.waitpid(self.pid, 0)


def _wait_for_writes(
    child: subprocess.Popen[bytes] | _Forked, root: Path, folders: list[Path]
) -> bool:
    """Block until the child starts writing (a temp file appears); False if it exited."""
    while child.poll() is None:
        if _temps(root, folders):
            return True
        time.sleep(0.002)
    return False


def _wait_for_replacing(child: _Forked, notes: dict[Path, int]) -> bool:
    """Block until the child replaces its first note (a new inode); False if it exited.

    The replace phase is short next to writing the temp files and syncing them, so
    kills timed from the first temp file alone rarely land inside it.
    """
    while child.poll() is None:
        for path, inode in notes.items():
            with contextlib.suppress(FileNotFoundError):
                if os.stat(path).st_ino != inode:
                    return True
        time.sleep(0.001)
    return False


def test_sigkill_leaves_every_note_old_or_new(tmp_path: Path) -> None:
    work = tmp_path / "vault"
    shutil.copytree(_source_vault(tmp_path), work, ignore=shutil.ignore_patterns(".vaultsync"))
    old = _notes(work)
    assert len(old) >= NOTES

    vault = engine.load(work, load_config(work))
    planned = fix_vault(vault, Selection.build([SELECT], []), options=FixOptions(dry_run=True))
    new = dict(old)
    for path, change in planned.changes.items():
        new[path] = writer.encode(change.after, change.bom)
    changed = {p for p in old if new[p] != old[p]}
    assert len(changed) > 100, "the vault should give the writer real work"
    folders = sorted({(work / p).parent for p in changed})

    # A first run of the CLI to completion: exactly the planned bytes; how long it writes.
    child = _start(work)
    assert _wait_for_writes(child, work, folders)
    writing_from = time.monotonic()
    assert child.wait() == 0
    write_phase = time.monotonic() - writing_from
    assert _notes(work) == new
    assert _temps(work) == []

    def restore() -> None:
        for path, data in _notes(work).items():
            if data != old[path]:
                (work / path).write_bytes(old[path])

    restore()
    rng = random.Random(os.environ.get("VAULTSYNC_CRASH_SEED", "20261126"))
    partial = leftovers = rounds = 0
    read_phase = 0.5
    while rounds < MIN_ROUNDS or (partial < MIN_PARTIAL and rounds < MAX_ROUNDS):
        rounds += 1
        started = time.monotonic()
        if rounds > 1:
            # Temp files the last kill left would be taken for this child's first writes;
            # the child would remove them too (the last round's are left for the CLI).
            for folder in folders:
                for name in _temps(work, [folder]):
                    (folder / name).unlink()
        inodes = {work / p: os.stat(work / p).st_ino for p in changed}
        forked = _Forked(vault, changed)
        if rounds % 5 == 0:  # now and then, while it is still checking
            time.sleep(rng.uniform(0, read_phase))
        elif rounds % 2 == 0:  # while notes are being replaced
            if _wait_for_replacing(forked, inodes):
                time.sleep(rng.uniform(0, 0.01))
        elif _wait_for_writes(forked, work, folders):
            read_phase = time.monotonic() - started
            time.sleep(rng.uniform(0, write_phase * 1.1))
        forked.kill()
        now = _notes(work)
        assert set(now) == set(old), f"round {rounds}: notes appeared or vanished"
        torn = [p for p in old if now[p] not in (old[p], new[p])]
        assert torn == [], f"round {rounds}: neither old nor new: {torn[:5]}"
        written = sum(1 for p in changed if now[p] == new[p])
        partial += 0 < written < len(changed)
        leftovers += bool(_temps(work, folders))
        restore()

    assert partial >= MIN_PARTIAL, f"only {partial} of {rounds} kills landed mid-write"
    # The next complete run of the CLI cleans what the killed ones left and finishes.
    assert _start(work).wait() == 0
    assert _temps(work) == []
    assert _notes(work) == new
    print(
        f"{rounds} kills, {partial} mid-write, {leftovers} left temp files; "
        f"checks {read_phase:.1f} s, writes {write_phase:.1f} s"
    )


@pytest.mark.parametrize("count", [3])
def test_leftover_temp_files_are_cleaned_by_the_next_fix(tmp_path: Path, count: int) -> None:
    """Temp files of a dead writer are removed at the start of `fix`; notes untouched."""
    (tmp_path / ".obsidian").mkdir()
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/Note.md").write_bytes(b"# Note\n")
    dead = dead_pid()
    for i in range(count):
        (tmp_path / "sub" / f"{writer.TEMP_PREFIX}{dead}-{i}").write_bytes(b"half a no")
    proc = subprocess.run(
        [sys.executable, "-m", "vaultsync", "fix", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert _temps(tmp_path) == []
    assert (tmp_path / "sub/Note.md").read_bytes() == b"# Note\n"
