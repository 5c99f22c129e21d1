"""The processes vaultsync forks to parse and check never outlive a killed vaultsync."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import write_vault


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.update(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_forked_children_end_when_vaultsync_is_killed(tmp_path: Path) -> None:
    # Enough notes, each large enough, that parsing is still under way when killed.
    body = "".join(f"Line {i} with [[Link {i % 97}]] and #tag{i % 7}.\n" for i in range(400))
    vault = write_vault(tmp_path / "v", {f"n{i}/Note {i}.md": body for i in range(3000)})
    env = {**os.environ, "VAULTSYNC_JOBS": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vaultsync", "check", str(vault), "--no-cache", "-q"],
        stdout=subprocess.DEVNULL,
        env=env,
    )
    workers: set[int] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        workers = _children(proc.pid)
        if workers:
            break
        time.sleep(0.02)
    if proc.poll() is not None:
        pytest.fail("vaultsync finished before it forked: make the vault larger")
    assert workers, "no child process appeared"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)], "children outlived the killed parent"
