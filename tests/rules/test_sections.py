"""Generated backlinks sections (§6): created, updated, removed, and never over a hand edit."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import run_cli
from tests.conftest import REPO, SECTIONS_ON, SEEDS, read, snapshot, write_vault

Capsys = pytest.CaptureFixture[str]


def short_hash(body: str) -> str:
    return hashlib.sha256(body.replace("\r\n", "\n").encode()).hexdigest()[:8]


def section(entries: list[str], nl: str = "\n", heading: str = "## Backlinks") -> str:
    """A backlinks section as §6 shows it, built independently of vaultsync's code."""
    body = nl + nl.join([heading, *entries]) + nl
    return (
        f"<!-- vaultsync:begin backlinks hash={short_hash(body)} -->"
        + body
        + "<!-- vaultsync:end backlinks -->"
    )


def fix(capsys: Capsys, root: Path, *args: str) -> int:
    code, _out, err = run_cli(capsys, "fix", str(root), *args)
    assert code in (0, 1), err
    return code


def check(capsys: Capsys, root: Path, *args: str) -> list[dict[str, Any]]:
    code, out, err = run_cli(capsys, "check", str(root), "--format", "json", *args)
    assert code in (0, 1), err
    found: list[dict[str, Any]] = json.loads(out)["diagnostics"]
    return found


def test_section_is_created_at_the_end_after_a_blank_line(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": SECTIONS_ON,
            "Target.md": "# Target\n\nSome text.\n",
            "b/Zeta.md": "See [[Target]].\n",
            "a/alpha.md": "An embed ![[Target]] and [md](Target.md).\n",
            "Props.md": '---\nrelated: "[[Target]]"\n---\nbody\n',
        },
    )
    fix(capsys, root, "--select", "S")
    expected = section(["- [[alpha]]", "- [[Props]]", "- [[Zeta]]"])
    assert read(root, "Target.md") == "# Target\n\nSome text.\n\n" + expected + "\n"


def test_entries_use_a_path_when_the_name_is_not_unique(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": SECTIONS_ON,
            "Target.md": "x\n",
            "one/Same.md": "[[Target]]\n",
            "two/Same.md": "[[Target]]\n",
        },
    )
    fix(capsys, root, "--select", "S")
    entries = ["- [[one/Same|Same]]", "- [[two/Same|Same]]"]
    assert read(root, "Target.md") == "x\n\n" + section(entries) + "\n"


def test_section_is_updated_then_removed_leaving_the_original_bytes(
    tmp_path: Path, capsys: Capsys
) -> None:
    original = "# Target\n\nText that must survive.\n"
    root = write_vault(
        tmp_path / "v",
        {".vaultsync.toml": SECTIONS_ON, "Target.md": original, "A.md": "[[Target]]\n"},
    )
    fix(capsys, root, "--select", "S")
    assert read(root, "Target.md") == original + "\n" + section(["- [[A]]"]) + "\n"

    (root / "B.md").write_text("[[Target#Heading|shown]] twice [[Target]]\n")
    assert [d["code"] for d in check(capsys, root, "--select", "S")] == ["S001"]
    fix(capsys, root, "--select", "S")
    assert read(root, "Target.md") == original + "\n" + section(["- [[A]]", "- [[B]]"]) + "\n"

    (root / "A.md").write_text("no link\n")
    (root / "B.md").write_text("no link\n")
    found = check(capsys, root, "--select", "S")
    assert [(d["path"], d["code"]) for d in found] == [("Target.md", "S001")]
    fix(capsys, root, "--select", "S")
    assert read(root, "Target.md") == original


def test_note_without_final_newline_keeps_having_none(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v", {".vaultsync.toml": SECTIONS_ON, "T.md": "last line", "A.md": "[[T]]"}
    )
    fix(capsys, root, "--select", "S")
    assert read(root, "T.md") == "last line\n\n" + section(["- [[A]]"])
    (root / "A.md").write_text("gone")
    fix(capsys, root, "--select", "S")
    assert read(root, "T.md") == "last line"


