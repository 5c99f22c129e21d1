"""The Python API (`vaultsync.load`, `check`, `fix`, `move`) end to end on vaults on
disk: what a script gets is what the command line reports and does."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vaultsync
from tests.clirun import check_json, run_cli
from tests.conftest import REPO, write_vault
from vaultsync.fixing.mv import MoveError
from vaultsync.output.report import diagnostic_json

Capsys = pytest.CaptureFixture[str]


def test_check_reports_what_the_command_line_reports(capsys: Capsys, seeds_copy: Path) -> None:
    cli = check_json(capsys, str(seeds_copy), "--no-cache")["diagnostics"]
    assert cli  # the seeds have problems to find
    for use_cache in (False, True, True):  # without the cache, then cold and warm
        found = vaultsync.check(seeds_copy, use_cache=use_cache)
        assert [diagnostic_json(d) for d in found] == cli


def test_check_takes_selectors_and_notes(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {"A.md": "[[Missing]] [[b]]\n", "B.md": "[[Also missing]]\n", "C.md": "text\n"},
    )
    assert [(d.code, d.path) for d in vaultsync.check(root, select=["L001"])] == [
        ("L001", "A.md"),
        ("L001", "B.md"),
    ]
    assert [d.path for d in vaultsync.check(root, select=["L001"], paths=["B.md"])] == ["B.md"]
    assert vaultsync.check(root, ignore=["L"]) == []
    with pytest.raises(ValueError, match="unknown rule selector 'Z9'"):
        vaultsync.check(root, select=["Z9"])
    cli = check_json(capsys, str(root / "B.md"), "--select", "L001")
    assert [d["path"] for d in cli["diagnostics"]] == ["B.md"]


def test_load_gives_the_indexed_vault(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {"A.md": "[[B]]\n", "sub/B.md": "# B\n"})
    vault = vaultsync.load(root)
    assert vault.root == root.resolve()
    assert sorted(vault.notes) == ["A.md", "sub/B.md"]
    assert vault.index.resolve("B", "A.md").path == "sub/B.md"


def test_fix_as_the_command_line_does(tmp_path: Path, capsys: Capsys, seeds_copy: Path) -> None:
    by_cli = tmp_path / "cli"
    shutil.copytree(seeds_copy, by_cli)
    before = {p.name: p.read_bytes() for p in seeds_copy.glob("*.md")}

    planned = vaultsync.fix(seeds_copy, dry_run=True)
    assert planned.changes  # the seeds have link variants to rewrite
    assert {p.name: p.read_bytes() for p in seeds_copy.glob("*.md")} == before  # dry run
    result = vaultsync.fix(seeds_copy)
    assert result.converged and not result.skipped
    assert list(result.changes) == list(planned.changes)
    code, _, err = run_cli(capsys, "fix", str(by_cli))
    assert code in (0, 1), err
    for name in before:
        assert (seeds_copy / name).read_bytes() == (by_cli / name).read_bytes(), name
    assert vaultsync.check(seeds_copy, select=["L002"]) == []


def test_move_as_the_command_line_does(tmp_path: Path, capsys: Capsys) -> None:
    files = {"A.md": "[[Target]] [[Target#T|t]] [b](Target.md)\n", "Target.md": "# T\n"}
    by_api = write_vault(tmp_path / "api", files)
    by_cli = write_vault(tmp_path / "cli", files)
    plan, skipped = vaultsync.move(by_api, "Target.md", "archive/Goal.md", dry_run=True)
    assert plan.links == 3 and skipped == {}
    assert (by_api / "Target.md").exists()  # a dry run moves nothing

    plan, skipped = vaultsync.move(by_api, "Target.md", "archive/Goal.md")
    code, _, err = run_cli(capsys, "mv", str(by_cli / "Target.md"), str(by_cli / "archive/Goal.md"))
    assert code == 0, err
    assert skipped == {} and plan.links == 3
    assert not (by_api / "Target.md").exists()
    for rel in ("A.md", "archive/Goal.md"):
        assert (by_api / rel).read_bytes() == (by_cli / rel).read_bytes()
    assert "[[Goal]]" in (by_api / "A.md").read_text("utf-8")
    with pytest.raises(MoveError):
        vaultsync.move(by_api, "Target.md", "Other.md")  # it is not there any more


def test_import_vaultsync_loads_nothing_else() -> None:
    # `vaultsync check` reads __version__ from the package: the API must not slow it.
    code = "import sys, vaultsync; print(sorted(m for m in sys.modules if 'vaultsync.' in m))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
