"""A check without the cache in two halves (shards.py) answers as one process does."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import dead_pid, write_vault
from vaultsync.cli import main
from vaultsync.commands.common import resolve_target
from vaultsync.core.model import Diagnostic, LazyFix, Severity
from vaultsync.io.files import discover
from vaultsync.lint import engine, shards
from vaultsync.lint.results import flatten
from vaultsync.rules import Selection
from vaultsync.rules.checkers import CHECKERS
from vaultsync.vault.index import NoteEntry

CONFIG = """\
exclude = ["templates/"]

[backlinks]
exclude = ["daily/"]
"""

# Notes in path order: A… to M… fall in the first half, N… to Z… in the second (and the
# `daily/` and `templates/` folders after them), so most links below cross halves.
NOTES: dict[str, str | bytes] = {
    ".vaultsync.toml": CONFIG,
    "Alpha.md": (
        '---\naliases: [AL, First One]\nrelated: "[[Zeta]]"\n---\n# Alpha\n\n'
        "## Intro\n\nSee [[Zeta#Details]], [[Zeta#Nowhere]], [[Zeta#^z1]], [[Zeta#^zz]],\n"
        "[[Omega#Part One#Sub]], [[Omega#Part Two#Sub]], [[ZZ]], [[open_source_models]],\n"
        "[[Dup]], [[Broken]], [[Unreadable#Head]], [[Skipped]] and ![[pic.png]]. ^a1\n"
        # Commented out: no reports unless `check-comments`, but Zeta still gains a backlink.
        "%%\n[[Zeta#Old part]] [[Never written]]\n\n[[Omega]]\n%%\n"
    ),
    "Beta.md": (
        "Links [[alpha]] [[Alpha#intro]] [[Alpha#^A1]] [[First One]] [[Open Source Models]]"
        " [x](Omega.md#Part%20One) %% [[Gamma]] %%\n"
        "<!-- vaultsync-ignore L001 --> [[Broken Too]]\n"
    ),
    "Gamma.md": "Only [[Beta]].\n\n<!-- vaultsync:begin backlinks -->\n- [[Beta]]\n"
    "<!-- vaultsync:end backlinks -->\n",
    "Mid.md": "[[Omega]] [[Zeta]] #tag\n",
    "Omega.md": (
        "# Part One\n## Sub\n# Part Two\n\nBack to [[Alpha#Intro]], [[Alpha#Gone]],"
        " [[Beta]] and [[AL]]; [[open-source-models]] [[Dup]]\n"
    ),
    "Open Source Models.md": "[[Alpha]] [[Mid]]\n%% [[Alpha#Gone]] [[alpha]] [[Nope]] %%\n",
    "Zeta.md": (
        "---\naliases: ZZ\n---\n## Details\n\nText ^z1\n\n[[Alpha#^a1]] [[Alpha#^nope]]"
        " [[First One]] [[Gamma]] [[Mid#Nothing]]\n"
    ),
    "Unreadable.md": b"\xff\xfe not UTF-8 [[Alpha]]\n",
    "x/Dup.md": "[[Alpha]]\n",
    "y/Dup.md": "[[Beta]]\n",
    "daily/2024-01-01.md": "[[Alpha]] [[Zeta#Details]] [[Gone Daily]]\n",
    "templates/Skipped.md": "[[Nothing Here]]\n",
}


def _flat(diagnostics: list[Diagnostic]) -> list[tuple[Any, ...]]:
    return [flatten(d) for d in diagnostics]


def _selection(root: Path) -> tuple[Path, Any, Selection]:
    target = resolve_target([root], None, use_cache=False)
    config = target.config
    return target.root, config, Selection.build(config.select, config.ignore, config.severity)


def _classic(root: Path) -> list[tuple[Any, ...]]:
    """The diagnostics of one process: engine.load and engine.check."""
    root, config, selection = _selection(root)
    vault = engine.load(root, config, use_cache=False)
    return _flat(engine.check(vault, selection))


def _in_halves(root: Path) -> list[tuple[Any, ...]] | None:
    root, config, selection = _selection(root)
    found = shards.check(root, config, selection, discover(root, config))
    return None if found is None else _flat(found[1])


@pytest.fixture
def two_halves(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Small vaults are checked in halves too; records why a check went the classic way."""
    monkeypatch.setattr(shards, "THRESHOLD", 2)
    monkeypatch.setenv("VAULTSYNC_JOBS", "2")
    fallbacks: list[str] = []
    real = shards._classic

    def classic(*args: Any, **kwargs: Any) -> Any:
        fallbacks.append("classic")
        return real(*args, **kwargs)

    monkeypatch.setattr(shards, "_classic", classic)
    return fallbacks


