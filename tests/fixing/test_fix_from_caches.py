"""A fix with work to do starts from the caches as `check` does (issue 20): the vault the
last whole check's snapshot and the notes changed since give, without loading the vault,
and checking again only what its edits touch. It fixes exactly what a fix of the vault
as loaded (`--no-cache`) fixes, byte for byte, and reports the same."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import run_cli
from tests.conftest import SECTIONS_ON, snapshot, write_vault
from vaultsync.fixing import fix
from vaultsync.lint import delta, engine

Capsys = pytest.CaptureFixture[str]

VAULT = {
    ".vaultsync.toml": SECTIONS_ON,
    "Hub.md": "# Hub\n\n## Plans\n\nSee [[Topic A]] and [[Topic B]].\n",
    "Topic A.md": "About [[Hub#Plans]].\n",
    "Topic B.md": "About [[Hub]] and [[Nowhere]].\n",
    "Folder/Open Source.md": "# Open Source\n",
    "Folder/Deep.md": "Links [[Open Source]] and ![[Topic A]].\n",
    "List.md": '<!-- vaultsync:begin index folder="Folder" -->\n<!-- vaultsync:end index -->\n',
}


def _age(root: Path) -> None:
    past = time.time() - 3600  # a vault at rest: the snapshot may vouch for its files
    for path in root.rglob("*"):
        if path.is_file() and ".vaultsync" not in path.parts:
            os.utime(path, (past, past))


def _twins(tmp_path: Path, capsys: Capsys) -> tuple[Path, Path]:
    """Two copies of a vault on which fix has settled and a check left the caches."""
    root = write_vault(tmp_path / "cached", VAULT)
    run_cli(capsys, "fix", str(root))
    _age(root)
    assert run_cli(capsys, "check", str(root))[0] == 1  # the snapshot
    twin = tmp_path / "plain"
    shutil.copytree(root, twin, copy_function=shutil.copy2)
    return root, twin


def _edit(roots: tuple[Path, Path], name: str, text: str) -> None:
    for root in roots:
        (root / name).write_text(text, encoding="utf-8")


def _notes(root: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(root).items() if not k.startswith(".vaultsync/")}


def _no_load(*args: object, **kwargs: object) -> None:
    raise AssertionError("the vault was loaded whole: not a fix from the caches")


# (note, its new text, whether the fix starts from the caches): an edit that changes a
# canonical spelling (a link typed as a variant no link spelled before) may change L002
# of any note, so the check behind the fix is a whole one, as `check`'s is.
EDITS = [
    # A new link: Topic B's backlinks section must list Hub... and Deep's too.
    ("Hub.md", "# Hub\n\n## Plans\n\nSee [[Topic A]], [[Topic B]], [[Deep]].\n", True),
    # A link dropped: Topic B's section must lose Hub.
    ("Hub.md", "# Hub\n\n## Plans\n\nSee [[Topic A]].\n", True),
    # The heading another note links into renamed: Topic A's link breaks.
    ("Hub.md", "# Hub\n\n## Later\n\nSee [[Topic A]] and [[Topic B]].\n", True),
    # A link dropped and one added in a note an index block lists.
    ("Folder/Deep.md", "Links [[Hub]] only.\n", True),
    # A link typed as a variant, fixed in the note itself.
    ("Folder/Deep.md", "Links [[open-source]] and [[Hub]].\n", False),
]


@pytest.mark.parametrize("edit", EDITS, ids=[f"{n}-{i}" for i, (n, *_) in enumerate(EDITS)])
@pytest.mark.parametrize("whole", [False, True], ids=["fix NOTE", "fix"])
def test_a_fix_from_the_caches_is_the_fix_of_the_vault_as_loaded(
    tmp_path: Path,
    capsys: Capsys,
    monkeypatch: pytest.MonkeyPatch,
    edit: tuple[str, str, bool],
    whole: bool,
) -> None:
    cached, plain = _twins(tmp_path, capsys)
    name, text, warm = edit
    _edit((cached, plain), name, text)
    target = [] if whole else [name]
    expected = run_cli(capsys, "fix", *(str(plain / t) for t in target or [""]), "--no-cache")
    assert "Fixed 0 problems" not in expected[1]  # the edit gave the fix work to do
    with monkeypatch.context() as patched:
        if warm:
            patched.setattr(engine, "load", _no_load)
        found = run_cli(capsys, "fix", *(str(cached / t) for t in target or [""]))
    assert found == expected
    assert _notes(cached) == _notes(plain)
    # And it converged: a fix again changes nothing.
    before = _notes(cached)
    _, out, _ = run_cli(capsys, "fix", str(cached))
    assert "Fixed 0 problems" in out
    assert _notes(cached) == before


def test_a_json_report_of_a_fix_from_the_caches_is_the_same(tmp_path: Path, capsys: Capsys) -> None:
    cached, plain = _twins(tmp_path, capsys)
    _edit((cached, plain), *EDITS[0][:2])
    expected = run_cli(capsys, "fix", str(plain / "Hub.md"), "--format", "json", "--no-cache")
    code, out, err = run_cli(capsys, "fix", str(cached / "Hub.md"), "--format", "json")
    assert (code, out.replace(str(cached), str(plain)), err) == expected


def test_a_cache_row_gone_bad_during_the_fix_falls_back_to_the_vault_as_loaded(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note not read before the fix needs it may turn out unreadable from the cache
    (`delta.Unusable`); the fix then runs on the vault as loaded, with the same result."""
    cached, plain = _twins(tmp_path, capsys)
    _edit((cached, plain), *EDITS[0][:2])
    real_fix = fix.fix_vault
    calls: list[bool] = []

    def failing(*args: Any, **kwargs: Any) -> fix.FixResult:
        calls.append(kwargs.get("tracked") is not None)
        if kwargs.get("tracked") is not None:
            raise delta.Unusable("cache row of Topic B.md")
        return real_fix(*args, **kwargs)

    monkeypatch.setattr(fix, "fix_vault", failing)
    expected = run_cli(capsys, "fix", str(plain / "Hub.md"), "--no-cache")
    calls.clear()
    assert run_cli(capsys, "fix", str(cached / "Hub.md")) == expected
    assert calls[0] is True and False in calls  # tried from the caches, then as loaded
    assert _notes(cached) == _notes(plain)


