"""Frontmatter schemas (§8): types, constraints, selection, positions, bad schema files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, write_vault
from tests.rules.test_frontmatter import f_diagnostics, run_cli, where
from vaultsync.rules.schemas import shipped_dir


def vault(tmp_path: Path, schema: str, notes: dict[str, str]) -> Path:
    files: dict[str, str | bytes] = {".vaultsync/schemas/s.yaml": schema}
    files.update(notes)
    return write_vault(tmp_path / "v", files)


def prop_vault(tmp_path: Path, spec: str, line: str) -> Path:
    """One note, one schema declaring property `p` with `spec`."""
    schema = f"name: s\nproperties:\n  p: {spec}\n"
    return vault(tmp_path, schema, {"n.md": f"---\ntitle: t\n{line}\n---\nBody\n"})


# (spec, value line, ok). Each type and each constraint, passing and failing.
CASES = [
    ("{type: text}", "p: words", True),
    ("{type: text}", "p: 12", False),
    ("{type: text}", "p: [a]", False),
    ("{type: text}", "p: 2024-01-01", True),  # a date is text in Obsidian
    ("{type: number}", "p: 3", True),
    ("{type: number}", "p: -2.5", True),
    ("{type: number}", "p: three", False),
    ("{type: number}", "p: true", False),
    ("{type: checkbox}", "p: false", True),
    ("{type: checkbox}", "p: 'true'", False),
    ("{type: checkbox}", "p: 1", False),
    ("{type: date}", "p: 2024-02-29", True),
    ("{type: date}", "p: 2024-13-01", False),
    ("{type: date}", "p: 2024-01-01T10:00", False),
    ("{type: datetime}", "p: 2024-01-01T10:00:00", True),
    ("{type: datetime}", "p: 2024-01-01T10:00", True),
    ("{type: datetime}", "p: noon", False),
    ("{type: list}", "p: [a, 1, true]", True),
    ("{type: list}", "p: a", False),
    ("{type: list}", "p: [[a]]", False),  # a nested list is no Obsidian list
    ("{type: tags}", "p: [ai, ml]", True),
    ("{type: tags}", "p: [1]", False),
    ("{type: aliases}", "p: [AI]", True),
    ("{type: aliases}", "p: AI", False),
    ("{type: link}", "p: '[[Other]]'", True),
    ("{type: link}", "p: '[[Other#Part|shown]]'", True),
    ("{type: link}", "p: '[[Missing]]'", False),
    ("{type: link}", "p: Other", False),
    ("{required: true}", "p: anything", True),
    ("{type: text, required: true}", "p:", False),  # present but empty
    ("{type: text}", "p:", True),  # empty and optional
    ("{enum: [draft, published]}", "p: draft", True),
    ("{enum: [draft, published]}", "p: done", False),
    ("{enum: [1, 2]}", "p: true", False),  # a checkbox is not the number 1
    ("{type: text, pattern: '^[a-z]+$'}", "p: abc", True),
    ("{type: text, pattern: '^[a-z]+$'}", "p: abc1", False),
    ("{type: text, pattern: 'b'}", "p: abc", True),  # searched, like JSON Schema
    ("{type: number, minimum: 0, maximum: 5}", "p: 5", True),
    ("{type: number, minimum: 0, maximum: 5}", "p: 5.5", False),
    ("{type: number, minimum: 0, maximum: 5}", "p: -1", False),
    ("{type: text, min-length: 2, max-length: 3}", "p: ab", True),
    ("{type: text, min-length: 2, max-length: 3}", "p: a", False),
    ("{type: text, min-length: 2, max-length: 3}", "p: abcd", False),
    ("{type: list, min-items: 1, max-items: 2}", "p: [a]", True),
    ("{type: list, min-items: 1, max-items: 2}", "p: []", False),
    ("{type: list, min-items: 1, max-items: 2}", "p: [a, b, c]", False),
    ("{type: list, items: number}", "p: [1, 2]", True),
    ("{type: list, items: number}", "p: [1, x]", False),
    ("{type: list, items: link}", "p: ['[[Other]]']", True),
    ("{type: list, items: link}", "p: ['[[Other]]', '[[Gone]]']", False),
    ("{type: list, items: {enum: [a, b]}}", "p: [a, b, a]", True),
    ("{type: list, items: {enum: [a, b]}}", "p: [a, c]", False),
]


@pytest.mark.parametrize(
    ("spec", "line", "ok"), [pytest.param(*c, id=f"{c[0]} {c[1]}") for c in CASES]
)
def test_types_and_constraints(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, spec: str, line: str, ok: bool
) -> None:
    root = prop_vault(tmp_path, spec, line)
    (root / "Other.md").write_text("Other\n", encoding="utf-8")
    found = [d for d in f_diagnostics(capsys, root) if d["path"] == "n.md"]
    assert [d["code"] for d in found] == ([] if ok else ["F002"])
    if not ok:
        assert found[0]["line"] == 3  # the line of `p`
        assert found[0]["data"] == {**found[0]["data"], "schema": "s", "property": "p"}


def test_missing_required_property_points_at_the_block(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = prop_vault(tmp_path, "{type: text, required: true}", "other: 1")
    found = f_diagnostics(capsys, root)
    assert where(found) == [("n.md", "F002", 1, 1)]
    assert "'p'" in found[0]["message"] and "missing" in found[0]["message"]


def test_required_property_of_a_note_without_frontmatter(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = vault(tmp_path, "name: s\nproperties:\n  p: {required: true}\n", {"n.md": "Body\n"})
    assert where(f_diagnostics(capsys, root)) == [("n.md", "F002", 1, 1)]


def test_a_bad_list_item_is_reported_at_the_item(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = prop_vault(tmp_path, "{type: list, items: number}", "p:\n  - 1\n  - two\n  - 3")
    assert where(f_diagnostics(capsys, root)) == [("n.md", "F002", 5, 5)]


def test_each_violation_is_reported_at_its_own_value(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    schema = (
        "name: s\nproperties:\n  a: {type: number}\n  b: {type: checkbox}\n"
        "  c: {type: text, required: true}\n"
    )
    root = vault(tmp_path, schema, {"n.md": "---\na: x\nb:   maybe\n---\n"})
    assert where(f_diagnostics(capsys, root)) == [
        ("n.md", "F002", 1, 1),
        ("n.md", "F002", 2, 4),
        ("n.md", "F002", 3, 6),
    ]


# --- which schema applies ------------------------------------------------------------


SELECTIVE = """\
name: s
applies-to:
  paths: ["Videos/**"]
  where: {has: videoId, tag: video, kind: talk}