@pytest.mark.parametrize("check_comments", [False, True])
def test_halves_report_what_one_process_reports(
    tmp_path: Path, two_halves: list[str], check_comments: bool
) -> None:
    files = dict(NOTES)
    if check_comments:  # links in `%%` comments are reported too
        files[".vaultsync.toml"] = f"{CONFIG}\n[links]\ncheck-comments = true\n"
    root = write_vault(tmp_path / "v", files)
    (root / "pic.png").write_bytes(b"\x89PNG\r\n")
    expected = _classic(root)
    codes = {row[2] for row in expected}
    # The vault exercises what crosses halves: subpaths, aliases, variants, ties,
    # unreadable notes, backlinks sections, excluded notes, commented-out links.
    assert {"L001", "L002", "L003", "L004", "L005", "L006", "S001", "V001"} <= codes
    commented = {"Never written", "Nope"}
    broken = {row[5]["target"] for row in expected if row[2] == "L001"}
    assert broken & commented == (commented if check_comments else set())
    assert _in_halves(root) == expected
    assert two_halves == [], "the check went the classic way"


@pytest.mark.parametrize(
    "options",
    [
        [],  # the second half's lines come back rendered (shards.TextPart)
        ["-q"],
        ["--statistics"],
        ["--format", "json"],
        ["--format", "github"],
        ["--select", "L003,L004"],
    ],
)
def test_the_report_of_halves_is_the_report_of_one_process(
    tmp_path: Path,
    two_halves: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
) -> None:
    root = write_vault(tmp_path / "v", NOTES)
    outputs = []
    for jobs in ("1", "2"):
        monkeypatch.setenv("VAULTSYNC_JOBS", jobs)
        code = main(["check", str(root), "--no-cache", *options])
        outputs.append((code, capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    # A report names the notes; --statistics prints only the table of rules.
    assert ("\tL003\t" if "--statistics" in options else "Alpha.md") in outputs[0][1]
    assert two_halves == []


def test_a_note_with_an_index_block_is_checked_the_classic_way(
    tmp_path: Path, two_halves: list[str]
) -> None:
    # An index block lists notes by their properties, which a half does not send.
    notes = dict(NOTES)
    notes["Zeta.md"] = str(notes["Zeta.md"]) + (
        '\n<!-- vaultsync:begin index folder="" -->\n<!-- vaultsync:end index -->\n'
    )
    root = write_vault(tmp_path / "v", notes)
    assert _in_halves(root) == _classic(root)
    assert two_halves == ["classic"]


def _with_checker(
    monkeypatch: pytest.MonkeyPatch,
    checker: Callable[[engine.Context, NoteEntry], Iterator[Diagnostic]],
) -> None:
    monkeypatch.setattr(engine, "CHECKERS", [*CHECKERS, checker])


def test_a_rule_reading_a_note_of_the_other_half_makes_it_classic(
    tmp_path: Path, two_halves: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(tmp_path / "v", NOTES)

    def counts_links_of_zeta(ctx: engine.Context, note: NoteEntry) -> Iterator[Diagnostic]:
        zeta = ctx.vault.notes["Zeta.md"].parsed  # the second half's note, read from anywhere
        assert zeta is not None
        if note.path == "Alpha.md":
            message = f"Zeta has {len(zeta.links)} links"
            yield Diagnostic(note.path, zeta.end, "X001", message, Severity.WARNING)

    _with_checker(monkeypatch, counts_links_of_zeta)
    expected = _classic(root)
    assert any(row[2] == "X001" and row[3] == "Zeta has 5 links" for row in expected)
    assert _in_halves(root) == expected
    assert two_halves == ["classic"]


def test_a_child_that_dies_leaves_the_check_to_the_classic_way(
    tmp_path: Path, two_halves: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(tmp_path / "v", NOTES)
    expected = _classic(root)
    parent = os.getpid()

    def dies_in_the_child(ctx: engine.Context, note: NoteEntry) -> Iterator[Diagnostic]:
        if os.getpid() != parent:
            os._exit(3)  # as if killed mid-check
        yield from ()

    _with_checker(monkeypatch, dies_in_the_child)
    assert _in_halves(root) == expected
    assert two_halves == ["classic"]


def test_a_vault_too_small_for_halves_is_left_to_one_process(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", NOTES)
    assert _in_halves(root) is None  # the real threshold: thousands of notes


_NAMES = ["Apple", "apple pie", "Banana", "Cherry", "Date", "Mango", "Nut", "Olive", "Plum"]
_HEADS = ["Intro", "Part One", "Details", "Sub"]


@st.composite
def _vaults(draw: st.DrawFn) -> dict[str, str | bytes]:
    """Small vaults whose notes link to each other's headings, blocks and aliases."""
    files: dict[str, str | bytes] = {}
    names = draw(st.lists(st.sampled_from(_NAMES), min_size=2, max_size=len(_NAMES), unique=True))
    for name in names:
        folder = draw(st.sampled_from(["", "a/", "b/"]))
        lines = []
        if draw(st.booleans()):
            lines.append(f"---\naliases: [{draw(st.sampled_from(_NAMES))} x]\n---")
        for _ in range(draw(st.integers(0, 4))):
            kind = draw(st.integers(0, 6))
            other = draw(st.sampled_from([*_NAMES, "Gone"]))
            spelled = draw(st.sampled_from([other, other.lower(), other.replace(" ", "_")]))
            head = draw(st.sampled_from(_HEADS))
            lines.append(
                [
                    f"## {head}",
                    f"[[{spelled}]]",
                    f"[[{spelled}#{head}]]",
                    f"text ^b{len(lines)}",
                    f"[[{spelled}#^b{draw(st.integers(0, 3))}]]",
                    f"[[{other} x]]",
                    f"%% [[{spelled}#{head}]] %%",  # commented out
                ][kind]
            )
        files[f"{folder}{name}.md"] = "\n\n".join(lines) + "\n"
    return files


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(files=_vaults())
def test_halves_agree_with_one_process_on_any_vault(
    tmp_path_factory: pytest.TempPathFactory, two_halves: list[str], files: dict[str, str | bytes]
) -> None:
    root = write_vault(tmp_path_factory.mktemp("v"), files)
    assert _in_halves(root) == _classic(root)
    (root / ".vaultsync.toml").write_text("[links]\ncheck-comments = true\n", encoding="utf-8")
    assert _in_halves(root) == _classic(root)


def test_lazy_fixes_work_out_the_edits_an_eager_check_makes(tmp_path: Path) -> None:
    # A text report of halves leaves S001's edits unworked (model.LazyFix); read later,
    # even once the vault's shared data is gone, they are the edits a check makes.
    root, config, selection = _selection(write_vault(tmp_path / "v", NOTES))
    vault = engine.load(root, config, use_cache=False)
    entries = [entry for entry in vault.notes.values() if not entry.excluded]
    eager_ctx = engine.Context(vault, selection)
    eager = [d for entry in entries for d in engine.check_note(eager_ctx, entry)]
    lazy_ctx = engine.Context(vault, selection, lazy_fixes=True)
    lazy = [d for entry in entries for d in engine.check_note(lazy_ctx, entry)]
    vault.memos.clear()
    assert any(isinstance(d.fix, LazyFix) for d in lazy)
    assert lazy == eager
    assert _flat(lazy) == _flat(eager)
    missing = next(d for d in lazy if d.code == "S001" and d.path == "Alpha.md")
    assert missing.fix is not None
    (edit,) = missing.fix.edits
    assert "- [[Beta]]" in edit.new_text and "vaultsync:begin backlinks" in edit.new_text


def _cache_documents(root: Path) -> dict[str, Any]:
    """The parse cache's rows, the snapshot and the results' diagnostics (with those
    of the snapshot and its JSON records, if kept), as plain data (times and tokens left
    out)."""
    import pickle

    from vaultsync.lint.cache import CACHE_DIR, NOTES_FILE
    from vaultsync.lint.delta import DIAGNOSTICS_FILE, JSON_FILE, SNAPSHOT_FILE
    from vaultsync.lint.results import RESULTS_FILE

    folder = root / CACHE_DIR
    packed = []
    for name in (RESULTS_FILE, DIAGNOSTICS_FILE):
        with open(folder / name, "rb") as handle:
            pickle.load(handle)  # its key
            by_note = pickle.load(handle)["by_note"]
        # In report order, each note's diagnostics as they unpickle.
        packed.append([(path, pickle.loads(blob)) for path, blob in by_note.items()])
    with open(folder / SNAPSHOT_FILE, "rb") as handle:
        pickle.load(handle)  # its key
        snapshot = pickle.load(handle)
    for key in ("written_at", "token"):
        snapshot.pop(key)
    maps = snapshot["maps"]
    for key in ("backlinks", "linkers"):
        maps[key] = {target: set(sources) for target, sources in maps[key].items()}
    snapshot["tracker"] = repr(snapshot["tracker"])
    with open(folder / NOTES_FILE, "rb") as handle:
        notes = pickle.load(handle)
    rows = {
        path: (size, mtime, digest) for path, (size, mtime, digest, *_) in notes["rows"].items()
    }
    records = None
    if (folder / JSON_FILE).exists():
        with open(folder / JSON_FILE, "rb") as handle:
            pickle.load(handle)  # its key
            records = pickle.load(handle)
    return {
        "snapshot": snapshot,
        "rows": rows,
        "results": packed[0],
        "diagnostics": packed[1],
        "records": records,
    }


@pytest.mark.parametrize(
    "options",
    [
        [],  # the report is the halves' lines, note by note; no diagnostic rebuilt
        ["-q"],
        ["--statistics"],  # these rebuild the second half's from their packed form
        ["--format", "json"],
        ["--format", "sarif"],
    ],
)
def test_a_first_check_with_the_cache_in_halves_leaves_what_one_process_leaves(
    tmp_path: Path,
    two_halves: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
) -> None:
    # The first check with the cache on runs in halves too, and writes the parse cache,
    # the results and the snapshot that a later check after an edit starts from.
    import shutil
    import time

    one = write_vault(tmp_path / "one", NOTES)
    two = tmp_path / "two"
    shutil.copytree(one, two)
    time.sleep(2.1)  # no note younger than the mtime granularity vouches for
    reports = []
    for root, jobs in ((one, "1"), (two, "2")):
        monkeypatch.setenv("VAULTSYNC_JOBS", jobs)
        runs = []
        for _ in range(2):  # the first check, then a warm one answered from its results
            code = main(["check", str(root), *options])
            runs.append((code, capsys.readouterr().out.replace(str(root), "VAULT")))
        assert runs[0] == runs[1]
        reports.append(runs[0])
    assert reports[0] == reports[1]
    assert reports[0][0] == 1  # the vault has errors
    assert ("\tL003\t" if "--statistics" in options else "Alpha.md") in reports[0][1]
    assert two_halves == []
    documents = _cache_documents(one), _cache_documents(two)
    assert documents[0]["snapshot"] == documents[1]["snapshot"]
    assert documents[0]["rows"].keys() == documents[1]["rows"].keys()
    assert documents[0]["results"] == documents[1]["results"] == documents[1]["diagnostics"]
    assert documents[0]["results"]  # it has some
    # JSON records, kept for a JSON report only, the halves' the same as one process's.
    assert documents[0]["records"] == documents[1]["records"]
    assert (documents[0]["records"] is not None) == ("json" in options)
    assert _part_files(two) == []  # the halves' parse cache rows, copied and removed
    # An edit: both start from their snapshot and agree with a check without the cache.
    for root in (one, two):
        note = root / "Omega.md"
        note.write_text(note.read_text() + "[[Zeta#Gone]] [[open_source_models]]\n")
    after = []
    for root in (one, two):
        main(["check", str(root), "--exit-zero", *options])
        after.append(capsys.readouterr().out.replace(str(root), "VAULT"))
        main(["check", str(root), "--exit-zero", "--no-cache", *options])
        assert capsys.readouterr().out.replace(str(root), "VAULT") == after[-1]
    assert after[0] == after[1] != reports[0][1]


def _part_files(root: Path) -> list[str]:
    from vaultsync.lint.cache import CACHE_DIR

    return sorted(p.name for p in (root / CACHE_DIR).glob(".notes-part-*"))


def test_part_files_of_killed_runs_are_removed_and_a_live_runs_kept(
    tmp_path: Path,
    two_halves: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A first check with the cache writes each half's parse cache rows to a part file
    beside the cache; a run killed before removing its own leaves them, and the next
    first check removes them, but never those of a run still going."""
    import subprocess
    import sys

    from vaultsync.lint.cache import CACHE_DIR

    root = write_vault(tmp_path / "v", NOTES)
    folder = root / CACHE_DIR
    folder.mkdir(parents=True)
    dead = dead_pid()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for pid in (dead, str(live.pid)):
            (folder / f".notes-part-{pid}-1").write_bytes(b"x" * 1000)
        monkeypatch.setenv("VAULTSYNC_JOBS", "2")
        assert main(["check", str(root), "-q"]) == 1
        capsys.readouterr()
        assert _part_files(root) == [f".notes-part-{live.pid}-1"]
    finally:
        live.kill()
        live.wait()
    assert two_halves == []
    # The parse cache the halves wrote is whole: a check of one edited note reads the
    # other notes from it, and says what a check without the cache says.
    note = root / "Mid.md"
    note.write_text(note.read_text() + "[[Nowhere At All]]\n")
    main(["check", str(root), "--exit-zero"])
    with_cache = capsys.readouterr().out
    main(["check", str(root), "--exit-zero", "--no-cache"])
    assert with_cache == capsys.readouterr().out
    assert "Nowhere At All" in with_cache


def test_a_first_check_that_cannot_write_the_parse_cache_still_reports(
    tmp_path: Path,
    two_halves: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A part file that cannot be written (here: a folder stands where it would go)
    leaves the vault without a parse cache, and the report as it is."""
    from vaultsync.lint.cache import CACHE_DIR, NOTES_FILE

    root = write_vault(tmp_path / "v", NOTES)
    monkeypatch.setenv("VAULTSYNC_JOBS", "2")
    assert main(["check", str(root), "--no-cache"]) == 1
    expected = capsys.readouterr().out
    for half in (1, 2):
        (root / CACHE_DIR / f".notes-part-{os.getpid()}-{half}").mkdir(parents=True)
    assert main(["check", str(root)]) == 1
    assert capsys.readouterr().out == expected
    assert not (root / CACHE_DIR / NOTES_FILE).exists()
    assert two_halves == []
