"""A large vault is checked in two processes; the report is the one a single process gives."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_vault
from vaultsync.cli import main
from vaultsync.core.model import Diagnostic
from vaultsync.lint import engine
from vaultsync.rules.checkers import CHECKERS
from vaultsync.vault.index import NoteEntry


def _vault(tmp_path: Path) -> Path:
    files = {
        f"f{i % 9}/Note {i}.md": (
            f"# Note {i}\n[[Note {(i * 7) % 2400}]] [[note_{i % 13}]] [[Gone {i % 50}]]"
            f" [[Note {i % 40}#Nowhere]] #t{i % 5}\n"
        )
        for i in range(2200)
    }
    return write_vault(tmp_path / "big", files)


def _check(vault: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    main(["check", str(vault), "--format", "json", "--exit-zero", "--no-cache"])
    out = capsys.readouterr().out
    assert json.loads(out)["diagnostics"]
    return out


def test_split_check_reports_what_one_process_reports(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    forks: list[int],
) -> None:
    vault = _vault(tmp_path)
    monkeypatch.setenv("VAULTSYNC_JOBS", "1")
    serial = _check(vault, capsys)
    assert forks == []
    monkeypatch.setenv("VAULTSYNC_JOBS", "2")
    split = _check(vault, capsys)
    assert forks, "the check did not fork"
    assert split == serial


def test_a_failing_child_half_is_checked_again_in_the_parent(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    forks: list[int],
) -> None:
    vault = _vault(tmp_path)
    monkeypatch.setenv("VAULTSYNC_JOBS", "1")
    serial = _check(vault, capsys)
    parent = os.getpid()
    first = CHECKERS[0]

    def crashes_in_the_child(ctx: engine.Context, entry: NoteEntry) -> Iterator[Diagnostic]:
        if os.getpid() != parent:
            os._exit(3)  # the child dies mid-check, as if killed
        yield from first(ctx, entry)

    monkeypatch.setattr(engine, "CHECKERS", [crashes_in_the_child, *CHECKERS[1:]])
    monkeypatch.setenv("VAULTSYNC_JOBS", "2")
    assert _check(vault, capsys) == serial
    assert forks, "the check did not fork"