properties:
  rating: {type: number}
"""


@pytest.mark.parametrize(
    ("path", "frontmatter", "body", "applies"),
    [
        ("Videos/a.md", "videoId: x\ntags: [video]\nkind: talk\n", "", True),
        ("Videos/deep/a.md", "videoId: x\nkind: [talk, demo]\n", "#video/short\n", True),
        ("Videos/a.md", "videoId: x\nkind: talk\n", "#video\n", True),  # inline tag
        ("Notes/a.md", "videoId: x\ntags: [video]\nkind: talk\n", "", False),  # path
        ("Videos/a.md", "tags: [video]\nkind: talk\n", "", False),  # has
        ("Videos/a.md", "videoId:\ntags: [video]\nkind: talk\n", "", False),  # has: empty
        ("Videos/a.md", "videoId: x\ntags: [audio]\nkind: talk\n", "", False),  # tag
        ("Videos/a.md", "videoId: x\ntags: [video]\nkind: demo\n", "", False),  # equals
    ],
)
def test_applies_to_paths_and_where(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    path: str,
    frontmatter: str,
    body: str,
    applies: bool,
) -> None:
    note = f"---\n{frontmatter}rating: high\n---\n{body}"
    root = vault(tmp_path, SELECTIVE, {path: note})
    assert [d["code"] for d in f_diagnostics(capsys, root)] == (["F002"] if applies else [])


@pytest.mark.parametrize(
    ("policy", "codes"),
    [("allow", []), ("warn", ["F003"]), ("error", ["F002"])],
)
def test_additional_properties(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, policy: str, codes: list[str]
) -> None:
    schema = f"name: s\nproperties:\n  title: {{type: text}}\nadditional-properties: {policy}\n"
    note = "---\ntitle: t\ntags: [a]\naliases: [b]\nauther: Ada\n---\n"
    root = vault(tmp_path, schema, {"n.md": note})
    found = f_diagnostics(capsys, root)
    assert [d["code"] for d in found] == codes
    if codes:  # at the key; Obsidian's own keys are always allowed
        assert (found[0]["line"], found[0]["column"]) == (5, 1)
        severity = "warning" if policy == "warn" else "error"
        assert found[0]["severity"] == severity


def test_f003_severity_follows_the_config(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    schema = "name: s\nproperties: {}\nadditional-properties: warn\n"
    root = vault(tmp_path, schema, {"n.md": "---\nx: 1\n---\n"})
    (root / ".vaultsync.toml").write_text('[severity]\nF003 = "error"\n')
    assert [d["severity"] for d in f_diagnostics(capsys, root)] == ["error"]


def test_schema_dir_is_configurable(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "meta/s.yml": "name: s\nproperties:\n  p: {type: number}\n",
            "n.md": "---\np: x\n---\n",
            ".vaultsync.toml": '[schemas]\ndir = "meta"\n',
        },
    )
    assert [d["code"] for d in f_diagnostics(capsys, root)] == ["F002"]


def test_shipped_schema_is_used_by_name_and_a_vault_schema_overrides_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    files: dict[str, str | bytes] = {
        ".vaultsync.toml": '[schemas]\nuse = ["video-note"]\n',
        "n.md": "---\ntitle: T\nvideoId: short\n---\n",
    }
    root = write_vault(tmp_path / "v", files)
    assert [d["code"] for d in f_diagnostics(capsys, root)] == ["F002"]
    (root / ".vaultsync" / "schemas").mkdir(parents=True)
    (root / ".vaultsync" / "schemas" / "mine.yaml").write_text(
        "name: video-note\nproperties:\n  videoId: {type: text}\n"
    )
    assert f_diagnostics(capsys, root) == []


def test_shipped_schema_matches_the_repo_copy() -> None:
    # The repo's `schemas/` is what people read; the package data is what installs use.
    shipped = (shipped_dir() / "video-note.yaml").read_bytes()
    assert shipped == (REPO / "schemas" / "video-note.yaml").read_bytes()


# --- bad schema files: one line, file and line, exit 2 --------------------------------


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ("name: s\nproperties:\n  p: {type: txt}\n", "s.yaml:3: properties.p.type:"),
        ("name: s\nproperties:\n  p:\n    type: text\n    colour: red\n", "s.yaml:5:"),
        ("name: s\nproperties:\n  p: {pattern: '([a-z'}\n", "invalid regular expression"),
        ("name: s\nproperties:\n  p: {type: text, minimum: 1}\n", "s.yaml:3:"),
        ("name: s\nproperties:\n  p: {type: checkbox, items: text}\n", "apply to lists"),
        ("name: s\nproperties:\n  p: {type: list, items: tags}\n", "s.yaml:3:"),
        ("name: s\nproperties: [a, b\n", "s.yaml:3: invalid YAML"),
        ("properties: {}\n", "s.yaml:1: name: Field required"),
        ("name: s\nadditional-properties: maybe\n", "s.yaml:2: additional-properties:"),
        ("- just a list\n", "s.yaml:1:"),
        ("name: s\nname: t\n", "s.yaml:2: invalid YAML: duplicate key"),
    ],
)
def test_bad_schema_file_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, schema: str, expected: str
) -> None:
    root = vault(tmp_path, schema, {"n.md": "---\np: 1\n---\n"})
    code, out, err = run_cli(capsys, "check", str(root))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert expected in err and ".vaultsync/schemas/s.yaml:" in err


def test_unknown_shipped_schema_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    files: dict[str, str | bytes] = {".vaultsync.toml": '[schemas]\nuse = ["nope"]\n', "n.md": ""}
    root = write_vault(tmp_path / "v", files)
    code, _, err = run_cli(capsys, "check", str(root))
    assert code == 2 and "no shipped schema named 'nope'" in err


def test_two_schemas_with_one_name_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = vault(tmp_path, "name: s\n", {".vaultsync/schemas/t.yaml": "name: s\n", "n.md": ""})
    code, _, err = run_cli(capsys, "check", str(root))
    assert code == 2 and "also defined in" in err
