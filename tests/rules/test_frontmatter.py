"""Frontmatter rules F001-F006 on fixture vaults, through the real CLI."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEEDS, write_vault
from vaultsync.cli import main
from vaultsync.parse.scanner import parse

BOMB = 'lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def f_diagnostics(
    capsys: pytest.CaptureFixture[str], root: Path, *argv: str
) -> list[dict[str, Any]]:
    """The F diagnostics of `vaultsync check ROOT --format json`."""
    code, out, err = run_cli(capsys, "check", str(root), "--format", "json", "--select", "F", *argv)
    assert code in (0, 1), err
    found: list[dict[str, Any]] = json.loads(out)["diagnostics"]
    return found


def where(found: list[dict[str, Any]]) -> list[tuple[str, str, int, int]]:
    return [(d["path"], d["code"], d["line"], d["column"]) for d in found]


def apply_fix(text: str, diagnostic: dict[str, Any]) -> str:
    """Apply a diagnostic's edits by line/column (what an editor plugin would do)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    edits = sorted(diagnostic["fix"]["edits"], key=lambda e: (e["line"], e["column"]), reverse=True)
    for e in edits:
        start, end = offset(e["line"], e["column"]), offset(e["end_line"], e["end_column"])
        text = text[:start] + e["new_text"] + text[end:]
    return text


def one_note(tmp_path: Path, frontmatter: str, extra: dict[str, str] | None = None) -> Path:
    return write_vault(tmp_path / "v", {"n.md": f"---\n{frontmatter}---\nBody\n", **(extra or {})})


# --- the acceptance scenario -----------------------------------------------------


def test_seeds_have_no_frontmatter_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert f_diagnostics(capsys, SEEDS) == []


@pytest.fixture
def broken_seeds(tmp_path: Path) -> Path:
    """A copy of seeds with one frontmatter problem per note, plus a YAML bomb."""
    root = tmp_path / "seeds"
    shutil.copytree(SEEDS, root)
    for path in root.iterdir():
        path.chmod(0o644)

    def edit(name: str, old: str, new: str) -> None:
        path = root / name
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    edit("Chinas DeepSeek AI Model and its Impacts.md", "videoId: 3ezFd3x718A\n", "")
    edit("Comparative analysis of AI models.md", "videoId: 3ezFd3x718A", "videoId: 3ezFd3x718AB")
    edit(
        "Importance of Open Source in AI Development.md",
        "videoId: 4N0ybueTc1o\n",
        "videoId: 4N0ybueTc1o\ntags: a, b\n",
    )
    edit(
        "Open source advancements in AI model technology.md",
        "videoId: hpwoGjpYygI\n",
        "videoId: hpwoGjpYygI\ntag: x\n",
    )
    edit("Opensource AI innovations.md", "videoId: 3ezFd3x718A\n---\n", "videoId: 3ezFd3x718A\n")
    (root / "Bomb.md").write_text(
        f"---\ntitle: Bomb\nvideoId: 3ezFd3x718A\n{BOMB}---\nBody\n", encoding="utf-8"
    )
    return root


def test_broken_seeds_report_each_problem_at_its_line_and_column(
    capsys: pytest.CaptureFixture[str], broken_seeds: Path
) -> None:
    assert where(f_diagnostics(capsys, broken_seeds)) == [
        ("Bomb.md", "F001", 8, 4),  # the value whose aliases pass the cap: `f: &f [*e, ...]`
        ("Chinas DeepSeek AI Model and its Impacts.md", "F002", 1, 1),  # missing: the block
        ("Comparative analysis of AI models.md", "F002", 3, 10),  # the value
        ("Importance of Open Source in AI Development.md", "F006", 4, 7),
        ("Open source advancements in AI model technology.md", "F004", 4, 1),  # the key
        ("Opensource AI innovations.md", "F001", 1, 1),  # unclosed
    ]


