"""`vaultsync mv` refuses names Obsidian refuses, and keeps what a reader saw when asked
(issue 17, item 7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import graph_links, run_cli
from tests.conftest import read, snapshot, write_vault

Capsys = pytest.CaptureFixture[str]

VAULT = {"Old.md": "# Old\n", "A.md": "see [[Old]]\n"}


def mv(capsys: Capsys, root: Path, old: str, new: str) -> tuple[int, str, str]:
    return run_cli(capsys, "mv", str(root / old), str(root / new))


@pytest.mark.parametrize(
    "new",
    [
        "X \\ Y.md",  # made a folder `X ` holding ` Y.md` and broke every link
        "a:b.md",
        "a*b.md",
        "why?.md",
        'say "hi".md',
        "a<b.md",
        "a>b.md",
        "a|b.md",
        "[draft].md",
        "C# notes.md",
        "x^y.md",
        "100%% done.md",
        "tab\there.md",
        "new#folder/Old.md",  # a folder the move would create
        "trailing\\",  # not a folder on this system: a name ending in `\`
    ],
)
def test_a_name_obsidian_refuses_is_refused_and_nothing_changes(
    tmp_path: Path, capsys: Capsys, new: str
) -> None:
    root = write_vault(tmp_path / "v", VAULT)
    before = snapshot(root)
    folders = _folders(root)
    code, out, err = mv(capsys, root, "Old.md", new)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Obsidian does not allow" in lines[0] and "nothing moved" in lines[0]
    assert "Traceback" not in err
    assert snapshot(root) == before
    assert _folders(root) == folders


def _folders(root: Path) -> list[str]:
    """The vault's folders (not vaultsync's cache or .obsidian)."""
    found = (p.relative_to(root) for p in root.rglob("*") if p.is_dir())
    return sorted(p.as_posix() for p in found if not p.parts[0].startswith("."))


def test_moving_into_an_existing_folder_with_such_a_name_is_allowed(
    tmp_path: Path, capsys: Capsys
) -> None:
    # The folder is the user's; only names the move would create are checked.
    root = write_vault(tmp_path / "v", {**VAULT, "C# stuff/Other.md": "x\n"})
    code, _out, err = mv(capsys, root, "Old.md", "C# stuff/")
    assert code == 0, err
    assert (root / "C# stuff" / "Old.md").is_file()
    assert read(root, "A.md") == "see [[Old]]\n"


KEEP = "[links]\nkeep-display = true\n"
LINKING = (
    '---\nup: "[[Old]]"\n---\n'
    "[[Old]] [[old]] [[Old|shown]] [[Old#Old]] ![[Old]] [md](Old.md)\n"
    "| col | [[Old]] |\n"
    "|---|---|\n"
)


@pytest.mark.parametrize("keep", [True, False])
def test_keep_display_keeps_what_the_reader_saw(tmp_path: Path, capsys: Capsys, keep: bool) -> None:
    files = {"Old.md": "# Old\n", "A.md": LINKING}
    if keep:
        files[".vaultsync.toml"] = KEEP
    root = write_vault(tmp_path / "v", files)
    code, _out, err = mv(capsys, root, "Old.md", "New.md")
    assert code == 0, err
    if keep:
        expected = (
            '---\nup: "[[New|Old]]"\n---\n'
            "[[New|Old]] [[New|old]] [[New|shown]] [[New#Old|Old]] ![[New]] [md](New.md)\n"
            "| col | [[New\\|Old]] |\n"
            "|---|---|\n"
        )
    else:
        expected = LINKING.replace("[[Old", "[[New").replace("[[old", "[[New")
        expected = expected.replace("(Old.md)", "(New.md)")
    assert read(root, "A.md") == expected
    targets = {k["resolved"] for k in graph_links(capsys, root) if k["source"] == "A.md"}
    assert targets == {"New.md"}
