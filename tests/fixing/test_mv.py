"""`vaultsync mv OLD NEW`: the file moves and every link keeps reaching it, in its own style."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks.generate import generate_vault
from tests.clirun import run_cli
from tests.conftest import SECTIONS_ON, read, snapshot, write_vault

Capsys = pytest.CaptureFixture[str]


def mv(capsys: Capsys, root: Path, old: str, new: str, *args: str) -> tuple[int, str, str]:
    return run_cli(capsys, "mv", str(root / old), str(root / new), *args)


def graph(capsys: Capsys, root: Path) -> dict[str, Any]:
    code, out, err = run_cli(capsys, "graph", str(root))
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def check(capsys: Capsys, root: Path, *args: str) -> list[dict[str, Any]]:
    code, out, err = run_cli(capsys, "check", str(root), "--format", "json", *args)
    assert code in (0, 1), err
    found: list[dict[str, Any]] = json.loads(out)["diagnostics"]
    return found


def test_every_link_style_is_kept(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "notes/Old Name.md": "# Heading\n\ntext ^block\n",
            "Wiki.md": (
                "[[Old Name]] [[old name|shown]] [[Old Name#Heading]] ![[Old Name#^block]]\n"
                "[[notes/Old Name]] [[Old Name.md]] [[ Old Name | padded ]]\n"
            ),
            "Markdown.md": (
                "[a](notes/Old%20Name.md) [b](Old%20Name.md#Heading) [c](<notes/Old Name.md>)\n"
            ),
            "notes/Relative.md": "[[./Old Name]] [r](../notes/Old%20Name.md)\n",
            "Props.md": '---\nrelated: "[[Old Name]]"\nlist:\n  - "[[notes/Old Name|x]]"\n---\n',
        },
    )
    code, out, err = mv(capsys, root, "notes/Old Name.md", "archive/New Name.md")
    assert code == 0, err
    assert "rewrote 14 link(s) in 4 note(s)" in out
    assert not (root / "notes/Old Name.md").exists()
    assert read(root, "archive/New Name.md") == "# Heading\n\ntext ^block\n"
    assert read(root, "Wiki.md") == (
        "[[New Name]] [[New Name|shown]] [[New Name#Heading]] ![[New Name#^block]]\n"
        "[[archive/New Name]] [[New Name.md]] [[ New Name | padded ]]\n"
    )
    assert read(root, "Markdown.md") == (
        "[a](archive/New%20Name.md) [b](New%20Name.md#Heading) [c](<archive/New Name.md>)\n"
    )
    assert read(root, "notes/Relative.md") == (
        "[[../archive/New Name]] [r](../archive/New%20Name.md)\n"
    )
    assert read(root, "Props.md") == (
        '---\nrelated: "[[New Name]]"\nlist:\n  - "[[archive/New Name|x]]"\n---\n'
    )
    assert check(capsys, root, "--select", "L") == []


def test_relative_links_inside_the_moved_note_follow_it(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "a/Mover.md": "[[./Sibling]] [up](../Top.md) [[Sibling]] [[#Self]]\n# Self\n",
            "a/Sibling.md": "s\n",
            "Top.md": "t\n",
        },
    )
    code, _out, err = mv(capsys, root, "a/Mover.md", "b/c/Mover.md")
    assert code == 0, err
    assert read(root, "b/c/Mover.md") == (
        "[[../../a/Sibling]] [up](../../Top.md) [[Sibling]] [[#Self]]\n# Self\n"
    )
    assert check(capsys, root, "--select", "L") == []


def test_new_may_be_a_folder(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(tmp_path / "v", {"N.md": "n\n", "A.md": "[[N]]\n", "existing/x.md": ""})
    code, _out, err = mv(capsys, root, "N.md", "existing")
    assert code == 0, err
    assert (root / "existing/N.md").is_file()
    code, _out, err = run_cli(capsys, "mv", str(root / "existing/N.md"), str(root / "fresh") + "/")
    assert code == 0, err
    assert (root / "fresh/N.md").is_file()
    assert read(root, "A.md") == "[[N]]\n"  # the name is still unique: nothing to rewrite


def test_a_moved_file_that_captures_other_links_gets_them_qualified(
    tmp_path: Path, capsys: Capsys
) -> None:
    # `[[Report]]` in b/ reaches first/Report.md; once b/Report.md exists Obsidian
    # prefers that one (own folder), so the link must name first/Report.md.
    root = write_vault(
        tmp_path / "v",
        {
            "first/Report.md": "wanted\n",
            "zz/other/Report.md": "moved\n",
            "b/Reader.md": "[[Report]]\n",
        },
    )
    code, _out, err = mv(capsys, root, "zz/other/Report.md", "b/Report.md")
    assert code == 0, err
    assert read(root, "b/Reader.md") == "[[first/Report]]\n"
    (link,) = [k for k in graph(capsys, root)["links"] if k["source"] == "b/Reader.md"]
    assert link["resolved"] == "first/Report.md"


def test_attachment_embeds_are_rewritten(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "img/pic one.png": b"\x89PNG\r\n",
            "N.md": "![[pic one.png]] ![[img/pic one.png|200]] ![alt](img/pic%20one.png)\n",
        },
    )
    code, _out, err = mv(capsys, root, "img/pic one.png", "media/diagram.png")
    assert code == 0, err
    assert (root / "media/diagram.png").read_bytes() == b"\x89PNG\r\n"
    assert read(root, "N.md") == (
        "![[diagram.png]] ![[media/diagram.png|200]] ![alt](media/diagram.png)\n"
    )


def test_refuses_to_overwrite_and_changes_nothing(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(tmp_path / "v", {"A.md": "[[B]]\n", "B.md": "b\n", "C.md": "c\n"})
    before = snapshot(root)
    code, _out, err = mv(capsys, root, "B.md", "C.md")
    assert code == 2
    assert "already exists" in err and "Traceback" not in err
    code, _out, err = mv(capsys, root, "B.md", "c.md")  # Obsidian treats it as the same name
    assert code == 2
    assert snapshot(root) == before


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("Missing.md", "X.md", "no such file"),
        ("A.md", "A.txt", "must keep the .md extension"),
        ("A.md", ".hidden/A.md", "dot-folders"),
        ("A.md", "../outside.md", "outside the vault"),
    ],
)
def test_bad_arguments_exit_2(
    tmp_path: Path, capsys: Capsys, old: str, new: str, message: str
) -> None:
    root = write_vault(tmp_path / "v", {"A.md": "a\n"})
    code, _out, err = mv(capsys, root, old, new)
    assert code == 2
    assert message in err


def test_dry_run_prints_the_diff_and_writes_nothing(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(tmp_path / "v", {"A.md": "see [[B]]\n", "B.md": "b\n"})
    before = snapshot(root)
    code, out, err = mv(capsys, root, "B.md", "Renamed.md", "--dry-run")
    assert code == 0, err
    assert snapshot(root) == before
    assert out.splitlines() == [
        "rename from B.md",
        "rename to Renamed.md",
        "--- a/A.md",
        "+++ b/A.md",
        "@@ -1 +1 @@",
        "-see [[B]]",
        "+see [[Renamed]]",
    ]


def test_crlf_bom_and_generated_sections_survive(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": SECTIONS_ON,
            "Old.md": "[[Hub]]\n",
            "Hub.md": "h\n",
            "Win.md": "\ufeffline\r\n[[Old]]\r\n".encode(),
        },
    )
    run_cli(capsys, "fix", str(root), "--select", "S")
    assert "- [[Old]]" in read(root, "Hub.md")
    code, _out, err = mv(capsys, root, "Old.md", "New.md")
    assert code == 0, err
    assert (root / "Win.md").read_bytes() == b"\xef\xbb\xbfline\r\n[[New]]\r\n"
    # Hub's backlinks entry was renamed and its hash renewed: not a hand edit.
    assert "- [[New]]" in read(root, "Hub.md")
    assert check(capsys, root, "--select", "S") == []


def test_notes_with_broken_markers_block_the_move(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {"B.md": "b\n", "A.md": "[[B]]\n<!-- vaultsync:begin backlinks -->\n"},
    )
    before = snapshot(root)
    code, _out, err = mv(capsys, root, "B.md", "C.md")
    assert code == 2
    assert "A.md" in err and "S003" in err
    assert snapshot(root) == before


def _renamed(path: str | None, old: str, new: str) -> str | None:
    return new if path == old else path


def _edges(document: dict[str, Any], old: str = "", new: str = "") -> Counter[tuple[Any, ...]]:
    return Counter(
        (
            _renamed(k["source"], old, new),
            k["kind"],
            k["subpath"],
            k["display"],
            _renamed(k["resolved"], old, new),
        )
        for k in document["links"]
    )


def test_generated_vault_graph_is_the_same_with_the_path_renamed(
    tmp_path: Path, capsys: Capsys
) -> None:
    root = tmp_path / "gen"
    generate_vault(root, 1000)
    before = graph(capsys, root)
    inbound = Counter(
        k["resolved"]
        for k in before["links"]
        if k["resolved"] and k["resolved"].endswith(".md") and "/" in k["resolved"]
    )
    old = inbound.most_common(1)[0][0]  # the most linked note inside a folder
    new = "Moved here/Renamed by vaultsync.md"
    broken_before = {
        (_renamed(d["path"], old, new), d["data"]["target"])
        for d in check(capsys, root, "--select", "L001")
    }
    code, out, err = mv(capsys, root, old, new)
    assert code == 0, err
    assert "rewrote" in out
    after = graph(capsys, root)
    assert _edges(after) == _edges(before, old, new)
    notes_before = sorted(_renamed(n["path"], old, new) or "" for n in before["notes"])
    assert sorted(n["path"] for n in after["notes"]) == notes_before
    broken_after = {
        (d["path"], d["data"]["target"]) for d in check(capsys, root, "--select", "L001")
    }
    assert broken_after <= broken_before


def test_a_case_only_rename_respells_the_links(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {"notes/project plan.md": "p\n", "A.md": "[[project plan]] [[notes/project plan|x]]\n"},
    )
    code, _out, err = mv(capsys, root, "notes/project plan.md", "notes/Project Plan.md")
    assert code == 0, err
    assert sorted(p.name for p in (root / "notes").iterdir()) == ["Project Plan.md"]
    assert read(root, "A.md") == "[[Project Plan]] [[notes/Project Plan|x]]\n"
    assert check(capsys, root, "--select", "L") == []


def test_a_note_changed_after_planning_is_skipped_not_overwritten(tmp_path: Path) -> None:
    from vaultsync.config.settings import load_config
    from vaultsync.fixing.mv import apply_move, plan_move
    from vaultsync.lint import engine

    root = write_vault(tmp_path / "v", {"Old.md": "o\n", "A.md": "[[Old]]\n", "B.md": "[[Old]]\n"})
    vault = engine.load(root, load_config(root))
    plan = plan_move(vault, "Old.md", "New.md")
    (root / "A.md").write_text("[[Old]] and words typed meanwhile\n")
    skipped = apply_move(vault, plan)
    assert list(skipped) == ["A.md"]
    assert read(root, "A.md") == "[[Old]] and words typed meanwhile\n"
    assert read(root, "B.md") == "[[New]]\n"
    assert (root / "New.md").is_file() and not (root / "Old.md").exists()
