"""The JSON outputs match their JSON Schemas in schemas/ (draft 2020-12), checked on real output:
the seeds vault and a fixture vault where every link and file rule fires."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.clirun import run_cli
from tests.conftest import REPO, SEEDS, write_vault

Cap = pytest.CaptureFixture[str]
SCHEMAS = REPO / "schemas"
OWN_CODES = {"L001", "L002", "L003", "L004", "L005", "L006", "L007", "L008", "L009", "V001"}

EVERY_RULE: dict[str, str | bytes] = {
    "Open Source AI Models.md": "---\naliases: [OSAI]\n---\n# Intro\npara ^p1\n",
    "aa/Tie.md": "",
    "bb/Tie.md": "",
    "bad.md": b"\xff\xfe not utf-8",
    "yaml.md": "---\ntags: [unclosed\n---\n",
    "old.md": "---\ntag: x\ntags: a, b\n---\n",
    "markers.md": "<!-- vaultsync:begin backlinks hash=0 -->\n",
    "a/src.md": (
        '---\nrelated: "[[gone prop]]"\n---\n'
        "[[gone]] [[open_source_ai_models|models]] [[Open Source AI Models#Nope]]\n"
        "[[Open Source AI Models#^nope]] [[Tie]] [[OSAI]] ![[pic.png]] [[../../up]]\n"
        "[[open source ai models]] [m](open_source_ai_models.md) [é](Caf%C3%A9.md)\n"
        "line with ünïcödé 🗂️ and [[🗂️ gone]]\n"
    ),
}


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def output(capsys: Cap, *argv: str) -> dict[str, Any]:
    code, out, err = run_cli(capsys, *argv)
    assert code in (0, 1), err
    document: dict[str, Any] = json.loads(out)
    return document


def assert_valid(check: Draft202012Validator, document: dict[str, Any]) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(document)]
    assert errors == []


def test_check_output_of_the_seeds_matches_the_schema(capsys: Cap) -> None:
    document = output(capsys, "check", str(SEEDS), "--format", "json")
    assert {d["code"] for d in document["diagnostics"]} >= {"L001", "L002"}
    assert_valid(validator("check-output.schema.json"), document)


def test_check_output_with_every_rule_matches_the_schema(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", EVERY_RULE)
    document = output(capsys, "check", str(root), "--format", "json", "--select", "ALL")
    found = {d["code"] for d in document["diagnostics"]}
    assert found >= OWN_CODES
    assert_valid(validator("check-output.schema.json"), document)
    summary = document["summary"]
    assert sum(summary[s] for s in ("error", "warning", "info")) == len(document["diagnostics"])
    assert summary["fixable"] == sum(
        1 for d in document["diagnostics"] if d["fix"] and d["fix"]["applicability"] == "safe"
    )
    keys = [(d["path"], d["line"], d["column"], d["code"]) for d in document["diagnostics"]]
    assert keys == sorted(keys)


def test_graph_output_matches_the_schema(tmp_path: Path, capsys: Cap) -> None:
    check = validator("graph.schema.json")
    assert_valid(check, output(capsys, "graph", str(SEEDS)))
    root = write_vault(tmp_path / "v", EVERY_RULE)
    document = output(capsys, "graph", str(root), "--format", "json")
    assert {link["kind"] for link in document["links"]} == {
        "wikilink",
        "embed",
        "markdown",
        "property",
    }
    assert_valid(check, document)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: d.pop("summary"), id="no-summary"),
        pytest.param(lambda d: d.update(version=2), id="version"),
        pytest.param(lambda d: d["diagnostics"][0].update(column=0), id="column-0"),
        pytest.param(lambda d: d["diagnostics"][0].update(severity="fatal"), id="severity"),
        pytest.param(lambda d: d["diagnostics"][0]["data"].pop("resolved"), id="no-resolved"),
        pytest.param(lambda d: d["diagnostics"][0].update(extra=1), id="extra-key"),
    ],
)
def test_the_check_schema_rejects_wrong_documents(tmp_path: Path, capsys: Cap, damage: Any) -> None:
    root = write_vault(tmp_path / "v", {"a.md": "[[gone]]\n"})
    document = output(capsys, "check", str(root), "--format", "json", "--select", "L")
    check = validator("check-output.schema.json")
    assert_valid(check, document)
    broken = copy.deepcopy(document)
    damage(broken)
    assert not check.is_valid(broken)


def test_an_unresolved_code_with_a_resolved_path_breaks_the_schema(
    tmp_path: Path, capsys: Cap
) -> None:
    root = write_vault(tmp_path / "v", {"a.md": "[[gone]]\n"})
    document = output(capsys, "check", str(root), "--format", "json", "--select", "L")
    document["diagnostics"][0]["data"]["resolved"] = "a.md"
    assert not validator("check-output.schema.json").is_valid(document)
