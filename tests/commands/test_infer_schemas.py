"""`vaultsync init --infer-schemas` accepts the very notes it learned from: right after it,
`vaultsync check` reports no F002 on them (issue 17: 6,871 on a community vault, mostly
empty list items and dates next to date-times)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.clirun import check_json, run_cli
from tests.conftest import write_vault
from tests.rules.test_frontmatter import f_diagnostics
from tests.rules.test_schema import prop_vault

Cap = pytest.CaptureFixture[str]


def infer_then_check(capsys: Cap, root: Path) -> list[dict[str, Any]]:
    """`init --infer-schemas` on the vault, then the F002 problems `check` reports."""
    code, _, err = run_cli(capsys, "init", str(root), "--infer-schemas", "--force")
    assert code == 0, err
    found: list[dict[str, Any]] = check_json(capsys, str(root), "--select", "F002", "--no-cache")[
        "diagnostics"
    ]
    return found


def proposed(root: Path, folder: str) -> dict[str, Any]:
    path = root / ".vaultsync" / "schemas" / f"{folder}.yaml"
    properties: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))["properties"]
    return properties


# What the community vault showed, in small: templates' blank list items, daily notes
# with a date and meetings with a date and time, properties some notes leave empty.
MIXED = {
    "Journal/2024-01-01.md": (
        "---\ncreated: 2024-01-01\ntags:\n  - journal\n  -\nmood: 3\nwith:\n  - '[[Ada]]'\n"
        "source: '[[Nowhere]]'\ncount: 1\n---\n"
    ),
    "Journal/2024-01-02.md": (
        "---\ncreated: 2024-01-02T09:30\ntags: [journal, 2024]\nmood:\nwith: []\n"
        "source: ''\ncount: ''\n---\n"
    ),
    "Journal/2024-01-03.md": (
        "---\ncreated: 2024-01-03 18:00:00\ntags: journal\nmood: good\nwith:\n  -\n"
        "status: open\ncount: 2\n---\n"
    ),
    "Journal/2024-01-04.md": (
        "---\ncreated: 2024-01-04\ntags:\nmood: 2.5\nwith: ['[[Ada|A.]]', '[[Ada#Work]]']\n"
        "status: {nested: true}\ncount: 3\n---\n"
    ),
    "Ada.md": "# Ada\n\n## Work\n",
}


def test_infer_then_check_reports_no_f002_on_a_mixed_vault(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", MIXED)
    assert infer_then_check(capsys, root) == []
    assert proposed(root, "Journal") == {
        "count": {"type": ["text", "number"]},  # `count: ''` is text
        "created": {"type": ["date", "datetime"], "required": True},
        "mood": {"type": ["text", "number"]},
        "source": {"type": "text"},  # [[Nowhere]] is no note: not a link that must resolve
        "status": {},  # text here, a nested object there: any value
        "tags": {"type": "list"},  # `2024` is a number, no tag; `tags: journal` is F006's
        # Blank items are no items; an empty list is still a list, in every note.
        "with": {"type": "list", "required": True, "items": "link"},
    }


def test_the_proposal_still_catches_what_differs_from_it(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", MIXED)
    assert infer_then_check(capsys, root) == []
    # A note written afterwards that fits no type seen, or links to no note, is flagged.
    (root / "Journal" / "late.md").write_text(
        "---\ncreated: yesterday\nwith: ['[[Nobody]]', 7]\n---\n", encoding="utf-8"
    )
    found = check_json(capsys, str(root), "--select", "F002", "--no-cache")["diagnostics"]
    assert sorted(d["message"] for d in found) == [
        "'created' should be a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM:SS), "
        "not text 'yesterday' (schema Journal)",
        "'with' links to 'Nobody', which is not in the vault (schema Journal)",
        "'with[1]' should be text, not a number 7 (schema Journal)",
    ]


def test_templates_teach_the_proposal_nothing(tmp_path: Path, capsys: Cap) -> None:
    # A template's `created: {{date}}` is no text value: the notes made from it hold dates.
    files: dict[str, str | bytes] = {
        ".obsidian/templates.json": '{"folder": "Journal/Templates"}',
        "Journal/2024-01-01.md": "---\ncreated: 2024-01-01\n---\n",
        "Journal/2024-01-02.md": "---\ncreated: 2024-01-02\n---\n",
        "Journal/Templates/Day.md": "---\ncreated: {{date}}\nmood: <% tp.system.prompt() %>\n---\n",
    }
    root = write_vault(tmp_path / "v", files)
    assert infer_then_check(capsys, root) == []
    assert proposed(root, "Journal") == {"created": {"type": "date", "required": True}}


# --- any mix of values: infer, then check, finds nothing ------------------------------------

TEXTS = st.sampled_from(
    ["", " ", "a", "draft", "2024-01-31", "2024-01-31T10:30", "2024-02-30", "[[Ada]]",
     "[[Nobody]]", "[[#Heading]]", "123", "true", "null", "a: b", "#tag", "x, y", "Ünï"]
)  # fmt: skip
SCALARS = st.one_of(
    TEXTS,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=4),
    st.dictionaries(st.sampled_from(["k", "v"]), SCALARS, max_size=2),
    st.lists(st.dictionaries(st.just("k"), SCALARS, max_size=1), max_size=2),
)
KEYS = st.sampled_from(["tags", "aliases", "cssclasses", "status", "date", "up", "n", "Tags"])
NOTES = st.lists(st.dictionaries(KEYS, VALUES, max_size=5), min_size=1, max_size=6)


def frontmatter(props: dict[str, Any]) -> str:
    if not props:
        return "no properties\n"
    return "---\n" + yaml.safe_dump(props, allow_unicode=True, sort_keys=False) + "---\n"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(notes=NOTES)
@example(notes=[{"tags": ["a", None]}, {"tags": [1]}])
@example(notes=[{"date": "2024-01-31"}, {"date": "2024-01-31T10:30"}, {"date": None}])
@example(notes=[{"up": "[[Nobody]]"}, {"up": "[[Ada]]"}])
@example(notes=[{"tags": " "}, {"tags": ["x"]}])
def test_inferred_schemas_accept_the_notes_they_came_from(
    capsys: Cap, notes: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files: dict[str, str | bytes] = {"Ada.md": "# Heading\n"}
        files.update({f"F/n{i}.md": frontmatter(props) for i, props in enumerate(notes)})
        root = write_vault(Path(tmp) / "v", files)
        assert infer_then_check(capsys, root) == []


# --- what the proposals rely on: several types, blank list items ----------------------------

CASES = [
    ("{type: [date, datetime]}", "p: 2024-01-31", True),
    ("{type: [date, datetime]}", "p: 2024-01-31T10:30", True),
    ("{type: [date, datetime]}", "p:", True),  # empty: not set
    ("{type: [date, datetime]}", "p: soon", False),
    ("{type: [date, datetime], required: true}", "p:", False),
    ("{type: [text, number]}", "p: 3", True),
    ("{type: [text, number]}", "p: three", True),
    ("{type: [text, number]}", "p: [3]", False),
    ("{type: [text, list]}", "p: [a, 1]", True),
    ("{type: [link, number]}", "p: '[[Gone]]'", False),  # a link still has to resolve
    ("{type: [date]}", "p: 2024-01-31", True),
    ("{type: list}", "p:\n  - a\n  -", True),  # a blank item is no item
    ("{type: tags}", "p:\n  -\n  - ai", True),
    ("{type: aliases}", "p: [AI, null]", True),
    ("{type: list, items: link}", "p:\n  - '[[Other]]'\n  -", True),
    ("{type: list, min-items: 1}", "p:\n  -", False),  # nor is it counted
    ("{type: list, max-items: 1}", "p:\n  - a\n  -\n  -", True),
    ("{type: list, max-items: 1}", "p: [a, b]", False),
]


@pytest.mark.parametrize(
    ("spec", "line", "ok"), [pytest.param(*c, id=f"{c[0]} {c[1]}") for c in CASES]
)
def test_several_types_and_blank_items(
    capsys: Cap, tmp_path: Path, spec: str, line: str, ok: bool
) -> None:
    root = prop_vault(tmp_path, spec, line)
    (root / "Other.md").write_text("Other\n", encoding="utf-8")
    found = [d for d in f_diagnostics(capsys, root) if d["path"] == "n.md"]
    assert [d["code"] for d in found] == ([] if ok else ["F002"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{type: []}", "properties.p.type: give a type, or a list of at least one"),
        (
            "{type: [date, datetime], pattern: x}",
            "properties.p: pattern: a property of several types takes no constraint but required",
        ),
        (
            "{type: [text, list], min-items: 1}",
            "properties.p: min-items: a property of several types takes no constraint but required",
        ),
    ],
)
def test_a_bad_type_list_is_a_one_line_error(
    capsys: Cap, tmp_path: Path, spec: str, message: str
) -> None:
    root = prop_vault(tmp_path, spec, "p: x")
    code, out, err = run_cli(capsys, "check", str(root))
    assert (code, out) == (2, "")
    assert err == f"vaultsync: error: .vaultsync/schemas/s.yaml:3: {message}\n"


def test_f005_takes_a_blank_list_item_as_no_item(tmp_path: Path, capsys: Cap) -> None:
    types = '{"types": {"topics": "multitext", "tags": "tags"}}'
    notes: dict[str, str | bytes] = {
        ".obsidian/types.json": types,
        "n.md": "---\ntopics:\n  - a\n  -\ntags:\n  -\n---\n",
        "bad.md": "---\ntopics: [1]\n---\n",
    }
    root = write_vault(tmp_path / "v", notes)
    assert [d["path"] for d in f_diagnostics(capsys, root, "--select", "F005")] == ["bad.md"]