@pytest.mark.parametrize("flags", [("--create-missing",), ("--diff",), ("--unsafe",)], ids=str)
def test_fix_options_from_the_caches_match_the_vault_as_loaded(
    tmp_path: Path, capsys: Capsys, flags: tuple[str, ...]
) -> None:
    cached, plain = _twins(tmp_path, capsys)
    text = "# Hub\n\n## Plans\n\nSee [[Topic A]], [[Topic B]], [[Brand New]], [[topic a]].\n"
    _edit((cached, plain), "Hub.md", text)
    expected = run_cli(capsys, "fix", str(plain / "Hub.md"), *flags, "--no-cache")
    code, out, err = run_cli(capsys, "fix", str(cached / "Hub.md"), *flags)
    assert (code, out.replace(str(cached), str(plain)), err) == expected
    assert _notes(cached) == _notes(plain)


def test_a_fix_after_an_edit_reads_the_notes_it_did_not_check_from_the_caches(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot has a fixable problem in a note that the edit since does not touch:
    the fix takes it from the snapshot and fixes it without loading the vault."""
    files = {**VAULT, "Stray.md": "Links [[open-source]] as a variant.\n"}
    cached = write_vault(tmp_path / "cached", files)
    _age(cached)
    assert run_cli(capsys, "check", str(cached))[0] == 1  # the snapshot, with Stray's L002
    plain = tmp_path / "plain"
    shutil.copytree(cached, plain, copy_function=shutil.copy2)
    _edit((cached, plain), "Topic A.md", "About [[Hub#Plans]] and more.\n")
    expected = run_cli(capsys, "fix", str(plain), "--no-cache")
    assert "Stray.md" in expected[1]
    with monkeypatch.context() as patched:
        patched.setattr(engine, "load", _no_load)
        found = run_cli(capsys, "fix", str(cached))
    assert found == expected
    assert _notes(cached) == _notes(plain)
