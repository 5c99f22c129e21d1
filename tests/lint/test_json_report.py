"""A JSON report put together from each note's records (issue 20).

With the cache on, `check --format json` writes its report from each note's JSON
records, rendered once and kept beside the snapshot (delta.py), or sent by the second
half of a first check (shards.py), instead of building and encoding every diagnostic.
Whichever way a check went, its report must be the one a check without the cache
writes, byte for byte; and the ways that promise not to rebuild diagnostics must not.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import run_cli
from tests.conftest import SECTIONS_ON, write_vault
from tests.lint.test_delta import BASE, _age, _edit
from tests.lint.test_shards import NOTES as HALVES_NOTES
from vaultsync.lint import delta, results, shards
from vaultsync.lint.cache import CACHE_DIR
from vaultsync.output import report


class Spy:
    """How often a check built the JSON report diagnostic by diagnostic (`write_json`),
    and how often it unpacked stored diagnostics to do so."""

    def __init__(self) -> None:
        self.encoded = 0
        self.unpacked = 0

    def reset(self) -> None:
        self.encoded = self.unpacked = 0


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    counts = Spy()

    def counting(real: Callable[..., Any], field: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            setattr(counts, field, getattr(counts, field) + 1)
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(report, "write_json", counting(report.write_json, "encoded"))
    for module in (delta, results):
        monkeypatch.setattr(module, "unpack_by_note", counting(module.unpack_by_note, "unpacked"))
    return counts


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code, out, err = run_cli(capsys, "check", "--format", "json", *argv)
    assert code in (0, 1), err
    return out


def _fresh(capsys: pytest.CaptureFixture[str], spy: Spy, *argv: str) -> str:
    """The report of a check without the cache (which the spy does not count)."""
    before = spy.encoded, spy.unpacked
    out = _json(capsys, *argv, "--no-cache")
    spy.encoded, spy.unpacked = before
    return out


def _records_file(root: Path) -> Path:
    return root / CACHE_DIR / delta.JSON_FILE


def _vault(tmp_path: Path, files: dict[str, str | bytes], config: str = SECTIONS_ON) -> Path:
    root = write_vault(tmp_path / "vault", {**files, ".vaultsync.toml": config})
    _age(root)
    return root


@pytest.mark.parametrize("quiet", [[], ["-q"]], ids=["plain", "quiet"])
def test_json_from_every_path_is_the_json_of_a_check_without_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: Spy, quiet: list[str]
) -> None:
    root = _vault(tmp_path, BASE)
    vault = str(root)

    def same(*argv: str) -> str:
        report_ = _json(capsys, *argv, *quiet)
        assert report_ == _fresh(capsys, spy, *argv, *quiet)
        return report_

    first = same(vault)  # the whole check: it keeps its records beside the snapshot
    assert '"code": "L001"' in first
    assert _records_file(root).is_file()
    assert same(vault) == first  # warm: the report kept
    assert spy.encoded == 0

    _edit(root, "Hub.md", f"{BASE['Hub.md']!s}[[Edited link]]\n", 1)
    spy.reset()
    edited = same(vault)  # from the snapshot: its records, Hub.md's made anew
    assert '"Edited link"' in edited
    assert (spy.encoded, spy.unpacked) == (0, 0)
    assert same(vault) == edited  # the same check again: the report it kept

    # The same note edited again: still one note changed since the snapshot.
    _edit(root, "Hub.md", "# Hub\n\n## Part two\n\n[[Edited again]]\n", 2)
    spy.reset()
    again = same(vault)
    assert '"Edited again"' in again and '"Edited link"' not in again
    assert '"code": "L003"' in again  # Alpha links into Hub#Part one, gone now
    assert (spy.encoded, spy.unpacked) == (0, 0)

    # `check NOTE…` (a pre-commit hook's run) from the same snapshot.
    for named in (["Alpha.md"], ["Alpha.md", "Hub.md"], ["Open Source AI.md"]):
        spy.reset()
        same(*(str(root / name) for name in named))
        assert (spy.encoded, spy.unpacked) == (0, 0)


def test_a_snapshot_of_a_text_check_gets_its_records_from_the_first_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: Spy
) -> None:
    root = _vault(tmp_path, BASE)
    run_cli(capsys, "check", str(root))  # a text report: no records kept
    assert not _records_file(root).exists()
    _edit(root, "Alpha.md", "[[Hub#Part two]] [[Edited link]]\n", 1)
    spy.reset()
    edited = _json(capsys, str(root))
    assert edited == _fresh(capsys, spy, str(root))
    assert spy.encoded == 0
    assert spy.unpacked > 0  # the snapshot's diagnostics, rendered as records once
    assert _records_file(root).is_file()  # and kept for the next JSON report

    _edit(root, "Alpha.md", "[[Hub#Part one]] [[Another link]]\n", 2)
    spy.reset()
    assert _json(capsys, str(root)) == _fresh(capsys, spy, str(root))
    assert (spy.encoded, spy.unpacked) == (0, 0)
    # A text report from the same snapshot is still the fresh one.
    assert run_cli(capsys, "check", str(root)) == run_cli(capsys, "check", str(root), "--no-cache")


def test_a_whole_check_with_a_text_report_drops_another_snapshot_s_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: Spy
) -> None:
    root = _vault(tmp_path, BASE)
    _json(capsys, str(root))
    assert _records_file(root).is_file()
    (root / "New.md").write_text("[[Hub]]\n", encoding="utf-8")  # a note added: whole check
    _age(root)
    run_cli(capsys, "check", str(root))
    assert not _records_file(root).exists()


@pytest.mark.parametrize(
    "steps",
    [
        # None, one, two problems: a list of fewer than two records is laid out by its
        # contents (jsonout), so those are read back from their records.
        ["# A\n", "[[Nowhere]]\n", "[[Nowhere]] [[Elsewhere]]\n", "# A again\n"],
        ["[[Nowhere]]\n", "[[Nowhere]] [[Elsewhere]]\n", "[[Elsewhere]]\n"],
    ],
)
def test_reports_of_no_one_and_two_problems_are_the_fresh_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: Spy, steps: list[str]
) -> None:
    files: dict[str, str | bytes] = {"A.md": steps[0], "B.md": "# B\n"}
    root = _vault(tmp_path, files, "[backlinks]\nenabled = false\n")
    assert _json(capsys, str(root)) == _fresh(capsys, spy, str(root))
    for step, text in enumerate(steps[1:], 1):
        _edit(root, "A.md", text, step)
        spy.reset()
        assert _json(capsys, str(root)) == _fresh(capsys, spy, str(root))
        assert (spy.encoded, spy.unpacked) == (0, 0)


@pytest.fixture
def halves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Small vaults are checked in halves; records a check that went the classic way or
    rebuilt the second half's diagnostics."""
    monkeypatch.setattr(shards, "THRESHOLD", 2)
    monkeypatch.setenv("VAULTSYNC_JOBS", "2")
    events: list[str] = []
    classic, rebuilt = shards._classic, shards.CheckedReport.diagnostics

    def classic_way(*args: Any, **kwargs: Any) -> Any:
        events.append("classic")
        return classic(*args, **kwargs)

    def rebuilding(*args: Any, **kwargs: Any) -> Any:
        events.append("rebuilt")
        return rebuilt(*args, **kwargs)

    monkeypatch.setattr(shards, "_classic", classic_way)
    monkeypatch.setattr(shards.CheckedReport, "diagnostics", rebuilding)
    return events


