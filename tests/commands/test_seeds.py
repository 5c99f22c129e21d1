"""README command 1 on the sample vault, as a new user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import SEEDS

CANONICAL = {
    "open_source_ai_models": "Open Source AI Models",
    "open_source_ai_development": "Open Source AI Development",
    "emerging_ai_tools_and_projects": "Emerging AI tools and projects",
    "challenges_and_opportunities_in_crypto_ai": "Challenges and Opportunities in Crypto AI",
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vaultsync", *args], capture_output=True, text=True, check=False
    )


def test_check_seeds_reports_the_four_variant_families_and_exits_1() -> None:
    result = run("check", str(SEEDS), "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    variants = {
        d["data"]["target"]: d["data"]["canonical"]
        for d in document["diagnostics"]
        if d["code"] == "L002"
    }
    assert variants == CANONICAL
    unresolved = [d for d in document["diagnostics"] if d["data"].get("resolved", "x") is None]
    assert {d["code"] for d in unresolved} == {"L001", "L002"}
    broken = {d["data"]["target"] for d in unresolved if d["code"] == "L001"}
    assert "bankless" in broken and "deepseek_ai_model_from_china" in broken
    assert not broken & set(CANONICAL)


def test_l002_fix_edit_covers_exactly_the_target_text() -> None:
    document = json.loads(run("check", str(SEEDS), "--format", "json").stdout)
    for d in (d for d in document["diagnostics"] if d["code"] == "L002"):
        path = SEEDS / d["path"]
        lines = path.read_text(encoding="utf-8").split("\n")
        (edit,) = d["fix"]["edits"]
        assert edit["line"] == edit["end_line"]
        line = lines[edit["line"] - 1]
        old = line[edit["column"] - 1 : edit["end_column"] - 1]
        assert old == d["data"]["target"]
        fixed = line[: edit["column"] - 1] + edit["new_text"] + line[edit["end_column"] - 1 :]
        link = fixed[d["column"] - 1 : d["end_column"] - 1 + len(edit["new_text"]) - len(old)]
        assert link.startswith("[[" + d["data"]["canonical"])
        original_link = line[d["column"] - 1 : d["end_column"] - 1]
        if "|" in original_link:
            assert link.split("|", 1)[1] == original_link.split("|", 1)[1]


def test_text_output_ends_with_summary() -> None:
    result = run("check", str(SEEDS))
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("Found ") and "fixable with 'vaultsync fix'" in last
    first = result.stdout.splitlines()[0]
    path, line, col, rest = first.split(":", 3)
    assert Path(SEEDS / path).is_file() and line.isdigit() and col.isdigit()
    assert rest.split()[0] in {"L001", "L002"}