def test_fix_repairs_f004_and_f006_and_changes_no_other_byte(
    capsys: pytest.CaptureFixture[str], broken_seeds: Path
) -> None:
    before = {p.name: p.read_bytes() for p in broken_seeds.iterdir() if p.is_file()}
    code, _, err = run_cli(capsys, "fix", str(broken_seeds), "--select", "F")
    assert code == 1, err  # the F001/F002 problems have no fix and remain
    after = {p.name: p.read_bytes() for p in broken_seeds.iterdir() if p.is_file()}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {
        "Importance of Open Source in AI Development.md",
        "Open source advancements in AI model technology.md",
    }
    tags_note = "Importance of Open Source in AI Development.md"
    assert after[tags_note] == before[tags_note].replace(
        b"tags: a, b\n", b"tags:\n  - a\n  - b\n", 1
    )
    tag_note = "Open source advancements in AI model technology.md"
    # F004 renames the key; the fix loop's next pass makes the text a list (F006).
    assert after[tag_note] == before[tag_note].replace(b"tag: x\n", b"tags:\n  - x\n", 1)
    assert [d["code"] for d in f_diagnostics(capsys, broken_seeds)] == [
        "F001",
        "F002",
        "F002",
        "F001",
    ]


# --- F001: syntax, safety ----------------------------------------------------------------


def test_yaml_bomb_is_f001_within_a_time_bound() -> None:
    wide = "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 50)}]\n"
        for p, c in zip("abcdefghijklmnop", "bcdefghijklmnopq", strict=True)
    )
    for body in (BOMB, "a: &a [x, y]\n" + wide):
        start = time.perf_counter()
        note = parse(f"---\n{body}---\n")
        elapsed = time.perf_counter() - start
        assert note.properties is None
        assert note.yaml_error is not None and "aliases expand" in note.yaml_error[0]
        assert elapsed < 0.5  # safety net: measured in microseconds; expansion would be 50^15


def test_aliases_within_the_cap_still_work() -> None:
    note = parse("---\nbase: &b [x, y]\ncopy: *b\nm:\n  <<: {k: 1}\n  j: 2\n---\n")
    assert note.properties == {"base": ["x", "y"], "copy": ["x", "y"], "m": {"k": 1, "j": 2}}


