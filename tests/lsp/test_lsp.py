"""`vaultsync lsp` end to end: a real server process and a client speaking the protocol
over its stdin/stdout (tests/lsp_client.py), on small fixture vaults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import run_cli
from tests.conftest import imported_by_check, snapshot, write_vault
from tests.lsp_client import (
    FULL_CLIENT,
    LspClient,
    LspError,
    apply_edits,
    apply_workspace_edit,
    path_of,
    position,
    running,
    uri,
)

QUIET = "[backlinks]\nenabled = false\n[index]\nenabled = false\n"
HOME = """---
aliases: [Start]
---
# Home

See [[Open Source AI Models]] and [[open_source_ai_models]].
Jump to [[Projects#Roadmap 2025]] and [[Projects#^decision]].
An image: ![[diagram.png]]
The plan: [plan](Projects.md#Roadmap%202025)
Broken: [[Nowhere]]
Alias: [[AI]]
Tie: [[Tie]]
"""
MODELS = """---
aliases: [AI]
---
# Open Source AI Models

Intro line one.
Intro line two.

## Licences
Text about licences.
"""
PROJECTS = """---
related: "[[Home]]"
---
# Projects

## Roadmap 2025
- ship it
- test it

## Decisions
We chose pygls. ^decision
"""
UNICODE = "# Ünïcødé 😀\n\n😀😀 [[Home]] and [[Nowhere]] é\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def make_vault(root: Path, config: str = QUIET, **more: str | bytes) -> Path:
    files: dict[str, str | bytes] = {
        ".vaultsync.toml": config,
        "Home.md": HOME,
        "Open Source AI Models.md": MODELS,
        "Projects.md": PROJECTS,
        "img/diagram.png": PNG,
        "aa/Tie.md": "# Tie A\n",
        "bb/Tie.md": "# Tie B\n",
        "notes/Ünïcødé 😀.md": UNICODE,
    }
    files.update({k.replace("__", "/"): v for k, v in more.items()})
    return write_vault(root, files)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return make_vault(tmp_path / "vault")


@pytest.fixture
def lsp(vault: Path) -> Any:
    with running() as client:
        client.initialize([vault])
        yield client


def at(text: str, needle: str, shift: int = 0, nth: int = 0) -> dict[str, int]:
    """The LSP position of `needle`'s nth occurrence in `text` (plus `shift` characters)."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return position(text, start + shift)


def where(doc: str, pos: dict[str, int]) -> dict[str, Any]:
    return {"textDocument": {"uri": doc}, "position": pos}


def codes(diagnostics: list[dict[str, Any]]) -> list[str]:
    return sorted(d["code"] for d in diagnostics)


def cli_ranges(capsys: pytest.CaptureFixture[str], root: Path, rel: str) -> list[tuple[str, Any]]:
    """`vaultsync check --format json` of one note, its ranges turned into LSP ranges
    (0-based, UTF-16) by the test's own arithmetic."""
    code, out, err = run_cli(capsys, "check", str(root / rel), "--format", "json", "--no-cache")
    assert code in (0, 1), err
    text = (root / rel).read_text(encoding="utf-8")
    lines = text.split("\n")

    def lsp(line: int, column: int) -> dict[str, int]:
        return position(text, sum(len(x) + 1 for x in lines[: line - 1]) + column - 1)

    return sorted(
        (
            d["code"],
            {"start": lsp(d["line"], d["column"]), "end": lsp(d["end_line"], d["end_column"])},
        )
        for d in json.loads(out)["diagnostics"]
    )


# --- start-up --------------------------------------------------------------------------------


def test_capabilities_and_utf16_positions(vault: Path) -> None:
    with running() as client:
        result = client.initialize([vault])
        caps = result["capabilities"]
        # The client offered UTF-8 first; the server counts in UTF-16, which every
        # client must understand.
        assert caps["positionEncoding"] == "utf-16"
        assert caps["textDocumentSync"]["change"] == 2  # incremental
        assert caps["definitionProvider"] and caps["hoverProvider"]
        assert caps["referencesProvider"] and caps["workspaceSymbolProvider"]
        assert set(caps["completionProvider"]["triggerCharacters"]) >= {"[", "#", "^", "("}
        assert caps["codeActionProvider"]["resolveProvider"] is True
        assert "source.fixAll.vaultsync" in caps["codeActionProvider"]["codeActionKinds"]
        assert caps["renameProvider"]["prepareProvider"] is True
        assert caps["workspace"]["fileOperations"]["willRename"]["filters"]
        assert "documentLinkProvider" in caps
        # It asked to be told about files changing on disk, and logged to the client.
        client.wait(lambda: client.server_requests)
        assert client.server_requests[0]["method"] == "client/registerCapability"
        client.wait(
            lambda: any(
                "indexed" in n["params"]["message"]
                for n in client.notifications
                if n["method"] == "window/logMessage"
            )
        )
    assert client.bad_frames == []  # nothing but protocol frames on stdout


# --- diagnostics ----------------------------------------------------------------------------


@pytest.mark.parametrize("rel", ["Home.md", "notes/Ünïcødé 😀.md"])
def test_diagnostics_on_open_are_those_of_check(
    lsp: LspClient, vault: Path, capsys: pytest.CaptureFixture[str], rel: str
) -> None:
    doc = lsp.open(vault / rel)
    found = lsp.diagnostics(doc, version=1)
    assert all(d["source"] == "vaultsync" for d in found)
    assert sorted((d["code"], d["range"]) for d in found) == cli_ranges(capsys, vault, rel)
    if rel == "Home.md":
        assert codes(found) == ["L001", "L002", "L005", "L006"]
        l002 = next(d for d in found if d["code"] == "L002")
        assert l002["severity"] == 2 and l002["data"] == {"rule": "link-variant", "fix": "safe"}


def test_diagnostics_follow_unsaved_edits(lsp: LspClient, vault: Path) -> None:
    rel = "notes/Ünïcødé 😀.md"
    doc = lsp.open(vault / rel)
    text = UNICODE
    assert codes(lsp.diagnostics(doc, version=1)) == ["L001"]
    # Type a second broken link after the emoji (two UTF-16 units each), unsaved.
    insert = at(text, " and")
    version = lsp.change(doc, [{"range": {"start": insert, "end": insert}, "text": " [[Gone]]"}])
    found = lsp.diagnostics(doc, version=version)
    text = text.replace(" and", " [[Gone]] and", 1)
    gone = next(d for d in found if "Gone" in d["message"])
    assert gone["range"] == {"start": at(text, "[[Gone]]"), "end": at(text, "[[Gone]]", 8)}
    assert gone["range"]["start"]["character"] == 14  # 😀😀 are 4 units, " [[Home]] " 10
    assert codes(found) == ["L001", "L001"]
    assert (vault / rel).read_text(encoding="utf-8") == UNICODE  # nothing written
    # Mend the other one: [[Nowhere]] -> [[Projects]], by deleting and typing.
    start = at(text, "Nowhere")
    end = at(text, "Nowhere", 7)
    version = lsp.change(doc, [{"range": {"start": start, "end": end}, "text": "Projects"}])
    assert [d["message"] for d in lsp.diagnostics(doc, version=version)] == [
        'Broken link: no note or file matches "Gone"'
    ]
    # Several changes in one notification, applied in order.
    version = lsp.change(
        doc,
        [
            {
                "range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}},
                "text": "[[Nope]]\n",
            },
            {
                "range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 2}},
                "text": "[[",
            },
        ],
    )
    assert [d["range"]["start"] for d in lsp.diagnostics(doc, version=version)] == [
        {"line": 2, "character": 14},
        {"line": 3, "character": 0},
    ]


def test_unsaved_edits_reach_other_requests_and_closing_forgets_them(
    lsp: LspClient, vault: Path
) -> None:
    projects = lsp.open(vault / "Projects.md")
    home = lsp.open(vault / "Home.md")
    lsp.diagnostics(home, version=1)
    # Rename a heading in the (unsaved) Projects buffer: Home's link to it breaks.
    start = at(PROJECTS, "Roadmap 2025")
    end = at(PROJECTS, "Roadmap 2025", len("Roadmap 2025"))
    version = lsp.change(projects, [{"range": {"start": start, "end": end}, "text": "Plan"}])
    lsp.diagnostics(projects, version=version)
    # A change to Home re-checks it against the buffer, not the file.
    mark = lsp.mark()
    version = lsp.change(
        home, [{"range": {"start": at(HOME, "Broken"), "end": at(HOME, "Broken")}, "text": "x"}]
    )
    found = lsp.diagnostics(home, since=mark, version=version)
    assert "L003" in codes(found)
    # Closing the unsaved buffer puts the file's heading back; Home is published again.
    mark = lsp.mark()
    lsp.close(projects)
    assert lsp.diagnostics(projects, since=mark) == []  # the closed note's problems go
    found = lsp.diagnostics(home, since=mark)
    assert "L003" not in codes(found)


def test_saving_refreshes_the_notes_that_depend_on_it(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "v", config="[backlinks]\nenabled = true\n")
    with running() as lsp:
        lsp.initialize([vault])
        projects = lsp.open(vault / "Projects.md")
        lsp.diagnostics(projects, version=1)
        home_uri = uri(vault / "Home.md")
        models_uri = uri(vault / "Open Source AI Models.md")
        # Projects gains a link to Open Source AI Models: that note's backlinks section is
        # now stale (S001), published once Projects is saved, though it is not open.
        text = PROJECTS + "Also [[Open Source AI Models]].\n"
        end = position(PROJECTS, len(PROJECTS))
        version = lsp.change(
            projects,
            [{"range": {"start": end, "end": end}, "text": "Also [[Open Source AI Models]].\n"}],
        )
        lsp.diagnostics(projects, version=version)
        mark = lsp.mark()
        (vault / "Projects.md").write_text(text, encoding="utf-8")
        lsp.save(projects)
        models = lsp.diagnostics(models_uri, since=mark)
        # It was missing its section before, for Home alone; now Projects counts too.
        assert [d["message"] for d in models if d["code"] == "S001"] == [
            "Missing backlinks section (2 notes link here)"
        ]
        # A heading renamed and saved: Home, which links into it, gets L003.
        mark = lsp.mark()
        start, stop = at(text, "Roadmap 2025"), at(text, "Roadmap 2025", 12)
        version = lsp.change(projects, [{"range": {"start": start, "end": stop}, "text": "Plan"}])
        (vault / "Projects.md").write_text(text.replace("Roadmap 2025", "Plan"), encoding="utf-8")
        lsp.save(projects)
        home = lsp.diagnostics(home_uri, since=mark)
        assert "L003" in codes(home)


# --- navigation -------------------------------------------------------------------------------


def test_definition(lsp: LspClient, vault: Path) -> None:
    home = lsp.open(vault / "Home.md")
    projects = lsp.open(vault / "Projects.md")

    def goto(doc: str, text: str, needle: str, shift: int = 2) -> Any:
        return lsp.request("textDocument/definition", where(doc, at(text, needle, shift)))

    found = goto(home, HOME, "[[Open Source AI Models]]")
    assert path_of(found["uri"]) == vault / "Open Source AI Models.md"
    assert found["range"]["start"] == {"line": 0, "character": 0}
    # Into a heading, a block, through a markdown link with an encoded heading.
    heading = {"start": {"line": 5, "character": 0}, "end": {"line": 5, "character": 15}}
    assert goto(home, HOME, "[[Projects#Roadmap")["range"] == heading
    assert path_of(goto(home, HOME, "[[Projects#Roadmap")["uri"]) == vault / "Projects.md"
    assert goto(home, HOME, "[[Projects#^decision")["range"]["start"] == {
        "line": 10,
        "character": 0,
    }
    assert goto(home, HOME, "[plan](Projects.md", 8)["range"] == heading
    # An embedded attachment, found by its name anywhere in the vault.
    image = goto(home, HOME, "![[diagram.png]]", 4)
    assert path_of(image["uri"]) == vault / "img/diagram.png"
    # A property link in the frontmatter.
    assert path_of(goto(projects, PROJECTS, "[[Home]]")["uri"]) == vault / "Home.md"
    # Nothing for a broken link, an alias (Obsidian does not resolve it) or plain text.
    assert goto(home, HOME, "[[Nowhere]]") is None
    assert goto(home, HOME, "[[AI]]") is None
    assert goto(home, HOME, "See", 1) is None


def test_definition_follows_the_buffer(lsp: LspClient, vault: Path) -> None:
    home = lsp.open(vault / "Home.md")
    lsp.diagnostics(home, version=1)
    end = position(HOME, len(HOME))
    lsp.change(home, [{"range": {"start": end, "end": end}, "text": "New: [[aa/Tie]]\n"}])
    found = lsp.request("textDocument/definition", where(home, {"line": 12, "character": 9}))
    assert path_of(found["uri"]) == vault / "aa/Tie.md"


def test_hover(lsp: LspClient, vault: Path) -> None:
    home = lsp.open(vault / "Home.md")

    def hover(needle: str, shift: int = 2) -> str:
        found = lsp.request("textDocument/hover", where(home, at(HOME, needle, shift)))
        assert found["contents"]["kind"] == "markdown"
        value: str = found["contents"]["value"]
        return value

    # A note: its first lines, without the frontmatter.
    first = hover("[[Open Source AI Models]]")
    assert "Open Source AI Models.md" in first
    assert "# Open Source AI Models\n\nIntro line one.\nIntro line two." in first
    assert "aliases" not in first
    # A heading: its section, up to the next heading of its level.
    section = hover("[[Projects#Roadmap")
    assert "## Roadmap 2025\n- ship it\n- test it" in section
    assert "Decisions" not in section
    # A block: its paragraph.
    assert "We chose pygls. ^decision" in hover("[[Projects#^decision")
    # An image: shown.
    assert "img/diagram.png" in hover("![[diagram.png]]", 4)
    assert lsp.request("textDocument/hover", where(home, at(HOME, "[[Nowhere]]", 2))) is None


def test_references_are_backlinks(tmp_path: Path) -> None:
    vault = make_vault(tmp_path / "v", config="[backlinks]\nenabled = true\n")
    with running() as lsp:
        lsp.initialize([vault])
        doc = lsp.open(vault / "Projects.md")
        lsp.diagnostics(doc, version=1)
        # Give Home a backlinks section (links in it are vaultsync's, not references).
        section = (
            "\n<!-- vaultsync:begin backlinks hash=00000000 -->\n## Backlinks\n"
            "- [[Projects]]\n<!-- vaultsync:end backlinks -->\n"
        )
        (vault / "Home.md").write_text(HOME + section, encoding="utf-8")
        lsp.files_changed([(vault / "Home.md", 2)])
        lsp.wait(lambda: lsp.published(uri(vault / "Home.md")))
        params = {
            **where(doc, {"line": 7, "character": 2}),
            "context": {"includeDeclaration": False},
        }
        found = lsp.request("textDocument/references", params)
        # The cursor is in the Roadmap section's text, not on a heading: the whole note.
        assert sorted((path_of(f["uri"]).name, f["range"]["start"]["line"]) for f in found) == [
            ("Home.md", 6),
            ("Home.md", 6),
            ("Home.md", 8),
        ]
        # On a heading: only the links into that heading.
        params = {
            **where(doc, {"line": 5, "character": 4}),
            "context": {"includeDeclaration": True},
        }
        found = lsp.request("textDocument/references", params)
        assert [(path_of(f["uri"]).name, f["range"]["start"]) for f in found] == [
            ("Projects.md", {"line": 5, "character": 0}),
            ("Home.md", {"line": 6, "character": 8}),
            ("Home.md", {"line": 8, "character": 10}),
        ]
        # On a link: the references of what it leads to (Home, from Projects' property).
        params = {
            **where(doc, at(PROJECTS, "[[Home]]", 3)),
            "context": {"includeDeclaration": False},
        }
        found = lsp.request("textDocument/references", params)
        assert [path_of(f["uri"]).name for f in found] == ["Projects.md", "Ünïcødé 😀.md"]


def test_document_links(lsp: LspClient, vault: Path) -> None:
    doc = lsp.open(vault / "Home.md")
    links = lsp.request("textDocument/documentLink", {"textDocument": {"uri": doc}})
    targets = [
        (link["range"]["start"]["line"], path_of(link["target"]).relative_to(vault).as_posix())
        for link in links
    ]
    assert targets == [
        (5, "Open Source AI Models.md"),
        (6, "Projects.md"),
        (6, "Projects.md"),
        (7, "img/diagram.png"),
        (8, "Projects.md"),
        (11, "aa/Tie.md"),
    ]


def test_workspace_symbols(lsp: LspClient, vault: Path) -> None:
    found = lsp.request("workspace/symbol", {"query": "roadmap"})
    assert [
        (
            s["name"],
            s["kind"],
            path_of(s["location"]["uri"]).name,
            s["location"]["range"]["start"]["line"],
        )
        for s in found
    ] == [("Roadmap 2025", 15, "Projects.md", 5)]
    notes = lsp.request("workspace/symbol", {"query": "open source"})
    assert notes[0]["name"] == "Open Source AI Models" and notes[0]["kind"] == 1
    assert {s["name"] for s in lsp.request("workspace/symbol", {"query": "tie"})} >= {
        "Tie",
        "Tie A",
    }


# --- completion -------------------------------------------------------------------------------


def complete(lsp: LspClient, doc: str, text: str) -> dict[str, Any]:
    """Type `text` at the end of the buffer, then ask for completions there."""
    end = position(HOME, len(HOME))
    lsp.change(doc, [{"range": {"start": end, "end": end}, "text": text}])
    full = HOME + text
    result: dict[str, Any] = lsp.request(
        "textDocument/completion", where(doc, position(full, len(full)))
    )
    # Take the text back out for the next one.
    lsp.change(doc, [{"range": {"start": end, "end": position(full, len(full))}, "text": ""}])
    return result


def test_completion_of_note_names_aliases_headings_and_blocks(lsp: LspClient, vault: Path) -> None:
    doc = lsp.open(vault / "Home.md")
    lsp.diagnostics(doc, version=1)
    found = complete(lsp, doc, "[[Op")
    items = {i["label"]: i for i in found["items"]}
    first = found["items"][0]
    assert first["label"] == "Open Source AI Models"
    # The edit replaces what was typed after `[[` and closes the link.
    end = position(HOME + "[[Op", len(HOME) + 4)
    assert first["textEdit"] == {
        "range": {"start": {"line": end["line"], "character": 2}, "end": end},
        "newText": "Open Source AI Models]]",
    }
    assert "Home" not in items
    # Aliases are written the way Obsidian writes them.
    alias = next(i for i in complete(lsp, doc, "[[A")["items"] if i["label"] == "AI")
    assert alias["textEdit"]["newText"] == "Open Source AI Models|AI]]"
    # The shortest spelling that reaches the note unambiguously.
    ties = [i["label"] for i in complete(lsp, doc, "[[ti")["items"] if "Tie" in i["label"]]
    assert sorted(ties) == ["aa/Tie", "bb/Tie"]
    # Attachments too, with their extension.
    assert "diagram.png" in [i["label"] for i in complete(lsp, doc, "![[diag")["items"]]
    # After `#`: the headings of the note named before it; after `#^`: its block ids.
    headings = complete(lsp, doc, "[[Projects#")["items"]
    assert [i["label"] for i in headings] == ["Projects", "Roadmap 2025", "Decisions"]
    assert headings[1]["textEdit"]["newText"] == "Roadmap 2025]]"
    blocks = complete(lsp, doc, "[[Projects#^")["items"]
    assert [(i["label"], i["textEdit"]["newText"]) for i in blocks] == [("decision", "^decision]]")]
    # Already closed: nothing is added after the name.
    found = complete(lsp, doc, "[[Proj]]")
    assert found is None  # the cursor is after `]]`: no longer inside the link


def test_completion_inside_markdown_links(lsp: LspClient, vault: Path) -> None:
    doc = lsp.open(vault / "Home.md")
    lsp.diagnostics(doc, version=1)
    found = complete(lsp, doc, "[x](Open")
    first = found["items"][0]
    assert first["label"] == "Open Source AI Models.md"
    assert first["textEdit"]["newText"] == "Open%20Source%20AI%20Models.md)"
    headings = complete(lsp, doc, "[x](Projects.md#")["items"]
    assert [i["textEdit"]["newText"] for i in headings][1] == "Roadmap%202025)"
    assert complete(lsp, doc, "plain text ") is None


# --- code actions -----------------------------------------------------------------------------


def test_code_actions_fix_one_problem(lsp: LspClient, vault: Path) -> None:
    doc = lsp.open(vault / "Home.md")
    found = lsp.diagnostics(doc, version=1)
    l002 = next(d for d in found if d["code"] == "L002")
    actions = lsp.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": doc}, "range": l002["range"], "context": {"diagnostics": [l002]}},
    )
    fixes = [a for a in actions if a["kind"] == "quickfix"]
    assert len(fixes) == 1 and fixes[0]["isPreferred"] is True
    assert fixes[0]["diagnostics"] == [l002]
    (change,) = fixes[0]["edit"]["documentChanges"]
    assert change["textDocument"] == {"uri": doc, "version": 1}
    assert apply_edits(HOME, change["edits"]) == HOME.replace(
        "[[open_source_ai_models]]", "[[Open Source AI Models]]"
    )
    # An unsafe fix is offered, labelled, and never preferred.
    l005 = next(d for d in found if d["code"] == "L005")
    actions = lsp.request(
        "textDocument/codeAction",
        {"textDocument": {"uri": doc}, "range": l005["range"], "context": {"diagnostics": [l005]}},
    )
    (unsafe,) = [a for a in actions if a["kind"] == "quickfix"]
    assert "unsafe" in unsafe["title"] and unsafe["isPreferred"] is False
    # A broken link has no fix.
    l001 = next(d for d in found if d["code"] == "L001")
    actions = lsp.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": doc},
            "range": l001["range"],
            "context": {"diagnostics": [l001], "only": ["quickfix"]},
        },
    )
    assert actions == []


