"""Index and unresolved blocks (§6): each query option, filled by `vaultsync fix`."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.conftest import write_vault

Capsys = pytest.CaptureFixture[str]

NOTES: dict[str, str | bytes] = {
    "videos/Zebra talk.md": "---\ntitle: A zebra\ntags: [ai/llm]\nstatus: draft\nrating: 10\n---\n",
    "videos/alpha.md": "---\ntags: [cooking]\nstatus: published\nrating: 9\n---\n#ai here\n",
    "videos/deep/Beta.md": "---\nstatus: Draft\nvideoId: abc\n---\n# Beta title\n",
    "Root note.md": "#AI\n",
    "other/Gamma.md": "---\ntags: [aim]\nstatus: [draft, old]\n---\n",
}


def body_of(text: str, kind: str = "index") -> list[str]:
    """The lines between the markers of the first block of `kind`."""
    after = text.split(f"<!-- vaultsync:begin {kind}", 1)[1].split("-->", 1)[1]
    return after.split(f"<!-- vaultsync:end {kind} -->", 1)[0].strip("\n").split("\n")


def filled(tmp_path: Path, capsys: Capsys, options: str, extra: dict[str, str | bytes]) -> str:
    index = f"# Index\n<!-- vaultsync:begin index {options} -->\n<!-- vaultsync:end index -->\n"
    root = write_vault(tmp_path / "v", {**NOTES, **extra, "Index.md": index})
    code, _out, err = run_cli(capsys, "fix", str(root), "--select", "S002")
    assert code in (0, 1), err
    return (root / "Index.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ('folder="videos"', ["- [[alpha]]", "- [[Zebra talk]]"]),
        ('folder="videos" recursive', ["- [[alpha]]", "- [[Beta]]", "- [[Zebra talk]]"]),
        ('folder="/videos/" recursive="false"', ["- [[alpha]]", "- [[Zebra talk]]"]),
        ('tag="ai"', ["- [[alpha]]", "- [[Root note]]", "- [[Zebra talk]]"]),
        ('tag="#ai/llm"', ["- [[Zebra talk]]"]),
        ('status="draft"', ["- [[Beta]]", "- [[Gamma]]", "- [[Zebra talk]]"]),
        ('status="draft" folder="videos" recursive', ["- [[Beta]]", "- [[Zebra talk]]"]),
        ("videoId", ["- [[Beta]]"]),
        (
            'folder="videos" recursive sort="title"',
            ["- [[Zebra talk]]", "- [[alpha]]", "- [[Beta]]"],
        ),
        ('folder="videos" sort="rating"', ["- [[alpha]]", "- [[Zebra talk]]"]),
        ('folder="nowhere"', ["_No matching notes._"]),
    ],
    ids=[
        "folder",
        "recursive",
        "folder-slashes",
        "nested-tag",
        "exact-tag",
        "property",
        "property-and-folder",
        "has-property",
        "sort-title",
        "sort-number-property",
        "empty",
    ],
)
def test_index_query_options(
    tmp_path: Path, capsys: Capsys, options: str, expected: list[str]
) -> None:
    assert body_of(filled(tmp_path, capsys, options, {})) == expected


def test_group_by_folder_and_by_tag(tmp_path: Path, capsys: Capsys) -> None:
    text = filled(tmp_path, capsys, 'group="folder" recursive folder=""', {})
    assert body_of(text) == [
        "- /",
        "  - [[Root note]]",
        "- other",
        "  - [[Gamma]]",
        "- videos",
        "  - [[alpha]]",
        "  - [[Zebra talk]]",
        "- videos/deep",
        "  - [[Beta]]",
    ]
    text = filled(tmp_path / "2", capsys, 'group="tag" tag="ai"', {})
    assert body_of(text) == [
        "- #ai",
        "  - [[alpha]]",
        "  - [[Root note]]",
        "- #ai/llm",
        "  - [[Zebra talk]]",
    ]


def test_sort_mtime_is_newest_first(tmp_path: Path, capsys: Capsys) -> None:
    index = '<!-- vaultsync:begin index folder="m" sort="mtime" -->\n<!-- vaultsync:end index -->\n'
    root = write_vault(
        tmp_path / "v", {"m/Old.md": "o\n", "m/New.md": "n\n", "m/Mid.md": "m\n", "I.md": index}
    )
    for offset, name in enumerate(["Old", "Mid", "New"]):
        os.utime(root / "m" / f"{name}.md", (1_600_000_000 + offset, 1_600_000_000 + offset))
    run_cli(capsys, "fix", str(root), "--select", "S002")
    assert body_of((root / "I.md").read_text()) == ["- [[New]]", "- [[Mid]]", "- [[Old]]"]


def test_index_excludes_its_own_note_and_qualifies_duplicate_names(
    tmp_path: Path, capsys: Capsys
) -> None:
    text = filled(
        tmp_path,
        capsys,
        'folder="" recursive tag="dup"',
        {
            "a/Dup.md": "#dup\n",
            "b/Dup.md": "#dup\n",
        },
    )
    assert body_of(text) == ["- [[a/Dup|Dup]]", "- [[b/Dup|Dup]]"]


def test_index_marker_keeps_options_and_records_the_hash(tmp_path: Path, capsys: Capsys) -> None:
    text = filled(tmp_path, capsys, 'folder="videos"   sort="name"', {})
    body = "\n- [[alpha]]\n- [[Zebra talk]]\n"
    digest = hashlib.sha256(body.encode()).hexdigest()[:8]
    assert text == (
        f'# Index\n<!-- vaultsync:begin index folder="videos" sort="name" hash={digest} -->'
        f"{body}<!-- vaultsync:end index -->\n"
    )


def test_index_updates_when_a_note_appears_and_keeps_hand_edits(
    tmp_path: Path, capsys: Capsys
) -> None:
    index = '<!-- vaultsync:begin index folder="f" -->\n<!-- vaultsync:end index -->\n'
    root = write_vault(tmp_path / "v", {"f/One.md": "1\n", "I.md": index})
    run_cli(capsys, "fix", str(root), "--select", "S")
    assert body_of((root / "I.md").read_text()) == ["- [[One]]"]
    (root / "f" / "Two.md").write_text("2\n")
    _code, out, _ = run_cli(capsys, "check", str(root), "--select", "S", "--format", "json")
    assert [d["code"] for d in json.loads(out)["diagnostics"]] == ["S002"]
    run_cli(capsys, "fix", str(root), "--select", "S")
    assert body_of((root / "I.md").read_text()) == ["- [[One]]", "- [[Two]]"]
    edited = (root / "I.md").read_text().replace("- [[Two]]", "- [[Two]] (my favourite)")
    (root / "I.md").write_text(edited)
    (root / "f" / "Three.md").write_text("3\n")
    _code, out, _ = run_cli(capsys, "check", str(root), "--select", "S", "--format", "json")
    assert [d["code"] for d in json.loads(out)["diagnostics"]] == ["S004"]
    run_cli(capsys, "fix", str(root), "--select", "S")
    assert (root / "I.md").read_text() == edited
    run_cli(capsys, "fix", str(root), "--select", "S", "--force")
    assert body_of((root / "I.md").read_text()) == ["- [[One]]", "- [[Three]]", "- [[Two]]"]


def test_a_user_block_with_content_but_no_hash_is_not_overwritten(
    tmp_path: Path, capsys: Capsys
) -> None:
    index = '<!-- vaultsync:begin index folder="f" -->\nmy list\n<!-- vaultsync:end index -->\n'
    root = write_vault(tmp_path / "v", {"f/One.md": "1\n", "I.md": index})
    _code, out, _ = run_cli(capsys, "check", str(root), "--select", "S", "--format", "json")
    assert [d["code"] for d in json.loads(out)["diagnostics"]] == ["S004"]
    run_cli(capsys, "fix", str(root), "--select", "S")
    assert (root / "I.md").read_text() == index


def test_unresolved_block_counts_references(tmp_path: Path, capsys: Capsys) -> None:
    block = "<!-- vaultsync:begin unresolved -->\n<!-- vaultsync:end unresolved -->\n"
    root = write_vault(
        tmp_path / "v",
        {
            "Unresolved links.md": block,
            "A.md": "[[Ghost]] [[ghost#h]] [[Zed]] [[Ghost|again]] ![[gone.png]]\n",
            "B.md": '---\nup: "[[Zed]]"\n---\n[[zed]] [[Apple]] [x](Apple.md) [[A]] [[../out]]\n',
        },
    )
    run_cli(capsys, "fix", str(root), "--select", "S002")
    text = (root / "Unresolved links.md").read_text()
    assert body_of(text, "unresolved") == [
        "- [[Ghost]] (3)",
        "- [[Zed]] (3)",
        "- [[Apple]] (2)",
        "- [[gone.png]] (1)",
    ]
    # The block's own links are not counted: a second run changes nothing.
    run_cli(capsys, "fix", str(root), "--select", "S002")
    assert (root / "Unresolved links.md").read_text() == text


def test_index_disabled_leaves_blocks_alone(tmp_path: Path, capsys: Capsys) -> None:
    index = '<!-- vaultsync:begin index folder="f" -->\n<!-- vaultsync:end index -->\n'
    root = write_vault(
        tmp_path / "v",
        {".vaultsync.toml": "[index]\nenabled = false\n", "f/One.md": "1\n", "I.md": index},
    )
    _code, out, _ = run_cli(capsys, "check", str(root), "--select", "S", "--format", "json")
    assert json.loads(out)["diagnostics"] == []


def test_links_inside_generated_blocks_are_not_link_problems(
    tmp_path: Path, capsys: Capsys
) -> None:
    block = "<!-- vaultsync:begin unresolved -->\n<!-- vaultsync:end unresolved -->\n"
    root = write_vault(tmp_path / "v", {"U.md": block, "A.md": "[[Ghost]] [[ghost_note]]\n"})
    run_cli(capsys, "fix", str(root), "--select", "S002")
    assert "- [[Ghost]] (1)" in (root / "U.md").read_text()
    _code, out, _ = run_cli(capsys, "check", str(root), "--select", "L", "--format", "json")
    assert {d["path"] for d in json.loads(out)["diagnostics"]} == {"A.md"}


def test_unresolved_target_a_wikilink_cannot_hold_is_shown_as_code(
    tmp_path: Path, capsys: Capsys
) -> None:
    block = "<!-- vaultsync:begin unresolved -->\n<!-- vaultsync:end unresolved -->\n"
    root = write_vault(tmp_path / "v", {"U.md": block, "A.md": "[x](a|b.md) [[c]]\n"})
    run_cli(capsys, "fix", str(root), "--select", "S002")
    assert body_of((root / "U.md").read_text(), "unresolved") == [
        "- `a|b.md` (1)",
        "- [[c]] (1)",
    ]