def test_recursive_alias_is_f001(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = one_note(tmp_path, "title: x\nloop: &a [1, *a]\n")
    assert where(f_diagnostics(capsys, root)) == [("n.md", "F001", 3, 7)]


def test_object_constructing_tag_is_f001_and_runs_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    root = one_note(tmp_path, f'x: !!python/object/apply:os.system ["touch {marker}"]\n')
    assert where(f_diagnostics(capsys, root)) == [("n.md", "F001", 2, 4)]
    assert not marker.exists()


def test_duplicate_key_is_f001_at_the_second_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Obsidian (js-yaml) rejects a repeated key; so does vaultsync, as a syntax error.
    root = one_note(tmp_path, "title: a\nrating: 1\ntitle: b\n")
    found = f_diagnostics(capsys, root)
    assert where(found) == [("n.md", "F001", 4, 1)]
    assert "duplicate key 'title'" in found[0]["message"]


def test_invalid_yaml_points_at_the_exact_column(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = one_note(tmp_path, "title: ok\nsummary: DeepSeek: the model\n")
    assert where(f_diagnostics(capsys, root)) == [("n.md", "F001", 3, 18)]


def test_invalid_yaml_column_counts_code_points_after_emoji(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = one_note(tmp_path, "title: 😀😀 x: y\n")
    assert where(f_diagnostics(capsys, root)) == [("n.md", "F001", 2, 12)]  # the second `:`


def test_unclosed_block_is_f001_on_line_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = write_vault(tmp_path / "v", {"n.md": "---\ntitle: x\n\nBody\n"})
    assert where(f_diagnostics(capsys, root)) == [("n.md", "F001", 1, 1)]


def test_non_mapping_block_is_f001(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = one_note(tmp_path, "- a\n- b\n")
    assert [d["code"] for d in f_diagnostics(capsys, root)] == ["F001"]


def test_yaml_1_2_scalars_stay_text_as_in_obsidian() -> None:
    note = parse(
        "---\na: yes\nb: 2024-01-01\nc: 1:20\nd: on\ne: 012\nf: 0x1F\ng: 1.5\nh: true\ni:\n---\n"
    )
    assert note.properties == {
        "a": "yes",
        "b": "2024-01-01",
        "c": "1:20",
        "d": "on",
        "e": 12,
        "f": 31,
        "g": 1.5,
        "h": True,
        "i": None,
    }


# --- F004 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param("tag: [ai]\n", "tags: [ai]\n", id="tag"),
        pytest.param("alias:\n  - AI\n", "aliases:\n  - AI\n", id="alias"),
        pytest.param("cssclass: [wide]\n", "cssclasses: [wide]\n", id="cssclass"),
        pytest.param('"tag": [ai]  # keep\n', '"tags": [ai]  # keep\n', id="quoted-key-comment"),
    ],
)
def test_f004_renames_only_the_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, before: str, after: str
) -> None:
    head, tail = "# top comment\ntitle: 'Quoted'   # note\n", "rating: 3\n"
    root = one_note(tmp_path, head + before + tail)
    (d,) = f_diagnostics(capsys, root)
    assert (d["code"], d["line"], d["column"], d["fix"]["applicability"]) == ("F004", 4, 1, "safe")
    text = (root / "n.md").read_text(encoding="utf-8")
    assert apply_fix(text, d) == f"---\n{head}{after}{tail}---\nBody\n"


def test_f004_with_the_plural_key_present_has_no_fix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = one_note(tmp_path, "tags: [a]\ntag: [b]\n")
    (d,) = f_diagnostics(capsys, root)
    assert (d["code"], d["line"], d["fix"]) == ("F004", 3, None)
    assert d["data"]["conflict"] is True


# --- F006 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param("tags: a, b\n", "tags:\n  - a\n  - b\n", id="comma"),
        pytest.param("tags: ai\n", "tags:\n  - ai\n", id="single"),
        pytest.param('tags: "a, b"  # topics\n', "tags:\n  - a\n  - b  # topics\n", id="quoted"),
        pytest.param("tags: a b,c\n", "tags:\n  - a\n  - b\n  - c\n", id="spaces"),
        pytest.param("cssclasses: wide, dark\n", "cssclasses:\n  - wide\n  - dark\n", id="css"),
        pytest.param("aliases: Open AI\n", "aliases:\n  - Open AI\n", id="alias-single"),
        pytest.param("tags: 2024, true\n", 'tags:\n  - "2024"\n  - "true"\n', id="stay-text"),
    ],
)
def test_f006_makes_the_value_a_list_and_keeps_the_rest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, before: str, after: str
) -> None:
    head, tail = 'title: "Q"  # c\n', "related: '[[n]]'\n"
    root = one_note(tmp_path, head + before + tail)
    (d,) = f_diagnostics(capsys, root)
    assert (d["code"], d["line"], d["fix"]["applicability"]) == ("F006", 3, "safe")
    fixed = apply_fix((root / "n.md").read_text(encoding="utf-8"), d)
    assert fixed == f"---\n{head}{after}{tail}---\nBody\n"
    assert parse(fixed).properties is not None


def test_f006_aliases_with_a_comma_is_an_unsafe_fix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = one_note(tmp_path, "aliases: Smith, John\n")
    (d,) = f_diagnostics(capsys, root)
    assert d["fix"]["applicability"] == "unsafe"
    text = (root / "n.md").read_text(encoding="utf-8")
    assert apply_fix(text, d) == "---\naliases:\n  - Smith\n  - John\n---\nBody\n"


def test_f006_respects_crlf(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {"n.md": b"---\r\ntags: a, b\r\nx: 1\r\n---\r\nBody\r\n"})
    code, _, err = run_cli(capsys, "fix", str(root), "--select", "F")
    assert code == 0, err
    assert (
        root / "n.md"
    ).read_bytes() == b"---\r\ntags:\r\n  - a\r\n  - b\r\nx: 1\r\n---\r\nBody\r\n"


