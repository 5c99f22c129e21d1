"""Rules L001-L009 and V001 (design §3, §4), through fixture vaults and `vaultsync check`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import diagnostics, fixed_text, graph_links, run_cli
from tests.conftest import write_vault

Cap = pytest.CaptureFixture[str]
UNRESOLVED_CODES = {"L001", "L002", "L006", "L007", "L008"}

# A vault where every link is fine: no rule may fire.
CLEAN = {
    "Alpha.md": "---\naliases: [A1]\ntags: [x]\n---\n# Alpha\n## Part Two\nText ^blk\n",
    "sub/Beta.md": (
        "[[Alpha]] [[Alpha#Part Two]] [[Alpha#^blk]] [[Alpha|A1]] [[Alpha#Alpha#Part two]]\n"
    ),
    "img/pic.png": b"\x89PNG",
    "Gamma.md": "![[pic.png]] [b](sub/Beta.md) [[sub/Beta]] [[#Gamma]] [[Beta.md]]\n# Gamma\n",
}


def test_a_clean_vault_has_no_problems(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", CLEAN)
    assert diagnostics(capsys, root) == []


UNRESOLVED_VAULT: dict[str, str | bytes] = {
    # Links in `%%` comments are checked too (by default they are quiet: issue 17).
    ".vaultsync.toml": "[links]\ncheck-comments = true\n",
    "Open Source AI Models.md": "",
    "Artificial Intelligence.md": "---\naliases: [AI]\n---\n",
    "a/src.md": (
        "[[open_source_ai_models]] [[AI]] ![[gone.png]] [[../../up]] [[nothing here]]\n"
        "[x](gone.pdf) [y](open-source-ai-models.md) [z](../../x.md) [w](Nothing.md)\n"
        "%% [[in comment]] %% [[ai|shown]] ![[gone.canvas]] [[./relative missing]]\n"
    ),
    "b/other.md": (
        '---\nrel: "[[AI]]"\n---\n[[open source ai models]] [[Open-Source-AI-Models#h]]\n'
    ),
}


def test_every_unresolved_link_gets_exactly_one_unresolved_code(
    tmp_path: Path, capsys: Cap
) -> None:
    root = write_vault(tmp_path / "v", UNRESOLVED_VAULT)
    unresolved = {
        (link["source"], link["line"], link["column"])
        for link in graph_links(capsys, root)
        if link["resolved"] is None
    }
    found = diagnostics(capsys, root, "--select", "ALL")  # L009 is not in the default set
    reported: dict[tuple[str, int, int], list[dict[str, Any]]] = {}
    for d in found:
        if d["code"] in UNRESOLVED_CODES:
            reported.setdefault((d["path"], d["line"], d["column"]), []).append(d)
    assert set(reported) == unresolved
    assert all(len(ds) == 1 for ds in reported.values())
    assert all(ds[0]["data"]["resolved"] is None for ds in reported.values())
    by_target = {ds[0]["data"]["target"]: ds[0]["code"] for ds in reported.values()}
    assert by_target == {
        "open_source_ai_models": "L002",
        "AI": "L006",
        "ai": "L006",
        "gone.png": "L007",
        "gone.pdf": "L007",
        "gone.canvas": "L007",
        "../../up": "L008",
        "../../x.md": "L008",
        "nothing here": "L001",
        "Nothing.md": "L001",
        "in comment": "L001",
        "./relative missing": "L001",
        "open-source-ai-models.md": "L002",
        "Open-Source-AI-Models": "L002",
    }
    # The resolving case-variant gets L009, never an unresolved code.
    (case,) = [d for d in found if d["code"] == "L009"]
    assert case["data"] == {
        "target": "open source ai models",
        "resolved": "Open Source AI Models.md",
        "expected": "Open Source AI Models",
    }


# --- L002: canonical spelling (§3 "Link variants") ------------------------------------------


def canonical_of(found: list[dict[str, Any]]) -> dict[str, str]:
    return {d["data"]["target"]: d["data"]["canonical"] for d in found if d["code"] == "L002"}


def test_L002_configured_canonical_wins(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": '[links.canonical]\n"machine learning" = "Machine-Learning"\n',
            "Machine Learning Notes.md": "",
            "src.md": "[[machine_learning]] [[Machine Learning]] [[Machine Learning]]\n",
        },
    )
    assert canonical_of(diagnostics(capsys, root)) == {
        "machine_learning": "Machine-Learning",
        "Machine Learning": "Machine-Learning",
    }


def test_L002_an_existing_note_name_is_canonical(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "deep/open-source-models.md": "",
            "x.md": "[[Open Source Models]] [[Open Source Models]] [[open_source_models]]\n",
        },
    )
    # Names match case-insensitively only: none of these links resolves (R28).
    assert canonical_of(diagnostics(capsys, root)) == {
        "Open Source Models": "open-source-models",
        "open_source_models": "open-source-models",
    }


def test_L002_majority_style_then_most_used_then_lexically_smallest(
    tmp_path: Path, capsys: Cap
) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "My First Note.md": "",
            "Another Spaced Name.md": "",
            "kebab-name.md": "",
            "x.md": (
                "[[new_idea_list]] [[new_idea_list]] [[new_idea_list]] [[New Idea List]] "
                "[[new idea list]]\n[[beta-thing]] [[Beta thing]] [[beta Thing]]\n"
            ),
        },
    )
    found = canonical_of(diagnostics(capsys, root))
    # Spaced is the majority: the spaced spellings compete, used once each, so the
    # lexically smallest wins even though the snake spelling is used most.
    assert found == {
        "new_idea_list": "New Idea List",
        "new idea list": "New Idea List",
        "beta-thing": "Beta thing",
        "beta Thing": "Beta thing",
    }


def test_L002_most_used_spelling_of_the_majority_style_wins(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {"One Two.md": "", "x.md": "[[red fox]] [[Red Fox]] [[red fox]] [[red_fox]]\n"},
    )
    assert canonical_of(diagnostics(capsys, root)) == {
        "Red Fox": "red fox",
        "red_fox": "red fox",
    }


def test_L002_snake_case_vault_prefers_snake_spellings(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "daily_log.md": "",
            "project_plan.md": "",
            "reading_list.md": "",
            "x.md": "[[Open Source AI Models]] " * 2 + "[[open_source_ai_models]]\n",
        },
    )
    assert canonical_of(diagnostics(capsys, root)) == {
        "Open Source AI Models": "open_source_ai_models"
    }


def test_L002_single_spelling_is_just_broken(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", {"x.md": "[[only_way]] [[only_way]]\n"})
    assert [d["code"] for d in diagnostics(capsys, root)] == ["L001", "L001"]


def test_L002_fix_rewrites_only_the_target(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Open Source AI Models.md": "# Intro\n",
            "x.md": (
                "a [[open_source_ai_models | open-source AI models]] b\n"
                "c ![[open_source_ai_models#Intro|see]] d [[ open_source_ai_models ]]\n"
                "e [t](open_source_ai_models.md#Intro) [u](<open-source-ai-models>)\n"
            ),
        },
    )
    found = [d for d in diagnostics(capsys, root) if d["code"] == "L002"]
    assert len(found) == 5
    fixed = [fixed_text(root, d).split("\n")[d["line"] - 1] for d in found]
    assert fixed == [
        "a [[Open Source AI Models | open-source AI models]] b",
        "c ![[Open Source AI Models#Intro|see]] d [[ open_source_ai_models ]]",
        "c ![[open_source_ai_models#Intro|see]] d [[ Open Source AI Models ]]",
        "e [t](Open%20Source%20AI%20Models.md#Intro) [u](<open-source-ai-models>)",
        "e [t](open_source_ai_models.md#Intro) [u](<Open Source AI Models>)",
    ]
    assert all(d["fix"]["applicability"] == "safe" for d in found)


def test_L002_fix_columns_count_code_points_in_bom_crlf_notes(tmp_path: Path, capsys: Cap) -> None:
    text = "\ufeff---\r\ntitle: x\r\n---\r\n日本語 🗂️ é [[open_source_ai_models|😀 models]] end\r\n"
    root = write_vault(tmp_path / "v", {"Open Source AI Models.md": "", "x.md": text})
    (found,) = diagnostics(capsys, root)
    assert (found["line"], found["column"]) == (4, 10)  # 日本語 + space + 🗂️ (2) + space + é
    (edit,) = found["fix"]["edits"]
    assert (edit["line"], edit["column"], edit["end_column"]) == (4, 12, 33)
    assert fixed_text(root, found) == text[1:].replace(
        "open_source_ai_models|", "Open Source AI Models|"
    )


def test_L002_fix_qualifies_an_ambiguous_note_name(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {"aa/Road Map.md": "", "bb/Road Map.md": "", "x.md": "[[road_map]]\n"},
    )
    found = diagnostics(capsys, root)
    assert [(d["code"], d["data"]["canonical"]) for d in found] == [("L002", "Road Map")]
    # `[[Road Map]]` would tie (L005): the fix writes a link that reaches the note.
    assert fixed_text(root, found[0]) == "[[aa/Road Map]]\n"


def test_L002_keep_display_keeps_what_the_reader_saw(tmp_path: Path, capsys: Cap) -> None:
    files: dict[str, str | bytes] = {
        "Open Source AI Models.md": "",
        "x.md": "[[open_source_ai_models]] [[open_source_ai_models|mine]]\n",
    }
    root = write_vault(tmp_path / "default", files)
    plain = [fixed_text(root, d) for d in diagnostics(capsys, root)]
    assert plain == [
        "[[Open Source AI Models]] [[open_source_ai_models|mine]]\n",
        "[[open_source_ai_models]] [[Open Source AI Models|mine]]\n",
    ]
    files[".vaultsync.toml"] = "[links]\nkeep-display = true\n"
    root = write_vault(tmp_path / "keep", files)
    kept = [fixed_text(root, d) for d in diagnostics(capsys, root)]
    assert kept == [
        "[[Open Source AI Models|open_source_ai_models]] [[open_source_ai_models|mine]]\n",
        "[[open_source_ai_models]] [[Open Source AI Models|mine]]\n",
    ]


def test_keep_display_in_a_table_row_keeps_the_table(tmp_path: Path, capsys: Cap) -> None:
    # A bare `|` would end the cell: the display text goes after `\|` there (R4), as
    # `vaultsync mv` writes it (both go through linktext.retarget).
    files: dict[str, str | bytes] = {
        ".vaultsync.toml": "[links]\nkeep-display = true\n",
        "Open Source AI Models.md": "",
        "x.md": "| model | note |\n|---|---|\n| a | [[open_source_ai_models]] |\n",
    }
    root = write_vault(tmp_path / "v", files)
    [found] = diagnostics(capsys, root)
    assert fixed_text(root, found) == (
        "| model | note |\n|---|---|\n| a | [[Open Source AI Models\\|open_source_ai_models]] |\n"
    )


# --- L006 and L009 fixes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keep", "expected"),
    [
        (
            False,
            '---\nsee: "[[quickadd]]"\n---\n'
            "# How to use [[quickadd]]\n"
            "![[chart.png]] [shown](quickadd.md) [[quickadd#Setup]] [[quickadd|mine]]\n",
        ),
        (
            True,
            '---\nsee: "[[quickadd|QuickAdd]]"\n---\n'
            "# How to use [[quickadd|QuickAdd]]\n"
            "![[chart.png]] [shown](quickadd.md) [[quickadd#Setup|QuickAdd]] [[quickadd|mine]]\n",
        ),
    ],
    ids=["default", "keep-display"],
)
def test_L009_fix_keeps_what_the_reader_sees_under_keep_display(
    tmp_path: Path, capsys: Cap, keep: bool, expected: str
) -> None:
    # `keep-display = true` once did not stop `[[QuickAdd]]` becoming `[[quickadd]]`.
    # An embed shows what it embeds and a markdown link its label: they get no display.
    config = f'select = ["ALL"]\n[links]\nkeep-display = {str(keep).lower()}\n'
    note = (
        '---\nsee: "[[QuickAdd]]"\n---\n'
        "# How to use [[QuickAdd]]\n"
        "![[Chart.PNG]] [shown](QuickAdd.md) [[QuickAdd#Setup]] [[QuickAdd|mine]]\n"
    )
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": config,
            "quickadd.md": "# Setup\n",
            "chart.png": b"\x89PNG",
            "Guide.md": note,
        },
    )
    code, _out, err = run_cli(capsys, "fix", str(root))
    assert code == 0, err
    assert (root / "Guide.md").read_text(encoding="utf-8") == expected


def test_L006_fix_in_markdown_and_property_links(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "topics/Artificial Intelligence.md": "---\naliases:\n  - AI\n---\n",
            "x.md": '---\nrelated: "[[AI]]"\n---\n[about](AI) [[AI#Intro]]\n',
        },
    )
    found = diagnostics(capsys, root)
    assert [d["code"] for d in found] == ["L006", "L006", "L006"]
    assert all(d["data"]["note"] == "topics/Artificial Intelligence.md" for d in found)
    texts = [fixed_text(root, d) for d in found]
    assert '"[[Artificial Intelligence|AI]]"' in texts[0]
    assert "[about](Artificial%20Intelligence)" in texts[1]
    assert "[[Artificial Intelligence#Intro|AI]]" in texts[2]


def test_L006_fix_qualifies_the_name_when_it_is_not_unique(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "a/Topic.md": "---\naliases: [T]\n---\n",
            "b/Topic.md": "",
            "x.md": "[[T]]\n",
        },
    )
    (found,) = diagnostics(capsys, root)
    assert fixed_text(root, found) == "[[a/Topic|T]]\n"


def test_L009_case_only_differences_of_resolving_links(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Projects/Project Plan.md": "# Goals\n",
            "img/Chart.png": b"\x89PNG",
            "x.md": (
                "[[project plan#Goals|plan]] [[projects/project plan]] [[Project Plan]]\n"
                "[p](projects/Project%20plan.md) ![[chart.PNG]] [[Project Plan.MD]]\n"
            ),
            "Projects/rel.md": (
                "[[./project plan]] [[../projects/Project Plan]] [[/Projects/Rel]]\n"
            ),
        },
    )
    found = diagnostics(capsys, root, "--select", "L009")
    assert [d["code"] for d in found] == ["L009"] * 8
    relative = [fixed_text(root, d) for d in found[:3]]
    assert relative == [
        "[[./Project Plan]] [[../projects/Project Plan]] [[/Projects/Rel]]\n",
        "[[./project plan]] [[../Projects/Project Plan]] [[/Projects/Rel]]\n",
        "[[./project plan]] [[../projects/Project Plan]] [[/Projects/rel]]\n",
    ]
    found = found[3:]
    assert all(d["severity"] == "info" and d["fix"]["applicability"] == "safe" for d in found)
    lines = [fixed_text(root, d).split("\n")[d["line"] - 1] for d in found]
    assert lines == [
        "[[Project Plan#Goals|plan]] [[projects/project plan]] [[Project Plan]]",
        "[[project plan#Goals|plan]] [[Projects/Project Plan]] [[Project Plan]]",
        "[p](Projects/Project%20Plan.md) ![[chart.PNG]] [[Project Plan.MD]]",
        "[p](projects/Project%20plan.md) ![[Chart.png]] [[Project Plan.MD]]",
        "[p](projects/Project%20plan.md) ![[chart.PNG]] [[Project Plan.md]]",
    ]


# --- L003/L004/L005/L007/L008 fire exactly when they should --------------------------------


@pytest.mark.parametrize(
    ("link", "code"),
    [
        pytest.param("[[T#Real Heading]]", None, id="heading-ok"),
        pytest.param("[[T#real-heading]]", None, id="heading-punctuation"),
        pytest.param("[[T#Unreal]]", "L003", id="L003"),
        pytest.param("[[T#^b-1]]", None, id="block-ok"),
        pytest.param("[[T#^b-2]]", "L004", id="L004"),
        pytest.param("[[Missing#Real Heading]]", "L001", id="L001-not-L003"),
        pytest.param("![[T.pdf]]", "L007", id="L007"),
        pytest.param("![[T.md]]", None, id="md-embed-ok"),
        pytest.param("[[../T]]", "L008", id="L008"),
        pytest.param("[[./T]]", None, id="relative-ok"),
    ],
)
def test_link_rules_fire_exactly_when_they_should(
    tmp_path: Path, capsys: Cap, link: str, code: str | None
) -> None:
    root = write_vault(tmp_path / "v", {"T.md": "## Real Heading\npara ^b-1\n", "x.md": link})
    assert [d["code"] for d in diagnostics(capsys, root)] == ([code] if code else [])


# --- V001 -----------------------------------------------------------------------------------


def test_V001_invalid_utf8_oversized_and_binary(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": "max-file-size = 1000\n",
            "latin1.md": "Caf\xe9 [[x]]\n".encode("latin-1"),
            "big.md": "a" * 1001,
            "binary.md": b"abc\x00def",
            "fine.md": "a" * 1000,
            "bom.md": "\ufeff[[fine]]\n",
            "src.md": "[[latin1]] [[big]] [[binary]]\n",  # unreadable notes still resolve
        },
    )
    found = diagnostics(capsys, root)
    assert [(d["path"], d["code"]) for d in found] == [
        ("big.md", "V001"),
        ("binary.md", "V001"),
        ("latin1.md", "V001"),
    ]
    assert all(d["severity"] == "error" and (d["line"], d["column"]) == (1, 1) for d in found)
    messages = {d["path"]: d["message"] for d in found}
    assert "max-file-size" in messages["big.md"]
    assert "UTF-8" in messages["latin1.md"]
    assert "NUL" in messages["binary.md"]


def test_V001_unreadable_permissions(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", {"locked.md": "[[nowhere]]\n"})
    locked = root / "locked.md"
    locked.chmod(0)
    try:
        found = diagnostics(capsys, root)
        if os.access(locked, os.R_OK):
            # Running as root: the file can be read after all, so it is linted normally.
            assert [d["code"] for d in found] == ["L001"]
        else:
            assert [d["code"] for d in found] == ["V001"]
            assert "cannot read" in found[0]["message"]
    finally:
        locked.chmod(0o644)


# --- suppressions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        pytest.param("[[a]] %% vaultsync-ignore L001 %%\n[[b]]\n", ["L001"], id="line-code"),
        pytest.param("[[a]] <!-- vaultsync-ignore L001 -->\n[[b]]\n", ["L001"], id="html-form"),
        pytest.param("[[a]] %% vaultsync-ignore L %%\n", [], id="prefix"),
        pytest.param("[[a]] %% vaultsync-ignore broken-link %%\n", [], id="name"),
        pytest.param("[[a]] %% vaultsync-ignore %%\n", [], id="no-codes"),
        pytest.param("[[a]] %% vaultsync-ignore ALL %%\n", [], id="all"),
        pytest.param("[[a]] %% vaultsync-ignore L002 %%\n", ["L001"], id="other-code"),
        pytest.param("[[a]] %% vaultsync-ignore L003, L001 %%\n", [], id="list"),
        pytest.param("[[a]]\n%% vaultsync-ignore L001 %%\n", ["L001"], id="next-line-no"),
        pytest.param("[[a]]\n[[b]]\n%% vaultsync-ignore-file L001 %%\n", [], id="file-end"),
        pytest.param("<!-- vaultsync-ignore-file -->\n[[a]] [[Up#x]]\n", [], id="file-all"),
        pytest.param(
            "%% vaultsync-ignore-file broken-heading %%\n[[a]] [[Up#x]]\n", ["L001"], id="file-name"
        ),
    ],
)
def test_inline_and_file_suppressions(
    tmp_path: Path, capsys: Cap, text: str, codes: list[str]
) -> None:
    root = write_vault(tmp_path / "v", {"Up.md": "", "x.md": text})
    assert [d["code"] for d in diagnostics(capsys, root)] == codes


# Issue 17, item 3: a template-like note whose authors commented lines out with `%%`.
COMMENTED_OUT: dict[str, str | bytes] = {
    "Project.md": "# Project\n\n## Status\n",
    "Archive.md": "# Archive\n",  # linked only from inside a comment
    "Weekly review.md": (
        "# Weekly review\n\n"
        "%% Not used this year:\n"
        "- [[Project#Next steps]]\n"
        "- [[Someday note]]\n"
        "- [[Archive]]\n"
        "%%\n"
        "Status: [[Project#Status]] %% [[Project#Old heading]] %%\n"
        "[[Missing one]] %% vaultsync-ignore L001 %%\n"
        "[[Missing two]]\n"
    ),
}
_COMMENTED_OUT_REPORTS = [
    ("L003", 4, "Project#Next steps"),
    ("L001", 5, "Someday note"),
    ("L003", 8, "Project#Old heading"),
]


@pytest.mark.parametrize("check_comments", [None, False, True])
def test_commented_out_links_are_quiet_unless_check_comments(
    tmp_path: Path, capsys: Cap, check_comments: bool | None
) -> None:
    files = dict(COMMENTED_OUT)
    config = "[backlinks]\nenabled = true\n"
    if check_comments is not None:
        config += f"\n[links]\ncheck-comments = {str(check_comments).lower()}\n"
    files[".vaultsync.toml"] = config
    root = write_vault(tmp_path / "v", files)
    found = diagnostics(capsys, root, families="L")
    reported = [
        (d["code"], d["line"], d["data"]["target"] + (d["data"].get("subpath") or ""))
        for d in found
    ]
    # The inline ignore directive is itself a `%%` comment: it still works either way.
    expected = [*(_COMMENTED_OUT_REPORTS if check_comments else []), ("L001", 10, "Missing two")]
    assert sorted(reported, key=lambda r: r[1]) == expected

    # The commented-out links still count: in the graph, resolved, and as backlinks.
    links = {
        (link["line"], link["target"]): link["resolved"]
        for link in graph_links(capsys, root)
        if link["source"] == "Weekly review.md"
    }
    assert links[4, "Project"] == "Project.md"
    assert links[5, "Someday note"] is None
    assert links[6, "Archive"] == "Archive.md"
    code, _, err = run_cli(capsys, "fix", str(root))
    assert code in (0, 1), err
    assert "[[Weekly review]]" in (root / "Archive.md").read_text(encoding="utf-8")


def test_check_comments_must_be_a_boolean(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v", {"A.md": "x\n", ".vaultsync.toml": '[links]\ncheck-comments = "yes"\n'}
    )
    code, out, err = run_cli(capsys, "check", str(root))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "links.check-comments" in err and ".vaultsync.toml" in err
    (root / ".vaultsync.toml").write_text("[links]\ncheck_comments = true\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "check", str(root))
    assert code == 2 and "unknown key" in err
