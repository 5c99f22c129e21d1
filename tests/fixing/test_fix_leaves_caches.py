"""A whole-vault fix leaves the caches a whole check leaves (issue 20): the check or
fix after it is a warm one, even right after the fix wrote its notes, and never
answers for a note that changed since."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.conftest import SECTIONS_ON, aged, write_vault
from vaultsync.lint import delta, engine

Capsys = pytest.CaptureFixture[str]

VAULT = {
    ".vaultsync.toml": SECTIONS_ON,
    "Hub.md": "# Hub\n\n## Plans\n\nSee [[Topic A]], [[topic b]] and [[Nowhere]].\n",
    "Topic A.md": "About [[Hub#Plans]] and [[open-source]].\n",
    "Topic B.md": "About [[Hub]].\n",
    "Open Source.md": "# Open Source\n",
}


def _no_load(*args: object, **kwargs: object) -> None:
    raise AssertionError("the vault was loaded whole: not a warm run")


def test_a_check_or_fix_right_after_a_whole_fix_is_warm(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(tmp_path / "v", VAULT)
    code, out, _ = run_cli(capsys, "fix", str(root))  # no cache yet: the vault as loaded
    assert "Fixed" in out and code == 1
    assert (root / ".vaultsync" / "cache" / delta.SNAPSHOT_FILE).is_file()
    expected = run_cli(capsys, "check", str(root), "--no-cache")
    expected_fix = run_cli(capsys, "fix", str(root), "--no-cache")
    with monkeypatch.context() as patched:
        patched.setattr(engine, "load", _no_load)
        assert run_cli(capsys, "check", str(root)) == expected
        assert run_cli(capsys, "fix", str(root)) == expected_fix


def test_a_note_changed_in_the_same_clock_tick_is_not_taken_as_the_snapshot_saw_it(
    tmp_path: Path, capsys: Capsys
) -> None:
    """A note rewritten just after the snapshot, same size and same mtime (a write the
    clock could not tell apart): its bytes are compared, and its new problem reported."""
    root = write_vault(tmp_path / "v", VAULT)
    run_cli(capsys, "fix", str(root))  # leaves the snapshot, its notes written just now
    note = root / "Topic B.md"
    before = note.stat()
    text = note.read_text(encoding="utf-8")
    changed = text.replace("About [[Hub]].", "About [[Hux]].")
    assert len(changed) == len(text)
    note.write_text(changed, encoding="utf-8")
    os.utime(note, ns=(before.st_atime_ns, before.st_mtime_ns))  # the stat as it was
    expected = run_cli(capsys, "check", str(root), "--no-cache")
    assert "Hux" in expected[1]
    assert run_cli(capsys, "check", str(root)) == expected


def test_a_note_changed_between_the_fix_and_its_caches_gets_no_row(
    tmp_path: Path, capsys: Capsys
) -> None:
    """The caches a fix leaves describe the notes as it wrote them; a note changed on
    disk before they are written is left to be read again."""
    from vaultsync.config.settings import load_config
    from vaultsync.lint.api import remember_check
    from vaultsync.rules import Selection

    root = write_vault(tmp_path / "v", VAULT)
    config = load_config(root)
    selection = Selection.build(config.select, config.ignore, dict(config.severity))
    vault = engine.load(root, config, use_cache=False)
    diagnostics = engine.check(vault, selection)
    note = root / "Topic B.md"
    note.write_text("About [[Elsewhere]] now.\n", encoding="utf-8")
    aged(root)  # old enough that no later check reads it again to compare its bytes
    remember_check(root, config, selection, vault, diagnostics)
    expected = run_cli(capsys, "check", str(root), "--no-cache")
    assert "Elsewhere" in expected[1]
    assert run_cli(capsys, "check", str(root)) == expected
