"""CI output formats: GitHub Actions annotations, SARIF 2.1.0, `--output FILE`.

tests/data/sarif-2.1.0.json is the official SARIF 2.1.0 JSON Schema (final "rtm.5"
text, draft-04) as shipped in Microsoft's npm package @microsoft/jest-sarif
1.0.0-beta.0 (lib/schemas/sarif-2.1.0-rtm.5.json, MIT; repository
microsoft/sarif-js-sdk), byte for byte.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import write_vault
from vaultsync.cli import main
from vaultsync.output.github import escape_data, escape_property
from vaultsync.rules import RULES

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-2.1.0.json"

NOTE = "# Note\nSee [[Missing]] and [[100% done]].\nAlso [[open_source]].\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository checkout holding a vault in `vault/`; the working directory is the repo."""
    root = tmp_path / "repo"
    write_vault(
        root / "vault",
        {
            ".vaultsync.toml": '[severity]\nL001 = "error"\n',
            "Note.md": NOTE,
            "Open Source.md": "# OS\n",
            "a, b: c.md": "[[note]]\n",  # `,` and `:` must be escaped in properties
        },
    )
    monkeypatch.chdir(root)
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_github_annotations_line_by_line(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "vault", "--select", "L", "--format", "github")
    assert code == 1, err
    assert out.splitlines() == [
        "::error file=vault/Note.md,line=2,col=5,endLine=2,endColumn=16,"
        'title=L001 broken-link::Broken link: no note or file matches "Missing"',
        "::error file=vault/Note.md,line=2,col=21,endLine=2,endColumn=34,"
        'title=L001 broken-link::Broken link: no note or file matches "100%25 done"',
        "::warning file=vault/Note.md,line=3,col=6,endLine=3,endColumn=21,"
        'title=L002 link-variant::Link "open_source" is a variant of "Open Source"',
        "::notice file=vault/a%2C b%3A c.md,line=1,col=1,endLine=1,endColumn=9,"
        'title=L009 inconsistent-case::Link "note" is spelled unlike "Note.md"',
    ]


def test_github_paths_are_vault_relative_when_run_outside_the_vault(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = repo.parent / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out, _ = run(capsys, "check", str(repo / "vault"), "--select", "L", "--format", "github")
    assert code == 1
    assert out.splitlines()[0].startswith("::error file=Note.md,line=2,col=5,")


def test_github_escaping_follows_the_actions_toolkit() -> None:
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("a, b: 100%\n") == "a%2C b%3A 100%25%0A"


def sarif(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run(capsys, "check", "--select", "L", "--format", "sarif", *argv)
    assert code in (0, 1), err
    document: dict[str, Any] = json.loads(out)
    return document


def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


def test_sarif_validates_against_the_official_schema(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = sarif(capsys, "vault")
    errors = list(validator().iter_errors(document))
    assert errors == []
    # The check is not vacuous: a wrong level and a zero line are schema errors.
    broken = copy.deepcopy(document)
    result = broken["runs"][0]["results"][0]
    result["level"] = "warn"
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert len(list(validator().iter_errors(broken))) >= 2


def test_sarif_run_describes_rules_and_results(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = sarif(capsys, "vault")
    assert document["version"] == "2.1.0"
    (run_,) = document["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "vaultsync"
    rules = driver["rules"]
    assert [r["id"] for r in rules] == sorted(RULES)
    l002 = next(r for r in rules if r["id"] == "L002")
    assert l002["name"] == "link-variant"
    assert l002["shortDescription"]["text"] == RULES["L002"].summary
    assert l002["help"]["text"] == RULES["L002"].doc.strip()
    assert "Why:" in l002["fullDescription"]["text"]
    assert l002["defaultConfiguration"]["level"] == "warning"
    assert run_["columnKind"] == "unicodeCodePoints"
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"

    results = run_["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("L001", "error"),  # raised to error by the vault's config
        ("L001", "error"),
        ("L002", "warning"),
        ("L009", "note"),
    ]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    location = results[2]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "vault/Note.md", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 6, "endLine": 3, "endColumn": 21}
    odd = results[3]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert odd == "vault/a%2C%20b%3A%20c.md"


def test_sarif_fix_rewrites_the_variant_target(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = sarif(capsys, "vault")["runs"][0]["results"]
    assert "fixes" not in results[0]  # a broken link has no safe fix to offer
    (fix,) = results[2]["fixes"]
    (change,) = fix["artifactChanges"]
    (replacement,) = change["replacements"]
    region = replacement["deletedRegion"]
    line = NOTE.splitlines()[region["startLine"] - 1]
    start, end = region["startColumn"] - 1, region["endColumn"] - 1
    assert line[start:end] == "open_source"
    assert line[:start] + replacement["insertedContent"]["text"] + line[end:] == (
        "Also [[Open Source]]."
    )


def test_sarif_fingerprints_survive_lines_added_above(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def prints() -> list[str]:
        results = sarif(capsys, "vault")["runs"][0]["results"]
        return [r["partialFingerprints"]["vaultsync/v1"] for r in results]

    before = prints()
    assert len(set(before)) == len(before)
    note = repo / "vault" / "Note.md"
    note.write_text("Intro\n\nmore intro\n" + NOTE, encoding="utf-8")
    assert prints() == before


def test_output_file_receives_the_report(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "check", "vault", "--select", "L", "--format", "sarif", "--output", "out.sarif"
    )
    assert code == 1, err
    assert out == ""
    document = json.loads((repo / "out.sarif").read_text(encoding="utf-8"))
    assert len(document["runs"][0]["results"]) == 4

    code, out, _ = run(capsys, "check", "vault", "--select", "L", "-o", "report.txt")
    assert code == 1 and out == ""
    text = (repo / "report.txt").read_text(encoding="utf-8")
    assert text.startswith("Note.md:2:5: L001 ")  # the text format stays vault-relative
    assert "Found 4 problems" in text

    code, out, _ = run(
        capsys, "check", "vault", "--select", "L", "-o", "report.txt", "--statistics"
    )
    assert code == 1 and out == ""
    text = (repo / "report.txt").read_text(encoding="utf-8")
    assert text.startswith("    2\tL001\t")  # statistics go to the file too


def test_output_into_a_missing_folder_is_a_one_line_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check", "vault", "--output", "nowhere/report.txt")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "nowhere/report.txt" in err and "Traceback" not in err


def test_fix_reports_what_remains_as_annotations(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "fix", "vault", "--select", "L", "--format", "github")
    assert code == 1, err
    # The variant and the case were fixed; the broken links remain, as annotations.
    assert [line.split(",", 1)[0] for line in out.splitlines()] == [
        "::error file=vault/Note.md",
        "::error file=vault/Note.md",
    ]
    assert "[[Open Source]]" in (repo / "vault" / "Note.md").read_text(encoding="utf-8")
