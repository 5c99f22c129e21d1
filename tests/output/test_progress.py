"""The progress bar: drawn on a terminal, never in a pipe, in CI or with -q.

The real CLI runs in a subprocess whose stdout and stderr are a pseudo-terminal.
VAULTSYNC_PROGRESS_DELAY=0 makes the bar draw at once, so a small vault suffices;
one test keeps the real one-second delay and sees a quick run stay quiet.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.conftest import write_vault

NOTES = 600  # engine.load reports progress every 256 notes


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    notes = {f"notes/Note {i}.md": f"# Note {i}\n[[Note {i + 1}]]\n" for i in range(NOTES)}
    return write_vault(tmp_path_factory.mktemp("progress") / "vault", notes)


def environment(delay: str | None = "0", ci: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "VAULTSYNC_PROGRESS_DELAY")}
    if delay is not None:
        env["VAULTSYNC_PROGRESS_DELAY"] = delay
    if ci:
        env["CI"] = "true"
    return env


def in_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `vaultsync ARGS` with stdout and stderr on a pty: (exit code, what the screen got)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "vaultsync", *args],
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            env=env,
        )
    finally:
        os.close(slave)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    code = process.wait(timeout=60)
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_bar_is_drawn_on_a_terminal(vault: Path) -> None:
    code, screen = in_terminal(["check", "--select", "L", str(vault)], environment())
    assert code == 1, screen  # the last note links to a missing one
    assert "Indexing" in screen
    assert re.search(rf"Indexing: +\d+%\|.*\| \d+/{NOTES} ", screen), screen
    assert "Found 1 problem" in screen


def test_a_bar_does_not_keep_parsing_in_one_process(vault: Path) -> None:
    # tqdm's monitor thread once made vaultsync parse in one process whenever a bar was
    # drawn (it does not fork once a second thread runs). Shared with a forked copy, the
    # bar moves two notes for each one this process parses: 512 is its first count.
    env = {**environment(), "VAULTSYNC_JOBS": "2"}
    code, screen = in_terminal(["check", "--select", "L", "--no-cache", str(vault)], env)
    assert code == 1, screen
    assert f"512/{NOTES}" in screen, screen
    assert f"256/{NOTES}" not in screen, screen


def test_no_bar_in_a_pipe(vault: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vaultsync", "check", "--select", "L", str(vault)],
        capture_output=True,
        text=True,
        env=environment(),
        check=False,
    )
    assert result.returncode == 1
    assert "Found 1 problem" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("args", "ci"),
    [pytest.param(["-q"], False, id="quiet"), pytest.param([], True, id="ci")],
)
def test_no_bar_when_quiet_or_in_ci(vault: Path, args: list[str], ci: bool) -> None:
    code, screen = in_terminal(["check", "--select", "L", str(vault), *args], environment(ci=ci))
    assert code == 1
    assert "L001" in screen
    assert "Indexing" not in screen


def test_quick_runs_stay_quiet_with_the_default_delay(vault: Path) -> None:
    # Loading 600 small notes takes a fraction of the one-second delay.
    code, screen = in_terminal(["check", "--select", "L", str(vault)], environment(delay=None))
    assert code == 1
    assert "Indexing" not in screen