def test_f006_in_a_json_style_block_stays_flow(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = write_vault(tmp_path / "v", {"n.md": '---\n{"tags": "a, b", "x": 1}\n---\n'})
    (d,) = f_diagnostics(capsys, root)
    text = (root / "n.md").read_text(encoding="utf-8")
    assert apply_fix(text, d) == '---\n{"tags": ["a", "b"], "x": 1}\n---\n'


def test_f006_with_an_anchor_is_reported_without_fix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = one_note(tmp_path, "tags: &t a, b\nother: *t\n")
    (d,) = f_diagnostics(capsys, root)
    assert (d["code"], d["fix"]) == ("F006", None)


def test_lists_and_empty_values_are_fine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = one_note(tmp_path, "tags: [a, b]\naliases:\n  - A\ncssclasses:\n")
    assert f_diagnostics(capsys, root) == []


# --- F005: .obsidian/types.json ----------------------------------------------------------

TYPES = {
    "rating": "number",
    "done": "checkbox",
    "due": "date",
    "at": "datetime",
    "topics": "multitext",
    "summary": "text",
}


@pytest.mark.parametrize(
    ("line", "ok"),
    [
        ("rating: 4.5", True),
        ("rating: five", False),
        ("rating: true", False),
        ("done: false", True),
        ("done: 'yes'", False),
        ("due: 2024-02-29", True),
        ("due: 2023-02-29", False),
        ("due: tomorrow", False),
        ("at: 2024-01-01T10:30:00", True),
        ("at: 2024-01-01", False),
        ("topics: [a, b]", True),
        ("topics: a", False),
        ("summary: words", True),
        ("summary: 12", False),
        ("summary:", True),  # an empty value is always allowed
        ("Rating: 5", True),  # property names are case-insensitive (R51)
        ("Rating: x", False),
        ("other: anything", True),
    ],
)
def test_f005_checks_values_against_obsidian_types(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, line: str, ok: bool
) -> None:
    root = one_note(tmp_path, f"title: t\n{line}\n")
    (root / ".obsidian" / "types.json").write_text(json.dumps({"types": TYPES}))
    found = where(f_diagnostics(capsys, root))
    column = line.index(":") + 3
    assert found == ([] if ok else [("n.md", "F005", 3, column)])


def test_f005_is_not_checked_when_a_schema_applies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = one_note(tmp_path, "rating: five\n")
    (root / ".obsidian" / "types.json").write_text(json.dumps({"types": TYPES}))
    schemas = root / ".vaultsync" / "schemas"
    schemas.mkdir(parents=True)
    (schemas / "s.yaml").write_text("name: s\nproperties:\n  rating: {type: text}\n")
    assert f_diagnostics(capsys, root) == []


def test_a_broken_types_json_is_ignored(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = one_note(tmp_path, "rating: five\n")
    (root / ".obsidian" / "types.json").write_text("{not json")
    assert f_diagnostics(capsys, root) == []


def test_inline_suppression_covers_f_rules(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = write_vault(
        tmp_path / "v", {"n.md": "---\ntag: x\n---\n%% vaultsync-ignore-file F004 %%\n"}
    )
    assert f_diagnostics(capsys, root) == []


def test_f006_fix_after_a_bom_keeps_the_bom(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    raw = "\ufeff---\ntitle: é\ntags: a, b\n---\nBody\n".encode()
    root = write_vault(tmp_path / "v", {"n.md": raw})
    (d,) = f_diagnostics(capsys, root)
    assert (d["line"], d["column"]) == (3, 7)  # positions count from after the BOM
    code, _, err = run_cli(capsys, "fix", str(root), "--select", "F")
    assert code == 0, err
    expected = "\ufeff---\ntitle: é\ntags:\n  - a\n  - b\n---\nBody\n".encode()
    assert (root / "n.md").read_bytes() == expected
