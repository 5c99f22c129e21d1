"""Baselines: `--write-baseline FILE` records today's problems, `--baseline FILE` hides them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_vault
from vaultsync.cli import main

NOTE = "# Projects\n\nSee [[Roadmap 2025]] and [[roadmap_2025]].\nAlso [[Roadmap 2025]].\n"


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(tmp_path / "vault", {"Projects.md": NOTE, "Other.md": "# Other\n"})


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*argv, "--select", "L"])  # the link rules are enough to exercise baselines
    out, err = capsys.readouterr()
    return code, out, err


def new_problems(
    capsys: pytest.CaptureFixture[str], vault: Path, baseline: Path
) -> list[dict[str, Any]]:
    code, out, err = run(
        capsys, "check", str(vault), "--baseline", str(baseline), "--format", "json"
    )
    found: list[dict[str, Any]] = json.loads(out)["diagnostics"]
    assert code == (1 if found else 0), err
    return found


def record(capsys: pytest.CaptureFixture[str], vault: Path, baseline: Path) -> None:
    code, out, err = run(capsys, "check", str(vault), "--write-baseline", str(baseline))
    assert code == 0, err
    assert out == ""
    assert "Recorded 3 problems" in err


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_baseline_file_is_versioned_sorted_and_deterministic(
    vault: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    record(capsys, vault, baseline)
    first = baseline.read_bytes()
    document = json.loads(first)
    assert document["version"] == 1
    assert document["problems"] == [
        {"path": "Projects.md", "code": "L001", "key": "Roadmap 2025", "occurrence": 0},
        {"path": "Projects.md", "code": "L001", "key": "Roadmap 2025", "occurrence": 1},
        {"path": "Projects.md", "code": "L002", "key": "roadmap_2025", "occurrence": 0},
    ]
    record(capsys, vault, baseline)
    assert baseline.read_bytes() == first


def test_recorded_problems_are_hidden(
    vault: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    record(capsys, vault, baseline)
    assert new_problems(capsys, vault, baseline) == []
    code, out, _ = run(capsys, "check", str(vault), "--baseline", str(baseline))
    assert code == 0
    assert out == "All checks passed!\n3 known problems hidden by the baseline " + (
        f"{baseline}.\n"
    )


def test_editing_lines_above_a_known_problem_does_not_resurface_it(
    vault: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    record(capsys, vault, baseline)
    note = vault / "Projects.md"
    edit(note, "# Projects\n", "---\ntags: [work]\n---\n# Projects\n\nA new intro line.\n")
    edit(note, "See [[Roadmap 2025]]", "Plans: see [[Roadmap 2025]]")  # moved on its line too
    assert new_problems(capsys, vault, baseline) == []


def test_a_new_problem_is_reported(
    vault: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    record(capsys, vault, baseline)
    note = vault / "Projects.md"
    # Above the known ones: a new target, and a third copy of a known one.
    edit(note, "# Projects\n", "# Projects\n[[Budget]] and [[Roadmap 2025]]\n")
    found = new_problems(capsys, vault, baseline)
    assert [(d["code"], d["data"]["target"]) for d in found] == [
        ("L001", "Budget"),
        ("L001", "Roadmap 2025"),
    ]
    # The same target in another note is a new problem as well.
    (vault / "Other.md").write_text("# Other\n[[Roadmap 2025]]\n", encoding="utf-8")
    found = new_problems(capsys, vault, baseline)
    assert ("Other.md", "L001") in [(d["path"], d["code"]) for d in found]


def test_fixing_a_known_problem_hides_nothing_new(
    vault: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    record(capsys, vault, baseline)
    edit(vault / "Projects.md", "See [[Roadmap 2025]] and ", "See ")
    assert new_problems(capsys, vault, baseline) == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param('{"version": 1,\n "problems": [}', ":2:", id="not-json"),
        pytest.param('{"version": 9, "problems": []}', "version 9", id="wrong-version"),
        pytest.param('{"version": 1}', '"problems"', id="no-problems"),
        pytest.param(
            '{"version": 1, "problems": [{"path": "a.md", "code": "L001", "key": "x"}]}',
            '"occurrence"',
            id="missing-field",
        ),
        pytest.param(b"\xff\xfe{}", "UTF-8", id="not-utf8"),
    ],
)
def test_a_bad_baseline_is_a_one_line_error(
    vault: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes,
    expected: str,
) -> None:
    baseline = tmp_path / "baseline.json"
    if isinstance(content, bytes):
        baseline.write_bytes(content)
    else:
        baseline.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "check", str(vault), "--baseline", str(baseline))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"vaultsync: error: {baseline}")
    assert expected in err


def test_a_missing_baseline_is_a_one_line_error(
    vault: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.json"
    code, out, err = run(capsys, "check", str(vault), "--baseline", str(missing))
    assert (code, out, err.count("\n")) == (2, "", 1)
    assert str(missing) in err
