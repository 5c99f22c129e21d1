"""`vaultsync fix --diff` prints a patch that real `git apply` takes (issue 17, item 8).

Applied, the patch must leave every file byte for byte as `vaultsync fix` writes it:
a BOM, CRLF line endings, a missing final newline and characters that Python (but not
git) takes for line breaks all survive.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.conftest import snapshot, write_vault

Capsys = pytest.CaptureFixture[str]

SECTIONS_ON = "[backlinks]\nenabled = true\n"
NOTES: dict[str, str | bytes] = {
    ".vaultsync.toml": SECTIONS_ON,
    # A BOM: line 1's context must hold it.
    "Bom.md": b"\xef\xbb\xbfSee [[crlf]] and [[plain]].\n",
    # CRLF throughout: every line of the patch keeps its \r.
    "Crlf.md": b"# Crlf\r\nsee [[bom]]\r\nend\r\n",
    # No final newline, and still none after the fix.
    "No newline.md": b"first\nlast [[crlf]]",
    # A BOM and no newline at all, on a one-line note.
    "Both.md": b"\xef\xbb\xbf[[plain]] [[bom]]",
    # A form feed and U+2028 inside lines: not line breaks for git.
    "Plain.md": "x\x0cy [[crlf]]\nu\u2028v [[both]]\n".encode(),
    # A link to a note that does not exist: --create-missing makes it (a new file).
    "Asks.md": b"[[Wanted]]\n",
}


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("extra", [[], ["--create-missing"]])
def test_the_diff_applies_with_git_and_gives_what_fix_writes(
    tmp_path: Path, capsys: Capsys, extra: list[str]
) -> None:
    assert shutil.which("git"), "git is needed to test that the diff applies"
    fixed = write_vault(tmp_path / "fixed", NOTES)
    patched = write_vault(tmp_path / "patched", NOTES)
    assert _git(patched, "init", "-q").returncode == 0
    options = ["--select", "L001,L009,S001", *extra]

    code, diff, err = run_cli(capsys, "fix", str(patched), "--diff", *options)
    assert code == 1, err  # there are changes to make
    assert snapshot(patched) == snapshot(fixed)  # --diff wrote nothing
    assert "\\ No newline at end of file" in diff
    assert "\ufeffSee [[Crlf]]" in diff  # the BOM is part of line 1
    patch = tmp_path / "fix.patch"
    patch.write_bytes(diff.encode("utf-8"))  # exactly the bytes printed (\r kept)

    checked = _git(patched, "apply", "--check", str(patch))
    assert checked.returncode == 0, checked.stderr
    applied = _git(patched, "apply", str(patch))
    assert applied.returncode == 0, applied.stderr

    code, _out, err = run_cli(capsys, "fix", str(fixed), *options)
    assert code in (0, 1), err
    assert snapshot(patched) == snapshot(fixed)
    assert snapshot(fixed)["Bom.md"].startswith(b"\xef\xbb\xbf")
    assert snapshot(fixed)["Crlf.md"].count(b"\n") == snapshot(fixed)["Crlf.md"].count(b"\r\n")
    assert not snapshot(fixed)["No newline.md"].endswith(b"\n")
    assert ("Wanted.md" in snapshot(fixed)) == bool(extra)