def test_fix_all_is_vaultsync_fix_of_the_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = make_vault(tmp_path / "v", config="[backlinks]\nenabled = true\n")
    copy = tmp_path / "copy"
    shutil.copytree(vault, copy)
    code, _, err = run_cli(capsys, "fix", str(copy / "Home.md"), "--no-cache")
    assert code in (0, 1), err
    expected = (copy / "Home.md").read_text(encoding="utf-8")
    assert expected != HOME
    with running() as lsp:
        lsp.initialize([vault])
        doc = lsp.open(vault / "Home.md")
        lsp.diagnostics(doc, version=1)
        whole = {"start": {"line": 0, "character": 0}, "end": position(HOME, len(HOME))}
        actions = lsp.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": doc},
                "range": whole,
                "context": {"diagnostics": [], "only": ["source.fixAll"]},
            },
        )
        (action,) = actions
        assert action["kind"] == "source.fixAll.vaultsync" and "edit" not in action
        resolved = lsp.request("codeAction/resolve", action)
        (change,) = resolved["edit"]["documentChanges"]
        assert apply_edits(HOME, change["edits"]) == expected
        # A client that cannot resolve gets the edit at once.
    with running() as lsp:
        caps = json.loads(json.dumps(FULL_CLIENT))
        del caps["textDocument"]["codeAction"]["resolveSupport"]
        lsp.initialize([vault], caps)
        doc = lsp.open(vault / "Home.md")
        lsp.diagnostics(doc, version=1)
        actions = lsp.request(
            "textDocument/codeAction",
            {
                "textDocument": {"uri": doc},
                "range": whole,
                "context": {"diagnostics": [], "only": ["source"]},
            },
        )
        (change,) = actions[0]["edit"]["documentChanges"]
        assert apply_edits(HOME, change["edits"]) == expected