def test_second_fix_changes_nothing_and_two_copies_are_byte_identical(
    tmp_path: Path, capsys: Capsys
) -> None:
    files: dict[str, str | bytes] = {
        ".vaultsync.toml": SECTIONS_ON,
        "Hub.md": "[[x/Leaf]] [[y/Leaf]] [[Other]]\n",
        "x/Leaf.md": "[[Hub]] [[Other]]\n",
        "y/Leaf.md": "[[Hub]]\n",
        "Other.md": (
            '[[Hub]]\n<!-- vaultsync:begin index folder="x" -->\n<!-- vaultsync:end index -->\n'
        ),
        "Ünïcode.md": "[[Other]] [[Missing]]\n",
        "Unresolved.md": "<!-- vaultsync:begin unresolved -->\n<!-- vaultsync:end unresolved -->\n",
    }
    first = write_vault(tmp_path / "first", files)
    second = write_vault(tmp_path / "second", files)
    fix(capsys, first, "--select", "S")
    after_one = snapshot(first)
    fix(capsys, first, "--select", "S")
    assert snapshot(first) == after_one
    assert check(capsys, first, "--select", "S") == []
    fix(capsys, second, "--select", "S")
    assert snapshot(second) == after_one


def test_links_inside_generated_sections_are_not_backlinks(tmp_path: Path, capsys: Capsys) -> None:
    body = "\n## Backlinks\n- [[Lonely]]\n"
    stale = (
        f"<!-- vaultsync:begin backlinks hash={short_hash(body)} -->{body}"
        "<!-- vaultsync:end backlinks -->\n"
    )
    root = write_vault(
        tmp_path / "v",
        {
            "Lonely.md": "no links to me except from a section\n",
            "Holder.md": "text\n\n" + stale,
            "Index.md": "<!-- vaultsync:begin index -->\n<!-- vaultsync:end index -->\n",
        },
    )
    fix(capsys, root, "--select", "S")
    # Holder's section listed Lonely but nothing links to Holder: the section goes.
    assert read(root, "Holder.md") == "text\n"
    # The index links to every note, yet nobody gets a backlinks section from it.
    assert "backlinks" not in read(root, "Lonely.md")
    assert "backlinks" not in read(root, "Holder.md")
    assert check(capsys, root, "--select", "S") == []


