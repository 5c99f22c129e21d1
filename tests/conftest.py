from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the sample vault."""
    target = tmp_path / "seeds"
    # copyfile, not copy2: the checked-out seeds may be read-only, and `fix` leaves
    # read-only notes alone; the copy is a user's ordinary, writable vault.
    shutil.copytree(SEEDS, target, copy_function=shutil.copyfile)
    return target


# Generated sections are opt-in (§6): the config of a fixture vault that uses them.
SECTIONS_ON = "[backlinks]\nenabled = true\n"


def imported_by_check(packages: set[str]) -> list[str]:
    """Which of `packages` a `vaultsync check seeds -q` in a fresh interpreter imports."""
    code = (
        "import json, sys\n"
        "from vaultsync.cli import main\n"
        "main(['check', 'seeds', '-q', '--exit-zero'])\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {packages!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def write_vault(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create a fixture vault: {relative path: text or bytes}."""
    root.mkdir(parents=True, exist_ok=True)
    (root / ".obsidian").mkdir(exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


def aged(root: Path, seconds: float = 3600.0) -> Path:
    """Make every file of the vault at `root` (but vaultsync's own state) `seconds` old:
    a check stores no results for files written a moment ago (and the next check reads
    them again to see whether they changed)."""
    past = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file() and ".vaultsync" not in path.relative_to(root).parts:
            os.utime(path, (past, past))
    return root


def dead_pid() -> str:
    """The pid of a process that has ended (a crashed writer's, as far as a test goes)."""
    return subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def snapshot(root: Path) -> dict[str, bytes]:
    """Every vault file's bytes by vault path (dot-folders such as .obsidian and
    vaultsync's cache are not part of the vault)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def read(root: Path, rel: str) -> str:
    return (root / rel).read_bytes().decode("utf-8")


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pid of every child process vaultsync forks during the test (parsing, checking)."""
    made: list[int] = []
    real_fork = os.fork

    def recording_fork() -> int:
        pid = real_fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording_fork)
    return made
