"""Faults while `fix` writes: the file keeps its old bytes, one line names it, the run goes on.

Each case runs `vaultsync fix` in a child process. Real faults where the system can make
them (a file size limit through RLIMIT_FSIZE, read-only files and folders); where it
cannot (an `os.replace` or a write that fails with EIO / ENOSPC), the child wraps that one
system call for one file name before running the real CLI. Exit code 1: the user's vault
still has a problem (a note left unfixed), not vaultsync (docs/reliability.md).
"""

from __future__ import annotations

import os
import pwd
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import REPO, SECTIONS_ON, write_vault
from tests.test_hostile import Run, assert_clean_exit
from vaultsync.io.writer import TEMP_PREFIX

BIG = "big.md"
BIG_TEXT = "[[target]]\n" + "filler line of a long note\n" * 8000  # ~210 KB
FSIZE_LIMIT = 100_000  # bytes: every small note fits, the big one cannot be rewritten


def _vault(root: Path, count: int) -> Path:
    files: dict[str, str | bytes] = {
        # Every rule (L009 fixes the links) and generated sections: many writes.
        ".vaultsync.toml": 'select = ["ALL"]\n' + SECTIONS_ON,
        "Target.md": "# Target\n",
        BIG: BIG_TEXT,
    }
    files.update({f"note{i:02}.md": f"note {i} [[target]]\n" for i in range(count)})
    return write_vault(root, files)


def _small_notes_fixed(root: Path, count: int) -> None:
    for i in range(count):
        assert (root / f"note{i:02}.md").read_text(encoding="utf-8") == f"note {i} [[Target]]\n"


def _no_temp_files(root: Path) -> None:
    assert not [p for p in root.rglob(f"{TEMP_PREFIX}*")], "a temp file was left behind"


def _skipped_lines(err: str, path: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(f"vaultsync: skipped {path}:")]


def _run(argv: list[str], preexec_fn: Callable[[], None] | None = None) -> Run:
    proc = subprocess.run(
        argv, cwd=REPO, capture_output=True, text=True, timeout=60, preexec_fn=preexec_fn
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, 0.0, 0.0)


# 3 notes: one fsync per file; 20: the batched path (one sync() for all temp files).
@pytest.mark.parametrize("count", [3, 20])
def test_file_too_large_rlimit_fsize(tmp_path: Path, count: int) -> None:
    root = _vault(tmp_path / "vault", count)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))

    run = _run(
        [sys.executable, "-m", "vaultsync", "fix", str(root), "--no-cache", "--select", "L"],
        preexec_fn=limit,
    )
    assert_clean_exit(run)
    assert run.code == 1
    assert (root / BIG).read_text(encoding="utf-8") == BIG_TEXT  # old bytes, whole
    [line] = _skipped_lines(run.err, BIG)
    assert "File too large" in line
    _small_notes_fixed(root, count)
    _no_temp_files(root)


# Wrap one system call in the child, for the big note only (its temp file or its rename).
_INJECT = """
import errno, os, sys
from vaultsync.cli import main

kind, root, *argv = sys.argv[1:]
real_replace, real_write, real_open = os.replace, os.write, os.open
victim_fds = set()

def replace(src, dst, *a, **k):
    if kind == "replace" and str(dst).endswith("/big.md"):
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(dst))
    return real_replace(src, dst, *a, **k)

def opener(path, flags, *a, **k):
    fd = real_open(path, flags, *a, **k)
    # The big note's temp file: the only temp file over 100 KB.
    if flags & os.O_CREAT and "vaultsync-tmp" in str(path):
        victim_fds.add(fd)
    return fd

def write(fd, data):
    if kind == "enospc" and fd in victim_fds and len(data) > 100_000:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_write(fd, data)

os.replace, os.write, os.open = replace, write, opener
sys.exit(main(["fix", root, "--no-cache", "--select", "L", *argv]))
"""


@pytest.mark.parametrize(
    ("kind", "message"),
    [("replace", "Input/output error"), ("enospc", "No space left on device")],
)
@pytest.mark.parametrize("count", [3, 20])
def test_injected_write_faults(tmp_path: Path, kind: str, message: str, count: int) -> None:
    root = _vault(tmp_path / "vault", count)
    run = _run([sys.executable, "-c", _INJECT, kind, str(root)])
    assert_clean_exit(run)
    assert run.code == 1
    assert (root / BIG).read_text(encoding="utf-8") == BIG_TEXT
    [line] = _skipped_lines(run.err, BIG)
    assert message in line
    _small_notes_fixed(root, count)
    _no_temp_files(root)


def test_read_only_file_is_left_alone(tmp_path: Path) -> None:
    root = _vault(tmp_path / "vault", 3)
    (root / BIG).chmod(0o444)
    run = _run([sys.executable, "-m", "vaultsync", "fix", str(root), "--no-cache", "-q"])
    assert_clean_exit(run)
    assert run.code == 1
    assert (root / BIG).read_text(encoding="utf-8") == BIG_TEXT
    assert (root / BIG).stat().st_mode & 0o777 == 0o444
    [line] = _skipped_lines(run.err, BIG)
    assert "read-only file" in line
    _small_notes_fixed(root, 3)


# As root, a folder's mode does not stop a write: the child drops to `nobody` (see
# test_hostile._AS_NOBODY, which also explains the warm-up run).
_AS_NOBODY = """
import contextlib, io, os, pwd, sys
from vaultsync.cli import main

warm, root = sys.argv[1:]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main(["fix", warm, "--no-cache"])
if os.geteuid() == 0:
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
sys.exit(main(["fix", root, "--no-cache", "--select", "L"]))
"""


def test_read_only_folder(tmp_path: Path) -> None:
    base = Path(tempfile.mkdtemp(prefix="vaultsync-ro-"))
    try:
        base.chmod(0o755)
        write_vault(base / "warm", {"a.md": "[[b]]\n", "b.md": "# b\n"})
        root = write_vault(
            base / "vault",
            {
                "Target.md": "# Target\n",
                "open/note.md": "[[target]]\n",
                "locked/note.md": "[[target]]\n",
            },
        )
        if os.geteuid() == 0:
            entry = pwd.getpwnam("nobody")
            for folder, dirs, names in os.walk(root):
                for name in [folder, *(os.path.join(folder, n) for n in dirs + names)]:
                    os.chown(name, entry.pw_uid, entry.pw_gid)
        (root / "locked").chmod(0o555)
        run = _run([sys.executable, "-c", _AS_NOBODY, str(base / "warm"), str(root)])
        (root / "locked").chmod(0o755)
        assert_clean_exit(run)
        assert run.code == 1
        assert (root / "locked/note.md").read_text(encoding="utf-8") == "[[target]]\n"
        [line] = _skipped_lines(run.err, "locked/note.md")
        assert "Permission denied" in line
        assert (root / "open/note.md").read_text(encoding="utf-8") == "[[Target]]\n"
        _no_temp_files(root)
    finally:
        shutil.rmtree(base, ignore_errors=True)