# --- renames ------------------------------------------------------------------------------------

RENAME_VAULT: dict[str, str | bytes] = {
    ".vaultsync.toml": "[backlinks]\nenabled = true\n",
    "Old Name.md": "---\ntags: [x]\n---\n# Old Name\n\nSee [[#Section]] and [[Other]].\n\n"
    "## Section\ntext ^blk\n",
    "a/Linker.md": '---\nup: "[[Old Name]]"\n---\n[[Old Name]] [[Old Name|shown]] '
    "![[Old Name#^blk]]\n[x](../Old%20Name.md) [y](<../Old Name.md>) [[../Old Name]] "
    "[[Old Name.md#Section]] 😀 [[Old Name]]\n",
    "Other.md": "Back to [[Old Name]].\r\nAnd [[a/Linker]].\r\n",
    "b/Deep.md": "\ufeff[[Old Name#Section|s]]\n",
}


@pytest.fixture
def renamable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A vault with every link style, CRLF, a BOM, and backlinks sections (whose hashes a
    rename must update)."""
    root = write_vault(tmp_path / "original", RENAME_VAULT)
    code, _, err = run_cli(capsys, "fix", str(root), "--no-cache")
    assert code in (0, 1), err
    assert "vaultsync:begin backlinks" in (root / "Old Name.md").read_text(encoding="utf-8")
    return root


def moved_by_cli(
    capsys: pytest.CaptureFixture[str], original: Path, copy: Path, old: str, new: str
) -> dict[str, bytes]:
    shutil.copytree(original, copy)
    code, _, err = run_cli(capsys, "mv", str(copy / old), str(copy / new))
    assert code == 0, err
    return snapshot(copy)


def test_will_rename_files_is_vaultsync_mv_to_the_byte(
    renamable: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = moved_by_cli(
        capsys, renamable, tmp_path / "cli", "Old Name.md", "archive/New Name.md"
    )
    root = tmp_path / "lsp"
    shutil.copytree(renamable, root)
    with running() as lsp:
        lsp.initialize([root])
        other = lsp.open(root / "Other.md")  # an open, unchanged buffer: versioned edits
        lsp.diagnostics(other, version=1)
        old, new = root / "Old Name.md", root / "archive/New Name.md"
        edit = lsp.request(
            "workspace/willRenameFiles", {"files": [{"oldUri": uri(old), "newUri": uri(new)}]}
        )
        versions = {
            c["textDocument"]["uri"]: c["textDocument"]["version"] for c in edit["documentChanges"]
        }
        assert versions[other] == 1 and versions[uri(root / "a/Linker.md")] is None
        assert all("kind" not in c for c in edit["documentChanges"])  # the client renames
        apply_workspace_edit(edit)
        new.parent.mkdir()
        old.rename(new)
    assert snapshot(root) == expected


def test_rename_on_a_link_is_vaultsync_mv_to_the_byte(
    renamable: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = moved_by_cli(capsys, renamable, tmp_path / "cli", "Old Name.md", "New Name.md")
    root = tmp_path / "lsp"
    shutil.copytree(renamable, root)
    text = (root / "a/Linker.md").read_text(encoding="utf-8")
    with running() as lsp:
        lsp.initialize([root])
        doc = lsp.open(root / "a/Linker.md")
        cursor = at(text, "😀 [[Old Name]]", 6)  # after an emoji: UTF-16 counts it twice
        prepared = lsp.request("textDocument/prepareRename", where(doc, cursor))
        assert prepared["placeholder"] == "Old Name"
        start = at(text, "😀 [[Old Name]]", 4)
        assert prepared["range"] == {
            "start": start,
            "end": {**start, "character": start["character"] + 8},
        }
        edit = lsp.request("textDocument/rename", {**where(doc, cursor), "newName": "New Name"})
        assert edit["documentChanges"][-1] == {
            "kind": "rename",
            "oldUri": uri(root / "Old Name.md"),
            "newUri": uri(root / "New Name.md"),
        }
        apply_workspace_edit(edit)
    assert snapshot(root) == expected


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Bad: name", "Obsidian does not allow `:`"),
        ("C# notes", "Obsidian does not allow `#`"),
        ("a\\b", "Obsidian does not allow `\\`"),
        ("What?", "Obsidian does not allow `?`"),
        ("Other", "already exists"),
    ],
)
def test_rename_refuses_what_mv_refuses(
    renamable: Path, capsys: pytest.CaptureFixture[str], name: str, why: str
) -> None:
    before = snapshot(renamable)
    text = (renamable / "Other.md").read_text(encoding="utf-8")
    with running() as lsp:
        lsp.initialize([renamable])
        doc = lsp.open(renamable / "Other.md")
        with pytest.raises(LspError) as refused:
            lsp.request(
                "textDocument/rename", {**where(doc, at(text, "[[Old", 3)), "newName": name}
            )
        assert refused.value.code == -32803 and why in refused.value.message
        # The file explorer renames anyway: no edit, and the user is told why.
        new = renamable / (name + ".md")
        edit = lsp.request(
            "workspace/willRenameFiles",
            {"files": [{"oldUri": uri(renamable / "Old Name.md"), "newUri": uri(new)}]},
        )
        assert edit is None
        lsp.wait(
            lambda: [
                n
                for n in lsp.notifications
                if n["method"] == "window/showMessage" and why in n["params"]["message"]
            ]
        )
    assert snapshot(renamable) == before
    code, _, err = run_cli(
        capsys, "mv", str(renamable / "Old Name.md"), str(renamable / (name + ".md"))
    )
    assert code == 2 and why in err  # the same refusal from the command line


def test_rename_on_the_title_renames_the_note(
    renamable: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = moved_by_cli(capsys, renamable, tmp_path / "cli", "Old Name.md", "New Name.md")
    root = tmp_path / "lsp"
    shutil.copytree(renamable, root)
    with running() as lsp:
        lsp.initialize([root])
        doc = lsp.open(root / "Old Name.md")
        prepared = lsp.request(
            "textDocument/prepareRename", where(doc, {"line": 3, "character": 4})
        )
        assert prepared == {
            "range": {"start": {"line": 3, "character": 2}, "end": {"line": 3, "character": 10}},
            "placeholder": "Old Name",
        }
        edit = lsp.request(
            "textDocument/rename",
            {**where(doc, {"line": 3, "character": 4}), "newName": "New Name"},
        )
        apply_workspace_edit(edit)
        # Elsewhere in the note: nothing to rename.
        with pytest.raises(LspError):
            lsp.request("textDocument/prepareRename", where(doc, {"line": 5, "character": 1}))
    moved = snapshot(root)
    title = expected["New Name.md"].replace(b"# Old Name\n", b"# New Name\n", 1)
    assert moved == {**expected, "New Name.md": title}


# --- workspaces, settings, the disk -------------------------------------------------------------


def test_several_workspace_folders_are_separate_vaults(tmp_path: Path) -> None:
    first = write_vault(tmp_path / "one", {"Note.md": "[[Here]] [[Broken]]\n", "Here.md": "# A\n"})
    second = write_vault(
        tmp_path / "two",
        {
            ".vaultsync.toml": 'ignore = ["L001"]\n',
            "Note.md": "[[Here]] [[Broken]]\n",
            "sub/Here.md": "# B\n",
        },
    )
    with running() as lsp:
        lsp.initialize([first, second])
        one, two = lsp.open(first / "Note.md"), lsp.open(second / "Note.md")
        assert codes(lsp.diagnostics(one, version=1)) == ["L001"]
        assert lsp.diagnostics(two, version=1) == []  # its own config ignores L001
        for doc, root, target in ((one, first, "Here.md"), (two, second, "sub/Here.md")):
            found = lsp.request("textDocument/definition", where(doc, {"line": 0, "character": 3}))
            assert path_of(found["uri"]) == root / target
        # A third folder added later is a vault too; a removed one is forgotten.
        third = write_vault(tmp_path / "three", {"Only.md": "# Only\n"})
        lsp.notify(
            "workspace/didChangeWorkspaceFolders",
            {
                "event": {
                    "added": [{"uri": uri(third), "name": "three"}],
                    "removed": [{"uri": uri(first), "name": "one"}],
                }
            },
        )
        names = {s["name"] for s in lsp.request("workspace/symbol", {"query": ""})}
        assert "Only" in names


def test_excluded_notes_are_not_linted_but_still_resolve(tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": 'exclude = ["drafts/"]\n',
            ".obsidian/app.json": '{"userIgnoreFilters": ["old/"]}',
            "Note.md": "[[Draft]] [[Ancient]]\n",
            "drafts/Draft.md": "[[Broken]]\n",
            "old/Ancient.md": "[[Broken]]\n",
        },
    )
    with running() as lsp:
        lsp.initialize([root])
        for rel in ("drafts/Draft.md", "old/Ancient.md"):
            assert lsp.diagnostics(lsp.open(root / rel), version=1) == []
        note = lsp.open(root / "Note.md")
        assert lsp.diagnostics(note, version=1) == []  # links to excluded notes resolve
        found = lsp.request("textDocument/definition", where(note, {"line": 0, "character": 3}))
        assert path_of(found["uri"]) == root / "drafts/Draft.md"


def test_a_changed_config_is_taken_in(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {"Note.md": "[[Broken]]\n"})
    with running() as lsp:
        lsp.initialize([root])
        doc = lsp.open(root / "Note.md")
        assert codes(lsp.diagnostics(doc, version=1)) == ["L001"]
        mark = lsp.mark()
        (root / ".vaultsync.toml").write_text('ignore = ["L001"]\n', encoding="utf-8")
        lsp.files_changed([(root / ".vaultsync.toml", 1)])
        assert lsp.diagnostics(doc, since=mark) == []
        # A config that does not validate: one message to the user, the server goes on.
        mark = lsp.mark()
        (root / ".vaultsync.toml").write_text("nonsense = 1\n", encoding="utf-8")
        lsp.files_changed([(root / ".vaultsync.toml", 2)])
        shown = lsp.wait(
            lambda: [n for n in lsp.notifications[mark:] if n["method"] == "window/showMessage"]
        )
        assert "nonsense" in shown[0]["params"]["message"]
        assert lsp.request("workspace/symbol", {"query": "x"}) == []


def test_a_file_deleted_on_disk_while_open(lsp: LspClient, vault: Path) -> None:
    home = lsp.open(vault / "Home.md")
    projects = lsp.open(vault / "Projects.md")
    assert "L001" in codes(lsp.diagnostics(home, version=1))
    lsp.diagnostics(projects, version=1)
    mark = lsp.mark()
    (vault / "Projects.md").unlink()
    lsp.files_changed([(vault / "Projects.md", 3)])
    # Home's three links to it break; the deleted note has no problems of its own left.
    found = lsp.diagnostics(home, since=mark)
    assert [d["message"] for d in found].count(
        'Broken link: no note or file matches "Projects"'
    ) == 2
    lsp.wait(lambda: lsp.published(projects, mark) and lsp.published(projects, mark)[-1] == [])
    # The orphaned buffer still navigates (its links resolve in the vault), and typing in
    # it is harmless.
    found = lsp.request("textDocument/definition", where(projects, at(PROJECTS, "[[Home]]", 3)))
    assert path_of(found["uri"]) == vault / "Home.md"
    version = lsp.change(
        projects,
        [
            {
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "text": "x",
            }
        ],
    )
    assert lsp.diagnostics(projects, version=version) == []
    # Saved again, it is a note again, with the buffer's text.
    mark = lsp.mark()
    (vault / "Projects.md").write_text("x" + PROJECTS, encoding="utf-8")
    lsp.save(projects)
    lsp.files_changed([(vault / "Projects.md", 1)])
    found = lsp.diagnostics(home, since=mark)
    assert "Projects" not in json.dumps(found)
    found = lsp.request("textDocument/definition", where(home, at(HOME, "[[Projects#Roadmap", 2)))
    assert found["range"]["start"] == {"line": 5, "character": 0}


def test_files_changing_on_disk_are_followed(lsp: LspClient, vault: Path) -> None:
    home = lsp.open(vault / "Home.md")
    assert "Nowhere" in json.dumps(lsp.diagnostics(home, version=1))
    mark = lsp.mark()
    (vault / "sub").mkdir()
    (vault / "sub/Nowhere.md").write_text("# Now here\n", encoding="utf-8")
    lsp.files_changed([(vault / "sub/Nowhere.md", 1)])
    assert "Nowhere" not in json.dumps(lsp.diagnostics(home, since=mark))
    # A folder deleted with its notes: reported as the folder alone, as VS Code does.
    mark = lsp.mark()
    shutil.rmtree(vault / "sub")
    lsp.files_changed([(vault / "sub", 3)])
    assert "Nowhere" in json.dumps(lsp.diagnostics(home, since=mark))


def test_a_client_that_cannot_watch_files_is_served_by_vaultsync_watching(vault: Path) -> None:
    capabilities = json.loads(json.dumps(FULL_CLIENT))
    del capabilities["workspace"]["didChangeWatchedFiles"]
    with running() as lsp:
        lsp.initialize([vault], capabilities)
        home = lsp.open(vault / "Home.md")
        assert "Nowhere" in json.dumps(lsp.diagnostics(home, version=1))
        mark = lsp.mark()
        (vault / "Nowhere.md").write_text("# Now here\n", encoding="utf-8")
        assert "Nowhere" not in json.dumps(lsp.diagnostics(home, since=mark, timeout=20))
        assert not [r for r in lsp.server_requests if r["method"] == "client/registerCapability"]


def test_malformed_requests_are_answered_and_the_server_goes_on(
    lsp: LspClient, vault: Path
) -> None:
    doc = lsp.open(vault / "Home.md")
    lsp.diagnostics(doc, version=1)
    # Params of the wrong shape: an InvalidParams error for that request.
    bad = lsp.request_raw("textDocument/definition", {"textDocument": 42, "position": "x"})
    assert bad["error"]["code"] == -32602
    # An unknown method.
    assert lsp.request_raw("vaultsync/nothing", {})["error"]["code"] == -32601
    # A position far outside the text, a document outside every vault.
    assert lsp.request("textDocument/hover", where(doc, {"line": 999, "character": 999})) is None
    assert (
        lsp.request(
            "textDocument/definition", where("file:///nowhere/x.md", {"line": 0, "character": 0})
        )
        is None
    )
    # A body that is no JSON at all.
    lsp.send_raw(b"{this is not json")
    # Still serving.
    found = lsp.request("textDocument/definition", where(doc, at(HOME, "[[Projects#R", 3)))
    assert path_of(found["uri"]) == vault / "Projects.md"
    assert lsp.proc.poll() is None
    assert lsp.stop() == 0
    assert lsp.bad_frames == []


def test_check_does_not_import_the_language_server() -> None:
    """pygls and lsprotocol load for `vaultsync lsp` only: `check` starts as fast as before."""
    assert imported_by_check({"pygls", "lsprotocol", "cattrs"}) == []


def test_a_rename_rewrites_links_in_unsaved_buffers_as_typed(
    renamable: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    by_cli = moved_by_cli(capsys, renamable, tmp_path / "cli", "Old Name.md", "New Name.md")
    text = (renamable / "Other.md").read_bytes().decode("utf-8")
    assert "\r\n" in text
    with running() as lsp:
        lsp.initialize([renamable])
        doc = lsp.open(renamable / "Other.md")
        lsp.diagnostics(doc, version=1)
        typed = "Intro [[Old Name#Section]].\r\n"
        start = {"line": 0, "character": 0}
        version = lsp.change(doc, [{"range": {"start": start, "end": start}, "text": typed}])
        lsp.diagnostics(doc, version=version)
        edit = lsp.request(
            "workspace/willRenameFiles",
            {
                "files": [
                    {
                        "oldUri": uri(renamable / "Old Name.md"),
                        "newUri": uri(renamable / "New Name.md"),
                    }
                ]
            },
        )
    (mine,) = [c for c in edit["documentChanges"] if c["textDocument"]["uri"] == doc]
    assert mine["textDocument"]["version"] == version  # for the buffer as typed, unsaved
    # The typed link is rewritten, and the rest as `vaultsync mv` rewrites the saved file.
    expected = "Intro [[New Name#Section]].\r\n" + by_cli["Other.md"].decode("utf-8")
    assert apply_edits(typed + text, mine["edits"]) == expected
    assert (renamable / "Other.md").read_bytes().decode("utf-8") == text  # nothing written