def test_self_links_and_attachments_get_no_section(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Self.md": "[[Self]] and [[#Heading]]\n# Heading\n",
            "Note.md": "![[pic.png]]\n",
            "pic.png": b"\x89PNG\r\n",
        },
    )
    before = snapshot(root)
    assert check(capsys, root, "--select", "S") == []
    fix(capsys, root, "--select", "S")
    assert snapshot(root) == before


def test_hand_edited_section_is_left_alone_unless_forced(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v", {".vaultsync.toml": SECTIONS_ON, "T.md": "t\n", "A.md": "[[T]]\n"}
    )
    fix(capsys, root, "--select", "S")
    edited = read(root, "T.md").replace("- [[A]]", "- [[A]] my own remark")
    (root / "T.md").write_text(edited)
    (root / "B.md").write_text("[[T]]\n")
    found = check(capsys, root, "--select", "S")
    assert [(d["path"], d["code"], d["fix"]["applicability"]) for d in found] == [
        ("T.md", "S004", "unsafe")
    ]
    fix(capsys, root, "--select", "S")
    fix(capsys, root, "--select", "S", "--unsafe")
    assert read(root, "T.md") == edited
    fix(capsys, root, "--select", "S", "--force")
    assert read(root, "T.md") == "t\n\n" + section(["- [[A]]", "- [[B]]"]) + "\n"


def test_broken_markers_block_every_fix_of_that_note(tmp_path: Path, capsys: Capsys) -> None:
    broken = (
        "[[open_source_notes]] is a variant\n\n"
        "<!-- vaultsync:begin backlinks hash=00000000 -->\n## Backlinks\n- [[A]]\n"
    )
    doubled = "[[Broken]]\n<!-- vaultsync:end index -->\n"
    root = write_vault(
        tmp_path / "v",
        {
            "Broken.md": broken,
            "Doubled.md": doubled,
            "A.md": "[[Broken]] [[Open Source Notes]]\n",
            "Open Source Notes.md": "[[A]]\n",
        },
    )
    found = check(capsys, root)
    by_note = {(d["path"], d["code"]): d for d in found}
    assert by_note[("Broken.md", "S003")]["severity"] == "error"
    assert by_note[("Doubled.md", "S003")]["line"] == 2
    # The variant link in the broken note is reported but not offered as a fix.
    assert by_note[("Broken.md", "L002")]["fix"] is None
    assert ("Broken.md", "S001") not in by_note
    fix(capsys, root)
    assert read(root, "Broken.md") == broken
    assert read(root, "Doubled.md") == doubled
    # Other notes are still fixed.
    assert "vaultsync:begin backlinks" in read(root, "A.md")


@pytest.mark.parametrize(
    "marker",
    [
        "<!-- vaultsync:begin backlinks -->\n<!-- vaultsync:begin backlinks -->\n"
        "<!-- vaultsync:end backlinks -->\n",
        "<!-- vaultsync:begin backlinks -->\n<!-- vaultsync:end backlinks -->\n"
        "<!-- vaultsync:begin backlinks -->\n<!-- vaultsync:end backlinks -->\n",
        "<!-- vaultsync:begin index -->\n<!-- vaultsync:end backlinks -->\n",
        "<!-- vaultsync:begin tasks -->\n<!-- vaultsync:end tasks -->\n",
        '<!-- vaultsync:begin index group="date" -->\n<!-- vaultsync:end index -->\n',
        '<!-- vaultsync:begin index folder="unbalanced -->\n<!-- vaultsync:end index -->\n',
        "<!-- vaultsync:begin backlinks folder=x -->\n<!-- vaultsync:end backlinks -->\n",
    ],
    ids=["nested", "doubled", "mismatched", "unknown-kind", "bad-group", "bad-quote", "bad-opt"],
)
def test_broken_marker_forms_are_s003(tmp_path: Path, capsys: Capsys, marker: str) -> None:
    root = write_vault(tmp_path / "v", {"N.md": "text\n" + marker, "A.md": "[[N]]\n"})
    found = check(capsys, root, "--select", "S")
    assert [d["code"] for d in found if d["path"] == "N.md"][:1] == ["S003"]
    fix(capsys, root, "--select", "S", "--force")
    assert read(root, "N.md") == "text\n" + marker


def test_markers_in_code_blocks_are_text(tmp_path: Path, capsys: Capsys) -> None:
    note = "```\n<!-- vaultsync:begin backlinks -->\n```\n"
    root = write_vault(tmp_path / "v", {"N.md": note})
    assert check(capsys, root, "--select", "S") == []


def test_crlf_note_gets_a_crlf_section_and_bom_is_kept(tmp_path: Path, capsys: Capsys) -> None:
    original = "\ufeff# Windows\r\n\r\nText.\r\n".encode()
    root = write_vault(
        tmp_path / "v", {".vaultsync.toml": SECTIONS_ON, "W.md": original, "A.md": "[[W]]\n"}
    )
    fix(capsys, root, "--select", "S")
    raw = (root / "W.md").read_bytes()
    expected = original + ("\r\n" + section(["- [[A]]"], nl="\r\n") + "\r\n").encode()
    assert raw == expected
    # The hash is the same as for an LF note with the same entries.
    assert section(["- [[A]]"], nl="\r\n").split(" -->")[0] == section(["- [[A]]"]).split(" -->")[0]
    (root / "A.md").write_text("none")
    fix(capsys, root, "--select", "S")
    assert (root / "W.md").read_bytes() == original


def test_config_heading_exclude_and_disabled(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": (
                '[backlinks]\nenabled = true\nheading = "### Linked from"\nexclude = ["daily/"]\n'
            ),
            "T.md": "t\n",
            "A.md": "[[T]]\n",
            "daily/2024-01-01.md": "[[T]] [[A]]\n",
            "Only daily.md": "o\n",
            "daily/2024-01-02.md": "[[Only daily]]\n",
            "X.md": "[[daily/2024-01-01]]\n",
        },
    )
    fix(capsys, root, "--select", "S")
    assert read(root, "T.md") == "t\n\n" + section(["- [[A]]"], heading="### Linked from") + "\n"
    assert read(root, "Only daily.md") == "o\n"
    assert "vaultsync" not in read(root, "daily/2024-01-01.md")

    (root / ".vaultsync.toml").write_text("[backlinks]\nenabled = false\n")
    (root / "B.md").write_text("[[T]]\n")
    assert check(capsys, root, "--select", "S") == []


def test_notes_excluded_from_linting_are_not_written(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": 'exclude = ["templates/"]\n' + SECTIONS_ON,
            "templates/T.md": "template\n",
            "A.md": "[[T]]\n",
            "B.md": "b\n",
            "templates/Uses B.md": "[[B]]\n",
        },
    )
    fix(capsys, root, "--select", "S")
    assert read(root, "templates/T.md") == "template\n"
    # Links from excluded notes still count, as they do in Obsidian.
    assert read(root, "B.md") == "b\n\n" + section(["- [[Uses B]]"]) + "\n"


