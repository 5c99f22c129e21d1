"""Link resolution as Obsidian does it (design §3; obsidian-semantics §C, §D, R20-R33, R42, R60,
R61), checked end to end: a fixture vault on disk, `vaultsync graph` and `vaultsync check`."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from tests.clirun import codes_at, diagnostics, fixed_text, resolved_from
from tests.conftest import write_vault

Cap = pytest.CaptureFixture[str]


def test_R21_empty_linkpath_is_the_note_itself(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Self.md": (
                "# Intro\n\nSee [[#Intro]], [[#^b1]], [up](#intro) and [[#Nowhere]].\n\nx ^b1\n"
            )
        },
    )
    links = resolved_from(capsys, root, "Self.md")
    assert links == {"": "Self.md"}
    found = diagnostics(capsys, root)
    assert [(d["code"], d["data"]["subpath"]) for d in found] == [("L003", "#Nowhere")]


def test_R22_exact_path_wins_even_over_own_folder(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {"Note.md": "", "a/b/Note.md": "", "a/b/src.md": "[[Note]]\n"},
    )
    assert resolved_from(capsys, root, "a/b/src.md") == {"Note": "Note.md"}


def test_R22_folder_path_from_root_case_insensitive_md_optional(
    tmp_path: Path, capsys: Cap
) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Folder/Note.md": "",
            "x/Folder/Note.md": "",
            "src.md": "[[folder/note]] [[Folder/Note.md]] [[FOLDER/NOTE.MD]]\n",
        },
    )
    assert resolved_from(capsys, root, "src.md") == {
        "folder/note": "Folder/Note.md",
        "Folder/Note.md": "Folder/Note.md",
        "FOLDER/NOTE.MD": "Folder/Note.md",
    }


def test_R23_path_suffix_matches_a_deeper_file(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v", {"a/b/Note.md": "", "src.md": "[[b/Note]] [[a/b/Note]] [[c/Note]]\n"}
    )
    assert resolved_from(capsys, root, "src.md") == {
        "b/Note": "a/b/Note.md",
        "a/b/Note": "a/b/Note.md",
        "c/Note": None,
    }


def test_R23_own_folder_wins_over_shorter_path(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "x/Note.md": "",
            "longer/Note.md": "",
            "longer/src.md": "[[Note]]\n",
            "y/src.md": "[[Note]]\n",
        },
    )
    assert resolved_from(capsys, root, "longer/src.md") == {"Note": "longer/Note.md"}
    assert resolved_from(capsys, root, "y/src.md") == {"Note": "x/Note.md"}


def test_R23_ancestor_folders_count_for_nothing(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {"deep/Note.md": "", "abcd/Note.md": "", "deep/er/src.md": "[[Note]]\n"},
    )
    # `deep/` is an ancestor of the source, not its folder: a tie on length, not a preference.
    found = diagnostics(capsys, root)
    assert [d["code"] for d in found] == ["L005"]
    assert found[0]["data"]["candidates"] == ["abcd/Note.md", "deep/Note.md"]


def test_R23_shortest_path_string_wins(tmp_path: Path, capsys: Cap) -> None:
    # `a/b/Note.md` has more components but a shorter string than `zzzz/Note.md`.
    root = write_vault(
        tmp_path / "v", {"a/b/Note.md": "", "zzzz/Note.md": "", "src.md": "[[Note]]\n"}
    )
    assert resolved_from(capsys, root, "src.md") == {"Note": "a/b/Note.md"}
    assert diagnostics(capsys, root) == []


def test_R23_tie_on_length_is_L005_with_candidates_and_lexically_first(
    tmp_path: Path, capsys: Cap
) -> None:
    root = write_vault(
        tmp_path / "v",
        {"bb/Tie.md": "", "aa/Tie.md": "# H\n", "src.md": "x [[Tie#Nope]]\n"},
    )
    assert resolved_from(capsys, root, "src.md") == {"Tie": "aa/Tie.md"}
    found = diagnostics(capsys, root)
    assert [d["code"] for d in found] == ["L003", "L005"]  # analysis goes on with aa/Tie.md
    tie = found[1]
    assert tie["data"]["candidates"] == ["aa/Tie.md", "bb/Tie.md"]
    assert tie["data"]["resolved"] == "aa/Tie.md"
    assert tie["fix"]["applicability"] == "unsafe"
    assert fixed_text(root, tie) == "x [[aa/Tie#Nope]]\n"


def test_R24_relative_paths_have_no_fallback(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "y.md": "",
            "Missing.md": "",
            "a/z.md": "",
            "a/x.md": "[[../y]] [[./Missing]] [[./z]] [[../a/z]] [z](./z.md) [y](../y.md)\n",
        },
    )
    assert resolved_from(capsys, root, "a/x.md") == {
        "../y": "y.md",
        "./Missing": None,  # `Missing.md` at the root is not a fallback
        "./z": "a/z.md",
        "../a/z": "a/z.md",
        "./z.md": "a/z.md",
        "../y.md": "y.md",
    }
    found = diagnostics(capsys, root)
    assert [(d["code"], d["data"]["target"]) for d in found] == [("L001", "./Missing")]


def test_R24_relative_link_above_the_vault_root_is_L008(tmp_path: Path, capsys: Cap) -> None:
    (tmp_path / "outside.md").write_text("secret\n", encoding="utf-8")
    root = write_vault(tmp_path / "v", {"a/x.md": "[[../../outside]] [o](../../outside.md)\n"})
    found = diagnostics(capsys, root)
    assert [d["code"] for d in found] == ["L008", "L008"]
    assert all(d["data"]["resolved"] is None and d["severity"] == "error" for d in found)


def test_R24_leading_slash_is_the_vault_root(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Same Name.md": "",
            "a/Same Name.md": "",
            "a/Only Here.md": "",
            "a/src.md": "[[/Same Name]] [[/Only Here]] [[/a/Only Here]]\n",
        },
    )
    assert resolved_from(capsys, root, "a/src.md") == {
        "/Same Name": "Same Name.md",
        "/Only Here": None,
        "/a/Only Here": "a/Only Here.md",
    }


def test_R25_case_insensitive_names_and_extension(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Test Data/link_in_yaml.md": "",
            "Ext.md": "",
            "img/Photo.PNG": b"\x89PNG",
            "src.md": "[[liNk_in_YaMl]] [[Ext.MD]] ![[photo.png]]\n",
        },
    )
    assert resolved_from(capsys, root, "src.md") == {
        "liNk_in_YaMl": "Test Data/link_in_yaml.md",
        "Ext.MD": "Ext.md",
        "photo.png": "img/Photo.PNG",
    }


def test_R26_md_optional_attachments_need_extension_dotted_names(
    tmp_path: Path, capsys: Cap
) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Three laws of motion.md": "",
            "Note.1.md": "",
            "img/Figure 1.png": b"\x89PNG",
            "src.md": (
                "[[Three laws of motion]] [[Three laws of motion.md]] [[Note.1]] [[Note.1.md]]\n"
                "![[Figure 1.png]] ![[Figure 1]]\n"
            ),
        },
    )
    assert resolved_from(capsys, root, "src.md") == {
        "Three laws of motion": "Three laws of motion.md",
        "Three laws of motion.md": "Three laws of motion.md",
        "Note.1": "Note.1.md",
        "Note.1.md": "Note.1.md",
        "Figure 1.png": "img/Figure 1.png",
        "Figure 1": None,
    }
    assert [(d["code"], d["data"]["target"]) for d in diagnostics(capsys, root)] == [
        ("L001", "Figure 1")
    ]


def test_R27_aliases_never_resolve_and_L006_fixes_to_name_with_display(
    tmp_path: Path, capsys: Cap
) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "notes/Artificial Intelligence.md": "---\naliases: [AI, Machine minds]\n---\n",
            "src.md": "[[AI]] and [[machine MINDS|minds]] and ![[AI]]\n",
        },
    )
    assert resolved_from(capsys, root, "src.md") == {"AI": None, "machine MINDS": None}
    found = diagnostics(capsys, root)
    assert [d["code"] for d in found] == ["L006", "L006", "L006"]
    assert all(d["data"]["resolved"] is None and d["severity"] == "info" for d in found)
    first, second, third = found
    assert fixed_text(root, first).startswith("[[Artificial Intelligence|AI]] and")
    assert "[[Artificial Intelligence|minds]]" in fixed_text(root, second)
    # An embed shows the note it embeds, not its link text: none is added.
    assert fixed_text(root, third).endswith("![[Artificial Intelligence]]\n")


def test_R28_underscores_do_not_fold_to_spaces(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {"Open Source AI Models.md": "", "src.md": "[[open_source_ai_models]]\n"},
    )
    assert resolved_from(capsys, root, "src.md") == {"open_source_ai_models": None}
    (found,) = diagnostics(capsys, root)
    assert found["code"] == "L002"
    assert found["data"] == {
        "target": "open_source_ai_models",
        "resolved": None,
        "canonical": "Open Source AI Models",
    }


def test_R31_excluded_files_resolve_but_are_not_linted(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": 'exclude = ["drafts/"]\n',
            ".obsidian/app.json": json.dumps({"userIgnoreFilters": ["archive/"]}),
            "drafts/Draft.md": "[[broken in draft]]\n",
            "archive/Old.md": "[[broken in archive]]\n",
            "src.md": "[[Draft]] [[Old]] [[broken in src]]\n",
        },
    )
    assert resolved_from(capsys, root, "src.md") == {
        "Draft": "drafts/Draft.md",
        "Old": "archive/Old.md",
        "broken in src": None,
    }
    found = diagnostics(capsys, root)
    assert [(d["path"], d["data"]["target"]) for d in found] == [("src.md", "broken in src")]


def test_R31_dot_folders_are_never_part_of_the_vault(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".hidden/Secret.md": "[[nowhere]]\n",
            ".obsidian/Config Note.md": "",
            ".trash/Trashed.md": "",
            "a/.dot/Deep.md": "",
            "src.md": "[[Secret]] [[Config Note]] [[Trashed]] [[Deep]] [[.hidden/Secret]]\n",
        },
    )
    assert set(resolved_from(capsys, root, "src.md").values()) == {None}
    found = diagnostics(capsys, root)
    assert {d["path"] for d in found} == {"src.md"}
    assert [d["code"] for d in found] == ["L001"] * 5


def test_R33_nfd_file_name_matches_nfc_link_and_back(tmp_path: Path, capsys: Cap) -> None:
    nfd = unicodedata.normalize("NFD", "Café")
    assert nfd != "Café"
    root = write_vault(
        tmp_path / "v",
        {
            f"{nfd}.md": "",
            "Résumé.md": "",
            "src.md": f"[[Café]] [[{unicodedata.normalize('NFD', 'Résumé')}]]\n",
        },
    )
    assert resolved_from(capsys, root, "src.md") == {"Café": "Café.md", "Résumé": "Résumé.md"}
    assert diagnostics(capsys, root) == []  # NFC/NFD is not a case difference either


def test_R33_casefold_sharp_s(tmp_path: Path, capsys: Cap) -> None:
    # str.casefold() maps ß to ss, so the spellings match; the link is then L009 (case).
    root = write_vault(tmp_path / "v", {"de/Straße.md": "", "src.md": "[[STRASSE]]\n"})
    assert resolved_from(capsys, root, "src.md") == {"STRASSE": "de/Straße.md"}
    (found,) = diagnostics(capsys, root, "--select", "L009")
    assert found["code"] == "L009"
    assert fixed_text(root, found) == "[[Straße]]\n"


def test_R33_emoji_variation_selectors_are_kept(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "🗂️ People.md": "",
            "src.md": "[[🗂️ People]] [[🗂 People]] [[مرحبا]] [[日本語]]\n",
            "日本語.md": "",
        },
    )
    assert resolved_from(capsys, root, "src.md") == {
        "🗂️ People": "🗂️ People.md",
        "🗂 People": None,  # without U+FE0F it is another name
        "مرحبا": None,
        "日本語": "日本語.md",
    }


def test_R42_markdown_links_resolve_vault_wide_after_percent_decoding(
    tmp_path: Path, capsys: Cap
) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Sub/My Note.md": "# Big Idea\n",
            "root.md": (
                "[y](My%20Note.md) [w](<My Note.md>) [h](My%20Note.md#Big%20Idea) "
                "[s](Sub/My Note.md)\n"
            ),
            "Sub/inner.md": "[z](Sub/My%20Note.md) [n](My%20Note)\n",
        },
    )
    assert resolved_from(capsys, root, "root.md") == {"My Note.md": "Sub/My Note.md"}
    assert resolved_from(capsys, root, "Sub/inner.md") == {
        "Sub/My Note.md": "Sub/My Note.md",
        "My Note": "Sub/My Note.md",
    }
    assert diagnostics(capsys, root) == []


def test_R60_heading_subpaths_fold_punctuation_and_case(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "N.md": (
                "# wifi 2.4 vs 5.0\n## TCP/IP Model\n## Property\n"
                "# Top\n## Child\n# Other\n## Sibling\n<!-- ## Hidden -->\n"
                "```\n# In Code\n```\n"
            ),
            "src.md": (
                "[[N#wifi 2 4 vs 5 0]] [[N#TCP IP Model]] [[N#property]] [[N#Top#Child]]\n"
                "[[N#Other#Child]] [[N#Nope]] [[N#Hidden]] [[N#In Code]]\n"
            ),
        },
    )
    found = diagnostics(capsys, root)
    assert [(d["code"], d["line"], d["data"]["subpath"]) for d in found] == [
        ("L003", 2, "#Other#Child"),
        ("L003", 2, "#Nope"),
        ("L003", 2, "#Hidden"),
        ("L003", 2, "#In Code"),
    ]


def test_R61_block_refs(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "N.md": "A paragraph. ^abc-1\n\n- item ^Item2\n",
            "src.md": "[[N#^abc-1]] ![[N#^item2]] [[N#^gone]] [b](N.md#^abc-1)\n",
        },
    )
    found = diagnostics(capsys, root)
    assert [(d["code"], d["data"]["subpath"]) for d in found] == [("L004", "#^gone")]


def test_subpaths_on_attachments_are_not_checked(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {"Doc.pdf": b"%PDF-1.4", "src.md": "![[Doc.pdf#page=3]] ![[doc.pdf#height=400]]\n"},
    )
    assert [d["code"] for d in diagnostics(capsys, root, "--select", "ALL")] == ["L009"]


def test_links_resolve_from_every_place_obsidian_indexes(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Target.md": "",
            # Links in `%%` comments are checked only when asked to (issue 17).
            ".vaultsync.toml": "[links]\ncheck-comments = true\n",
            "src.md": (
                '---\nrelated: "[[Target]]"\nlist:\n  - "[[gone1]]"\n---\n'
                "%% [[gone2]] %%\n<!-- [[not a link]] -->\n`[[not code]]`\n"
                "```\n[[not fenced]]\n```\n$[[not math]]$\n"
            ),
        },
    )
    found = diagnostics(capsys, root)
    assert [(d["code"], d["data"]["target"]) for d in found] == [
        ("L001", "gone1"),
        ("L001", "gone2"),
    ]
    assert codes_at(found, "Target.md") == []
