"""Templates are not notes (§1): indexed, but no frontmatter problems, no problems for
placeholder links, and never a generated section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import graph_links, run_cli
from tests.conftest import SECTIONS_ON, read, snapshot, write_vault

Cap = pytest.CaptureFixture[str]

DAILY = (
    "---\ncreated: {{date}}\ntags: a, b\n---\n# {{title}}\n\n"
    "[[{{date:YYYY-MM-DD}}]] [[Projects]] [[Projects#{{title}}]] [[Missing real note]]\n"
    '<!-- vaultsync:begin index folder="{{title}}" -->\n<!-- vaultsync:end index -->\n'
)
MEETING = "---\ndate: <% tp.date.now() %>\n---\n[[<% tp.file.title %>]] [[Projects]]\n"
FILES: dict[str, str | bytes] = {
    ".vaultsync.toml": 'templates = ["**/*.template.md"]\n' + SECTIONS_ON,
    # Core Templates and Templater name their folders in Obsidian's settings.
    ".obsidian/templates.json": '{"folder": "Templates"}',
    ".obsidian/plugins/templater-obsidian/data.json": '{"templates_folder": "/meta/Templater/"}',
    "Templates/Daily.md": DAILY,
    "meta/Templater/Meeting.md": MEETING,
    "notes/Weekly.template.md": "---\nweek: {{date:ww}}\n---\n[[Daily]]\n",
    "Projects.md": "# Projects\n",
    "Journal.md": "---\ncreated: {{date}}\n---\nMade from [[Daily]], not filled in.\n",
}


def _check(capsys: Cap, root: Path) -> dict[str, list[str]]:
    code, out, err = run_cli(capsys, "check", str(root), "--format", "json")
    assert code in (0, 1), err
    found: dict[str, list[str]] = {}
    for d in json.loads(out)["diagnostics"]:
        found.setdefault(d["path"], []).append(f"{d['code']} {d['data'].get('target', '')}")
    return found


def test_templates_get_no_frontmatter_placeholder_or_section_problems(
    tmp_path: Path, capsys: Cap
) -> None:
    root = write_vault(tmp_path / "v", FILES)
    found = _check(capsys, root)
    # A template's real link is still checked: every note made from it copies it.
    assert found.pop("Templates/Daily.md") == ["L001 Missing real note"]
    assert "meta/Templater/Meeting.md" not in found
    assert "notes/Weekly.template.md" not in found
    # An ordinary note with the same frontmatter is linted as before.
    assert found.pop("Journal.md") == ["F001 "]
    assert found == {"Projects.md": ["S001 "]}  # linked from templates, see below


def test_template_links_count_but_templates_are_never_written(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", FILES)
    resolved = {
        (link["source"], link["target"]): link["resolved"] for link in graph_links(capsys, root)
    }
    assert resolved[("Templates/Daily.md", "Projects")] == "Projects.md"
    assert resolved[("meta/Templater/Meeting.md", "Projects")] == "Projects.md"
    templates = {p: b for p, b in snapshot(root).items() if "emplat" in p}
    code, _, err = run_cli(capsys, "fix", str(root))
    assert code in (0, 1), err
    after = snapshot(root)
    assert {p: after[p] for p in templates} == templates  # no section, no fix
    backlinks = read(root, "Projects.md").split("## Backlinks\n", 1)[1]
    assert backlinks.startswith("- [[Daily]]\n- [[Meeting]]\n")


def test_a_template_section_does_not_turn_sections_on(tmp_path: Path, capsys: Cap) -> None:
    # A backlinks section in a template (say, written by an older vaultsync) is the
    # template's text, not the vault's opt-in.
    files = {**FILES, ".vaultsync.toml": ""}
    files["Templates/Daily.md"] = (
        DAILY + "<!-- vaultsync:begin backlinks -->\n<!-- vaultsync:end backlinks -->\n"
    )
    root = write_vault(tmp_path / "v", files)
    assert not [c for codes in _check(capsys, root).values() for c in codes if c[0] == "S"]


@pytest.mark.parametrize(
    "settings",
    [b"{not json", b"\xff\xfe", b'["Templates"]', b'{"folder": 3}', b'{"folder": ""}'],
    ids=["not-json", "not-utf8", "a-list", "not-a-string", "empty"],
)
def test_unreadable_template_settings_name_no_folder(
    tmp_path: Path, capsys: Cap, settings: bytes
) -> None:
    root = write_vault(tmp_path / "v", {**FILES, ".obsidian/templates.json": settings})
    code, out, err = run_cli(capsys, "check", str(root), "--format", "json")
    assert code == 1 and "Traceback" not in err and err == ""
    daily: list[dict[str, Any]] = [
        d for d in json.loads(out)["diagnostics"] if d["path"] == "Templates/Daily.md"
    ]
    assert "F001" in {d["code"] for d in daily}  # an ordinary note now