def test_empty_note_gets_a_section_without_leading_blank_line(
    tmp_path: Path, capsys: Capsys
) -> None:
    root = write_vault(
        tmp_path / "v", {".vaultsync.toml": SECTIONS_ON, "Empty.md": "", "A.md": "[[Empty]]\n"}
    )
    fix(capsys, root, "--select", "S")
    assert read(root, "Empty.md") == section(["- [[A]]"]) + "\n"


def test_rewritten_section_keeps_its_place_and_surroundings(tmp_path: Path, capsys: Capsys) -> None:
    body = "\n## Backlinks\n- [[A]]\n"
    old = (
        f"<!-- vaultsync:begin backlinks hash={short_hash(body)} -->{body}"
        "<!-- vaultsync:end backlinks -->"
    )
    note = "before\n" + old + "\nafter, written by hand\n"
    root = write_vault(tmp_path / "v", {"T.md": note, "A.md": "[[T]]\n", "B.md": "[[T]]\n"})
    fix(capsys, root, "--select", "S")
    assert read(root, "T.md") == (
        "before\n" + section(["- [[A]]", "- [[B]]"]) + "\nafter, written by hand\n"
    )


def test_seeds_with_stubs_every_section_lists_exactly_the_linking_notes(
    seeds_copy: Path, capsys: Capsys
) -> None:
    fix(capsys, seeds_copy, "--create-missing")
    first = snapshot(seeds_copy)
    fix(capsys, seeds_copy, "--create-missing")
    assert snapshot(seeds_copy) == first
    assert [d for d in check(capsys, seeds_copy) if d["code"][0] == "S"] == []
    code, out, err = run_cli(capsys, "graph", str(seeds_copy))
    assert code == 0, err
    graph = json.loads(out)
    linking: dict[str, set[str]] = {n["path"]: set() for n in graph["notes"]}
    for link in graph["links"]:
        target = link["resolved"]
        if target in linking and target != link["source"] and not link["generated"]:
            linking[target].add(link["source"].rsplit("/", 1)[-1][:-3])
    stubs = [p for p in first if p.endswith(".md") and not (SEEDS / p).exists()]
    assert stubs, "--create-missing made no stub notes"
    for path, sources in linking.items():
        text = read(seeds_copy, path)
        listed = (
            {
                line[len("- [[") :].split("]]")[0].split("|")[-1]
                for line in text.split("<!-- vaultsync:begin backlinks")[-1].splitlines()
                if line.startswith("- [[")
            }
            if "vaultsync:begin backlinks" in text
            else set()
        )
        assert listed == sources, path


def test_names_a_wikilink_cannot_hold_are_listed_as_markdown_links(
    tmp_path: Path, capsys: Capsys
) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": SECTIONS_ON,
            "T.md": "t\n",
            "C# (notes).md": "[[T]]\n",
            "x/Plain.md": "[[T]]\n",
        },
    )
    fix(capsys, root, "--select", "S")
    entries = ["- [C# (notes)](C%23%20(notes).md)", "- [[Plain]]"]
    assert read(root, "T.md") == "t\n\n" + section(entries) + "\n"
    _code, out, _err = run_cli(capsys, "graph", str(root))
    links = [k for k in json.loads(out)["links"] if k["source"] == "T.md"]
    assert {k["resolved"] for k in links} == {"C# (notes).md", "x/Plain.md"}


def test_a_wrong_hash_over_the_right_body_is_simply_renewed(tmp_path: Path, capsys: Capsys) -> None:
    root = write_vault(
        tmp_path / "v", {".vaultsync.toml": SECTIONS_ON, "T.md": "t\n", "A.md": "[[T]]\n"}
    )
    fix(capsys, root, "--select", "S")
    good = read(root, "T.md")
    digest = good.split("hash=")[1][:8]
    (root / "T.md").write_text(good.replace(digest, "0badc0de"))
    assert [d["code"] for d in check(capsys, root, "--select", "S")] == ["S001"]
    fix(capsys, root, "--select", "S")
    assert read(root, "T.md") == good


# --- opt-in (§6) ---------------------------------------------------------------------------

UNCONFIGURED: dict[str, str | bytes] = {
    "Target.md": "# Target\n",
    "A.md": "[[Target]]\n",
    "b/B.md": "[[Target]] [[A]]\n",
}


