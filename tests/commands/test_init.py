"""`vaultsync init`: starter config, inferred schemas, index notes."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, write_vault
from tests.rules.test_frontmatter import f_diagnostics, run_cli
from vaultsync.commands.init import (
    INDEX_NOTE,
    INDEX_TEXT,
    STARTER_CONFIG,
    UNRESOLVED_TEXT,
    starter_config,
)
from vaultsync.config.settings import BacklinksConfig, Config, IndexConfig, load_config
from vaultsync.parse.scanner import parse

SECTIONS_OFF = Config(backlinks=BacklinksConfig(enabled=False), index=IndexConfig(enabled=False))


class _Terminal(io.StringIO):
    """A stdin someone types into: `init` asks it questions."""

    def isatty(self) -> bool:
        return True


def test_starter_config_is_valid_and_says_the_defaults(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = write_vault(tmp_path / "v", {"n.md": "x\n"})
    code, out, err = run_cli(capsys, "init", str(root))
    assert code == 0, err
    assert "Wrote .vaultsync.toml (generated sections off)" in out
    assert "?" not in out  # stdin is not a terminal: nothing asked
    assert (root / ".vaultsync.toml").read_text(encoding="utf-8") == starter_config(False)
    # The values shown are the defaults, but for the answer about generated sections.
    assert load_config(root) == SECTIONS_OFF


def test_init_asks_about_sections_on_a_terminal_and_sections_says_yes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files: dict[str, str | bytes] = {"Target.md": "t\n", "A.md": "[[Target]]\n"}
    for answer, on in (("y\n", True), ("\n", False), ("", False)):
        root = write_vault(tmp_path / f"asked-{on}-{len(answer)}", files)
        monkeypatch.setattr("sys.stdin", _Terminal(answer))
        code, out, err = run_cli(capsys, "init", str(root))
        assert code == 0, err
        assert "Turn generated sections on? [y/N]" in out
        assert load_config(root).backlinks.enabled is on
        code, out, _ = run_cli(capsys, "check", str(root))
        assert ("S001" in out) is on
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    root = write_vault(tmp_path / "flag", files)
    code, out, err = run_cli(capsys, "init", "--vault", str(root), "--sections")
    assert code == 0, err
    assert "?" not in out and "generated sections on" in out
    assert (root / ".vaultsync.toml").read_text(encoding="utf-8") == starter_config(True)
    code, _, _ = run_cli(capsys, "fix", str(root))
    assert "vaultsync:begin backlinks" in (root / "Target.md").read_text(encoding="utf-8")


def test_init_index_turns_on_the_blocks_it_creates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = write_vault(tmp_path / "v", {"A.md": "[[B]]\n", "B.md": "b\n"})
    code, _, err = run_cli(capsys, "init", str(root), "--index")
    assert code == 0, err
    config = load_config(root)
    assert (config.backlinks.enabled, config.index.enabled) == (False, True)
    run_cli(capsys, "fix", str(root))
    assert "- [[A]]" in (root / INDEX_NOTE).read_text(encoding="utf-8")
    assert "vaultsync" not in (root / "B.md").read_text(encoding="utf-8")


def test_the_keep_display_comment_says_what_it_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The comment's own example, [[formulas]] -> [[Formulas|formulas]], done by a fix.
    example = re.search(r"(\[\[[^]]+\]\]) -> (\[\[[^]]+\]\])", STARTER_CONFIG)
    assert example is not None
    before, after = example.groups()
    config = starter_config(False).replace("keep-display = false", "keep-display = true")
    config = config.replace("select = []", 'select = ["ALL"]')
    root = write_vault(
        tmp_path / "v",
        {".vaultsync.toml": config, "Formulas.md": "x\n", "n.md": f"# Using {before}\n"},
    )
    run_cli(capsys, "fix", str(root))
    assert (root / "n.md").read_text(encoding="utf-8") == f"# Using {after}\n"


def test_init_refuses_to_overwrite_a_config_unless_forced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = write_vault(tmp_path / "v", {".vaultsync.toml": 'ignore = ["L006"]\n'})
    code, _, err = run_cli(capsys, "init", str(root))
    assert code == 2 and "already exists" in err and err.count("\n") == 1
    assert (root / ".vaultsync.toml").read_text() == 'ignore = ["L006"]\n'
    code, _, err = run_cli(capsys, "init", str(root), "--force")
    assert code == 0, err
    assert (root / ".vaultsync.toml").read_text() == starter_config(False)
    # Replaced through a temp file: none is left, and the config stays readable to the
    # user's other tools (git, editors), not only to its owner.
    assert [p.name for p in root.iterdir() if p.name.endswith(".tmp")] == []
    assert (root / ".vaultsync.toml").stat().st_mode & 0o777 == 0o644


def test_init_of_a_missing_folder_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run_cli(capsys, "init", str(tmp_path / "nope"))
    assert code == 2 and "no such folder" in err


def test_index_notes_are_created_and_never_overwritten(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = write_vault(tmp_path / "v", {"Index.md": "# My own index\n"})
    code, _, err = run_cli(capsys, "init", str(root), "--index", "--force")
    assert code == 0, err
    assert (root / "Index.md").read_text() == "# My own index\n"
    assert (root / "Unresolved links.md").read_text() == UNRESOLVED_TEXT
    (root / "Index.md").unlink()
    code, _, _ = run_cli(capsys, "init", str(root), "--index")  # config kept, notes made
    assert code == 0
    assert (root / "Index.md").read_text() == INDEX_TEXT
    kinds = [c.text.split()[0:2] for c in parse(INDEX_TEXT).comments]
    assert kinds == [["vaultsync:begin", "index"], ["vaultsync:end", "index"]]


def _note(props: str) -> str:
    return f"---\n{props}---\nBody\n"


def test_infer_schemas_types_required_enum(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = {
        f"Talks/t{i}.md": _note(
            f"title: Talk {i}\nkind: {'keynote' if i % 2 else 'panel'}\n"
            f"rating: {'high' if i == 0 else i}\nseen: {i % 2 == 0}\nwhen: 2024-01-0{i + 1}\n"
            f"speakers: ['[[Ada]]']\nhosts: ['[[Bo]]']\nmeta: {{a: 1}}\n"
            + ("extra: x\n" if i == 1 else "")
        )
        for i in range(6)
    }
    notes["Ada.md"] = ""
    notes["Talks/empty.md"] = "No frontmatter, so nothing is required.\n"
    notes["Root note.md"] = _note("title: root\n")
    root = write_vault(tmp_path / "v", notes)
    del notes["Talks/empty.md"]
    code, out, err = run_cli(capsys, "init", str(root), "--infer-schemas")
    assert code == 0, err
    assert "Wrote .vaultsync/schemas/Talks.yaml (8 properties from 7 notes)" in out
    assert sorted(p.name for p in (root / ".vaultsync" / "schemas").iterdir()) == ["Talks.yaml"]
    text = (root / ".vaultsync" / "schemas" / "Talks.yaml").read_text()
    schema = yaml.safe_load(text)
    assert schema["applies-to"] == {"paths": ["Talks/**"]}
    # Every type the values have (5 numbers and 1 text); nested objects (`meta`) are no
    # Obsidian type; nothing is required since one note has no frontmatter; `kind` takes
    # two values; `[[Bo]]` is no note, so `hosts` are not links that must resolve.
    assert schema["properties"] == {
        "extra": {"type": "text"},
        "hosts": {"type": "list"},
        "kind": {"type": "text", "enum": ["keynote", "panel"]},
        "rating": {"type": ["text", "number"]},
        "seen": {"type": "checkbox"},
        "speakers": {"type": "list", "items": "link"},
        "title": {"type": "text"},
        "when": {"type": "date"},
    }
    assert "  rating: {type: [text, number]}  # seen: number 5, text 1\n" in text
    # The proposal accepts the notes it learned from.
    assert f_diagnostics(capsys, root, "--select", "F002") == []


def test_infer_schemas_marks_keys_in_every_note_required(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = {f"A/n{i}.md": _note(f"title: T{i}\n" + ("x: 1\n" if i else "")) for i in range(3)}
    root = write_vault(tmp_path / "v", notes)
    code, _, err = run_cli(capsys, "init", str(root), "--infer-schemas")
    assert code == 0, err
    props = yaml.safe_load((root / ".vaultsync/schemas/A.yaml").read_text())["properties"]
    assert props == {"title": {"type": "text", "required": True}, "x": {"type": "number"}}


def test_infer_schemas_keeps_an_existing_schema(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mine = "name: A\nproperties: {}\n"
    root = write_vault(
        tmp_path / "v", {"A/n.md": _note("title: t\n"), ".vaultsync/schemas/A.yaml": mine}
    )
    code, out, _ = run_cli(capsys, "init", str(root), "--infer-schemas")
    assert code == 0 and "Kept the existing .vaultsync/schemas/A.yaml" in out
    assert (root / ".vaultsync/schemas/A.yaml").read_text() == mine


def test_infer_schemas_on_a_generated_vault(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "gen"
    subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "generate.py"), str(root), "--notes", "200"],
        check=True,
        capture_output=True,
    )
    code, _, err = run_cli(capsys, "init", str(root), "--infer-schemas")
    assert code == 0, err
    # What the notes hold, read independently of vaultsync's parser.
    folders: dict[str, list[dict[str, object]]] = defaultdict(list)
    for path in root.rglob("*.md"):
        rel = path.relative_to(root)
        if len(rel.parts) < 2 or rel.parts[0].startswith("."):
            continue
        text = path.read_text(encoding="utf-8")
        props = yaml.safe_load(text.split("---\n")[1]) if text.startswith("---\n") else {}
        folders[rel.parts[0]].append(props or {})
    written = {p.stem for p in (root / ".vaultsync" / "schemas").glob("*.yaml")}
    assert written == set(folders)
    for folder, notes in folders.items():
        props = yaml.safe_load((root / f".vaultsync/schemas/{folder}.yaml").read_text())[
            "properties"
        ]
        keys = {k for n in notes for k, v in n.items() if v not in (None, "")}
        assert set(props) == keys
        for key, spec in props.items():
            assert spec.get("required", False) == all(n.get(key) not in (None, "") for n in notes)
        statuses = {n["status"] for n in notes if isinstance(n.get("status"), str)}
        if "status" in props and len(statuses) <= 8:
            assert props["status"]["enum"] == sorted(statuses)
        if "tags" in props:
            assert props["tags"]["type"] == "tags"
    # The proposals load (no exit 2) and the vault checks against them.
    code, _, err = run_cli(capsys, "check", str(root), "--select", "F", "--exit-zero", "-q")
    assert code == 0, err
