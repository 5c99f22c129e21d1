"""The vault root is never guessed (§1): `--vault`, a marker, the git work tree, a folder
given on the command line; a lone note is a usage error naming the fix."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.conftest import read, snapshot

Cap = pytest.CaptureFixture[str]

# A vault without `.obsidian/` or `.vaultsync.toml`: its notes link across folders.
NOTES = {
    "Zotero 101.md": "# Zotero 101\n",
    "help/Settings.md": "# Settings\n\nSee [[Zotero 101]].\n",
    "help/Tips.md": "[[Settings]] and [[help/Settings#Settings]]\n",
    "Index.md": "[[Settings]] [x](help/Settings.md)\n",
}


def _plain_folder(root: Path) -> Path:
    """The notes, in a folder that nothing marks as a vault."""
    for rel, text in NOTES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _git_vault(root: Path) -> Path:
    _plain_folder(root)
    subprocess.run(["git", "init", "-q", str(root)], check=True, capture_output=True)
    return root


def _codes(out: str) -> list[tuple[str, str]]:
    return [(d["path"], d["code"]) for d in json.loads(out)["diagnostics"]]


def test_a_note_with_no_vault_around_it_is_a_one_line_error(tmp_path: Path, capsys: Cap) -> None:
    root = _plain_folder(tmp_path / "notes")
    before = snapshot(tmp_path)
    for argv in (
        ["check", str(root / "help/Settings.md")],
        ["fix", str(root / "help/Settings.md")],
        ["mv", str(root / "help/Settings.md"), str(root / "help/Preferences.md")],
    ):
        code, out, err = run_cli(capsys, *argv)
        assert code == 2, argv
        assert out == "" and err.count("\n") == 1 and "Traceback" not in err
        assert "help/Settings.md: no vault around this note" in err
        assert "--vault DIR" in err and "vaultsync init" in err
    # Nothing was created: no `.vaultsync/` cache inside the notes' folder.
    assert snapshot(tmp_path) == before
    assert [p.name for p in tmp_path.rglob(".*")] == []


def test_a_folder_given_on_the_command_line_is_the_vault(tmp_path: Path, capsys: Cap) -> None:
    root = _plain_folder(tmp_path / "notes")
    code, out, err = run_cli(capsys, "check", str(root), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["vault"] == str(root) and _codes(out) == []


def test_a_vault_in_git_is_its_work_tree(tmp_path: Path, capsys: Cap) -> None:
    root = _git_vault(tmp_path / "repo")
    # `check NOTE` one folder deep sees the note one folder up: no broken link.
    code, out, err = run_cli(capsys, "check", str(root / "help/Settings.md"), "--format", "json")
    assert code == 0, err
    document = json.loads(out)
    assert document["vault"] == str(root) and document["notes"] == len(NOTES)
    assert _codes(out) == []
    assert not (root / "help" / ".vaultsync").exists()
    # `mv` rewrites the links of the whole vault, not only of the note's own folder.
    code, out, err = run_cli(
        capsys, "mv", str(root / "help/Settings.md"), str(root / "help/Preferences.md")
    )
    assert code == 0, err
    assert read(root, "Index.md") == "[[Preferences]] [x](help/Preferences.md)\n"
    assert read(root, "help/Tips.md") == "[[Preferences]] and [[help/Preferences#Settings]]\n"
    code, out, err = run_cli(capsys, "check", str(root / "help/Tips.md"), "--format", "json")
    assert code == 0 and _codes(out) == [], out + err


def test_a_marker_nearer_than_the_work_tree_wins(tmp_path: Path, capsys: Cap) -> None:
    root = _git_vault(tmp_path / "repo")
    (root / "help" / ".obsidian").mkdir()  # a vault of its own inside the repository
    code, out, err = run_cli(capsys, "check", str(root / "help/Settings.md"), "--format", "json")
    assert code == 1, err
    assert json.loads(out)["vault"] == str(root / "help")
    assert _codes(out) == [("Settings.md", "L001")]  # Zotero 101 is outside that vault


def test_vault_option_names_the_root_for_every_command(tmp_path: Path, capsys: Cap) -> None:
    root = _plain_folder(tmp_path / "notes")
    note = str(root / "help/Settings.md")
    vault = ["--vault", str(root)]
    code, out, err = run_cli(capsys, "check", note, "--format", "json", *vault)
    assert code == 0 and _codes(out) == [] and json.loads(out)["vault"] == str(root), err
    code, out, err = run_cli(capsys, "fix", note, *vault)
    assert code == 0, err
    code, out, err = run_cli(capsys, "graph", *vault)
    assert code == 0, err
    assert json.loads(out)["vault"] == str(root)
    code, out, err = run_cli(capsys, "watch", "--once", "-q", *vault)
    assert code == 0, err
    code, out, err = run_cli(capsys, "mv", note, str(root / "Settings.md"), *vault)
    assert code == 0, err
    assert read(root, "help/Tips.md") == "[[Settings]] and [[Settings#Settings]]\n"
    # A note outside the named vault, and a --vault that is no folder: one line, exit 2.
    code, _, err = run_cli(capsys, "check", note, "--vault", str(root / "help"))
    assert code == 2 and "no such file" in err
    code, _, err = run_cli(capsys, "check", str(root / "Index.md"), "--vault", str(root / "help"))
    assert code == 2 and "outside the vault" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "check", "--vault", str(root / "Index.md"))
    assert code == 2 and "--vault names no folder" in err
