"""A fix with nothing to do is a warm check (issue 20): answered from the caches `check`
leaves, with the report a full fix would print, and never when there is work to do."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.conftest import SECTIONS_ON, snapshot, write_vault
from vaultsync.lint import engine

Capsys = pytest.CaptureFixture[str]

# Settled: sections written, only problems no fix can solve (a broken link, a heading).
SETTLED = {
    ".vaultsync.toml": SECTIONS_ON,
    "A.md": "[[B]] and [[Nowhere]]\n",
    "C.md": "[[B#No such heading]]\n",
    "B.md": "# B\n",
}


def _age(root: Path) -> None:
    past = time.time() - 3600  # a vault at rest: its results may be kept
    for path in root.rglob("*"):
        if path.is_file() and ".vaultsync" not in path.parts:
            os.utime(path, (past, past))


def _settled(tmp_path: Path, capsys: Capsys) -> Path:
    root = write_vault(tmp_path / "v", SETTLED)
    assert run_cli(capsys, "fix", str(root))[0] == 1  # writes B's backlinks section
    _age(root)
    assert run_cli(capsys, "check", str(root))[0] == 1  # leaves the caches
    return root


def _no_load(*args: object, **kwargs: object) -> None:
    raise AssertionError("the vault was loaded: not a warm check")


@pytest.mark.parametrize(
    "argv",
    [(), ("--format", "json"), ("--format", "sarif"), ("--format", "github"), ("-q",),
     ("--statistics",), ("--diff",), ("A.md",), ("A.md", "--format", "json")],
    ids=" ".join,
)  # fmt: skip
def test_nothing_to_do_is_answered_from_the_caches(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    root = _settled(tmp_path, capsys)
    notes = [str(root / a) for a in argv if a.endswith(".md")]
    args = [*(notes or [str(root)]), *(a for a in argv if not a.endswith(".md"))]
    before = snapshot(root)
    slow = run_cli(capsys, "fix", *args, "--no-cache")
    monkeypatch.setattr(engine, "load", _no_load)
    assert run_cli(capsys, "fix", *args) == slow
    assert snapshot(root) == before


def test_an_edit_with_work_to_do_is_fixed_for_real(tmp_path: Path, capsys: Capsys) -> None:
    root = _settled(tmp_path, capsys)
    # The edit links C from A: C's backlinks section must follow (fix NOTE's follow-up).
    (root / "A.md").write_text("[[B]] and [[Nowhere]] and [[C]]\n", encoding="utf-8")
    code, out, err = run_cli(capsys, "fix", str(root / "A.md"))
    assert code == 1, err
    assert "Fixed C.md (S001: 1)" in out
    assert "[[A]]" in (root / "C.md").read_text(encoding="utf-8")


def test_a_fixable_problem_elsewhere_does_not_stop_fix_note_being_warm(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(
        tmp_path / "v", {**SETTLED, "Open Source.md": "", "D.md": "[[open_source]]\n"}
    )
    assert run_cli(capsys, "fix", str(root / "A.md"))[0] == 1
    _age(root)
    assert run_cli(capsys, "check", str(root))[0] == 1
    slow = run_cli(capsys, "fix", str(root / "A.md"), "--no-cache")
    monkeypatch.setattr(engine, "load", _no_load)
    # D.md's L002 is fixable, but not this fix's business: A.md has nothing to do.
    assert run_cli(capsys, "fix", str(root / "A.md")) == slow
    assert (root / "D.md").read_text(encoding="utf-8") == "[[open_source]]\n"