def test_a_first_check_in_halves_makes_its_json_of_both_halves_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: Spy, halves: list[str]
) -> None:
    root = _vault(tmp_path, HALVES_NOTES, HALVES_NOTES[".vaultsync.toml"])  # type: ignore[arg-type]
    first = _json(capsys, str(root))
    assert halves == []  # in halves, the second half's diagnostics never rebuilt
    assert (spy.encoded, spy.unpacked) == (0, 0)
    assert first == _fresh(capsys, spy, str(root))
    assert '"path": "Alpha.md"' in first and '"path": "Zeta.md"' in first
    # The records both halves kept serve the next check after an edit.
    _edit(root, "Omega.md", "[[Zeta#Gone]] [[open_source_models]]\n", 1)
    spy.reset()
    edited = _json(capsys, str(root))
    assert (spy.encoded, spy.unpacked) == (0, 0)
    assert edited == _fresh(capsys, spy, str(root))
    assert '"Zeta#Gone"' in edited or "Gone" in edited


@pytest.mark.parametrize("damaged", [["records"], ["records", "diagnostics"]])
def test_damaged_records_are_made_again_or_the_vault_checked_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: Spy, damaged: list[str]
) -> None:
    root = _vault(tmp_path, BASE)
    _json(capsys, str(root))
    files = {
        "records": _records_file(root),
        "diagnostics": root / CACHE_DIR / delta.DIAGNOSTICS_FILE,
    }
    for name in damaged:
        files[name].write_bytes(b"garbage")
    _edit(root, "Hub.md", f"{BASE['Hub.md']!s}[[Edited link]]\n", 1)
    edited = _json(capsys, str(root))
    assert '"Edited link"' in edited
    assert edited == _fresh(capsys, spy, str(root))