def _watch_once(root: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vaultsync", "watch", str(root), "--once", "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_without_the_switch_no_section_is_proposed_or_written(
    tmp_path: Path, capsys: Capsys
) -> None:
    # A first run on someone's vault must not propose to rewrite every linked note.
    root = write_vault(tmp_path / "v", UNCONFIGURED)
    before = snapshot(root)
    assert [d for d in check(capsys, root) if d["code"][0] == "S"] == []
    assert fix(capsys, root) == 0
    _watch_once(root)
    assert snapshot(root) == before
    # `[backlinks] enabled = true` turns them on, for check, fix and the daemon alike.
    (root / ".vaultsync.toml").write_text(SECTIONS_ON, encoding="utf-8")
    found = check(capsys, root)
    assert sorted((d["path"], d["code"]) for d in found) == [
        ("A.md", "S001"),
        ("Target.md", "S001"),
    ]
    _watch_once(root)
    assert read(root, "Target.md") == "# Target\n\n" + section(["- [[A]]", "- [[B]]"]) + "\n"
    assert read(root, "A.md") == "[[Target]]\n\n" + section(["- [[B]]"]) + "\n"


def test_a_vault_holding_a_section_keeps_them_until_switched_off(
    tmp_path: Path, capsys: Capsys
) -> None:
    # A vault vaultsync wrote sections into before they were opt-in keeps them current.
    root = write_vault(
        tmp_path / "v", {**UNCONFIGURED, "Target.md": "# Target\n\n" + section(["- [[A]]"]) + "\n"}
    )
    assert [(d["path"], d["code"]) for d in check(capsys, root)] == [
        ("A.md", "S001"),
        ("Target.md", "S001"),
    ]
    fix(capsys, root)
    assert read(root, "Target.md") == "# Target\n\n" + section(["- [[A]]", "- [[B]]"]) + "\n"
    # Once every section is gone, nothing brings them back.
    (root / "Target.md").write_text("# Target\n", encoding="utf-8")
    (root / "A.md").write_text("[[Target]]\n", encoding="utf-8")
    assert check(capsys, root) == []
    # An explicit `enabled = false` wins over sections already there.
    (root / "Target.md").write_text("# Target\n\n" + section(["- [[A]]"]) + "\n")
    (root / ".vaultsync.toml").write_text("[backlinks]\nenabled = false\n", encoding="utf-8")
    before = snapshot(root)
    assert check(capsys, root) == []
    fix(capsys, root)
    assert snapshot(root) == before


def test_an_index_block_is_filled_unless_switched_off(tmp_path: Path, capsys: Capsys) -> None:
    # Opening a block is the opt-in: it is filled without any config.
    block = '<!-- vaultsync:begin index folder="b" -->\n<!-- vaultsync:end index -->\n'
    root = write_vault(tmp_path / "v", {**UNCONFIGURED, "Index.md": block})
    assert [(d["path"], d["code"]) for d in check(capsys, root)] == [("Index.md", "S002")]
    (root / ".vaultsync.toml").write_text("[index]\nenabled = false\n", encoding="utf-8")
    assert check(capsys, root) == []


def test_the_daemon_turns_sections_on_when_the_first_one_appears(tmp_path: Path) -> None:
    from vaultsync.config.settings import load_config
    from vaultsync.daemon.live import LiveVault
    from vaultsync.rules import Selection

    root = write_vault(tmp_path / "v", UNCONFIGURED)
    selection = Selection.build([], [])
    live = LiveVault(root, load_config(root), selection)
    assert [d for d in live.diagnostics() if d.code[0] == "S"] == []
    (root / "b/B.md").write_text("[[Target]] [[A]]\n\n" + section(["- [[X]]"]) + "\n")
    update = live.apply(["b/B.md"])
    assert update.affected == set(UNCONFIGURED)  # every note's sections are in question
    found = sorted((d.path, d.code) for d in live.diagnostics() if d.code[0] == "S")
    assert found == [("A.md", "S001"), ("Target.md", "S001"), ("b/B.md", "S001")]
    assert live.diagnostics() == LiveVault(root, load_config(root), selection).diagnostics()
    (root / "b/B.md").write_text("[[Target]] [[A]]\n")
    update = live.apply(["b/B.md"])
    assert update.affected == set(UNCONFIGURED)
    assert [d for d in live.diagnostics() if d.code[0] == "S"] == []
