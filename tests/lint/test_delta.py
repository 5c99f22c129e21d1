"""A check after a few edits starts from the last whole check's snapshot (delta.py).

Each test edits a fixture vault on disk, runs the real `check`, and compares its report
with a check of the same vault from nothing (`--no-cache`): starting from the snapshot
must never change the answer. A spy on `delta.recheck` tells which way it went.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clirun import run_cli
from tests.conftest import SECTIONS_ON, write_vault
from vaultsync.lint import delta

BASE = {
    "Hub.md": "# Hub\n\n## Part one\n\nText ^block1\n\nSee [[Alpha]] and [[open_source_ai]].\n",
    "Alpha.md": "---\ntags: [topic]\n---\n# Alpha\n\n[[Hub#Part one]] [[Hub#^block1]]\n",
    "Beta.md": "---\naliases: [Bee]\n---\n# Beta\n\n[[Hub]] [[Open Source AI]] ![[pic.png]]\n",
    "sub/Gamma.md": "# Gamma\n\n[[Beta]] [[Missing note]] #topic\n",
    "Index.md": (
        "# Index\n\n<!-- vaultsync:begin index tag=topic -->\n<!-- vaultsync:end index -->\n"
    ),
    "Open Source AI.md": "# Open Source AI\n",
    "Unresolved.md": "<!-- vaultsync:begin unresolved -->\n<!-- vaultsync:end unresolved -->\n",
    "pic.png": b"\x89PNG\r\n",
}
# Lint exclusion and backlinks exclusion change which notes count where. Backlinks are
# not switched on: they are kept once some note holds a section (an edit may add the
# first or remove the last), while the unconfigured vault has them on. Links in `%%`
# comments are checked too.
CONFIG = (
    'exclude = ["sub/"]\n\n[links]\ncheck-comments = true\n\n[backlinks]\nexclude = ["Beta.md"]\n'
)

# Bodies an edit may give a note: links gained and lost, headings renamed, tags, an
# alias, a spelling that changes a canonical choice, a section, nothing at all.
BODIES = [
    "# Hub\n\n## Part two\n\nText\n",
    "# Hub\n\n## Part one\n\nText ^block1\n\nSee [[Alpha]] and [[Beta]].\n",
    "[[Hub#Part one]] [[Hub#Nope]] [[Gamma]]\n",
    "---\ntags: [topic, other]\n---\n# Tagged\n",
    "---\ntags: []\n---\nNo tags any more\n",
    "---\naliases: [Bee, Bea]\n---\nRenamed alias\n",
    "[[open-source-ai]] [[open-source-ai]] [[open-source-ai]] [[open-source-ai]]\n",
    "[[Alpha]] [[Missing note]] [[sub/Gamma]]\n",
    "Plain text, no links.\n",
    "",
    "[[Index]]\n<!-- vaultsync:begin backlinks -->\n<!-- vaultsync:end backlinks -->\n",
    '---\nrelated: "[[Alpha]]"\n---\nA property link counts as a backlink\n',
    "[x](Alpha.md) ![[pic.png]] [[Hub#^block1]] [[Hub#^nope]] [[Beta#Beta]]\n",
    "# Hub\n\n## Part one\n\nText ^block2\n\nSee [[Alpha]] and [[open_source_ai]].\n",
    "<!-- vaultsync:begin backlinks -->\n- [[Gamma]]\n<!-- vaultsync:end backlinks -->\n",
    "[[Nowhere]] [[Elsewhere|shown]] %% [[In a comment]] %%\n",
    "%%\n[[Hub#Old part]] [[Never written]]\n\n[[Beta]]\n%%\n[[Hub#Part one]]\n",
]
NOTES = [p for p, content in BASE.items() if isinstance(content, str)]

_PAST = time.time() - 3600


def _age(root: Path) -> None:
    """Make every file an hour old: results of a vault just written are never stored."""
    for path in root.rglob("*"):
        if path.is_file() and ".vaultsync" not in path.parts:
            os.utime(path, (_PAST, _PAST))


def _edit(root: Path, rel: str, text: str, step: int) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    stamp = _PAST + 60 + step  # a new mtime, still old enough to store results
    os.utime(path, (stamp, stamp))


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per attempt to start from the snapshot: True when it answered. (A text
    report from the snapshot stores no results, so the JSON report after it starts from
    the snapshot again.)"""
    answered: list[bool] = []
    real = delta.recheck

    def recording(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        answered.append(result is not None)
        return result

    monkeypatch.setattr(delta, "recheck", recording)
    return answered


def _report(capsys: pytest.CaptureFixture[str], root: Path, *extra: str) -> str:
    code, out, err = run_cli(capsys, "check", str(root), "--format", "json", *extra)
    assert code in (0, 1), err
    return out


def _vault(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    spy: list[bool] | None = None,
    configured: bool = False,
) -> Path:
    files = dict(BASE)
    files[".vaultsync.toml"] = CONFIG if configured else SECTIONS_ON
    root = write_vault(tmp_path / "vault", files)
    _age(root)
    _report(capsys, root)  # the whole check that leaves the snapshot
    assert (root / ".vaultsync" / "cache" / delta.SNAPSHOT_FILE).is_file()
    if spy is not None:
        spy.clear()  # that check found no snapshot to start from
    return root


def _tidy(root: Path, capsys: pytest.CaptureFixture[str], spy: list[bool]) -> None:
    """`fix` the vault, then a whole check of it: the snapshot of the tidy vault."""
    run_cli(capsys, "fix", str(root))
    _age(root)
    _report(capsys, root)
    spy.clear()


def _same_as_fresh(capsys: pytest.CaptureFixture[str], root: Path) -> str:
    """The JSON report, after checking that the text and JSON reports are the fresh ones.

    The text report comes first: it is the one printed from the snapshot's report lines;
    the JSON one is then made from the results that run stored (when it could store).
    """
    text = run_cli(capsys, "check", str(root))
    assert text == run_cli(capsys, "check", str(root), "--no-cache")
    incremental = _report(capsys, root)
    assert incremental == _report(capsys, root, "--no-cache")
    return incremental


def test_a_new_broken_link_is_reported_from_the_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool]
) -> None:
    root = _vault(tmp_path, capsys, spy)
    _edit(root, "Hub.md", f"{BASE['Hub.md']!s}[[Edited link]]\n", 1)
    report = _same_as_fresh(capsys, root)
    assert spy and all(spy)
    assert '"Edited link"' in report


def test_renaming_a_heading_breaks_the_links_into_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool]
) -> None:
    root = _vault(tmp_path, capsys, spy)
    assert "L003" not in _report(capsys, root)
    renamed = BASE["Hub.md"].replace("Part one", "Part two")  # type: ignore[union-attr]
    _edit(root, "Hub.md", renamed, 1)
    report = _same_as_fresh(capsys, root)
    assert spy and all(spy)
    assert '"code": "L003"' in report  # in Alpha.md, which did not change


def test_a_gained_link_makes_the_target_s_backlinks_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool]
) -> None:
    root = _vault(tmp_path, capsys, spy)
    before = _report(capsys, root)
    _edit(root, "sub/Gamma.md", "# Gamma\n\n[[Beta]] [[Index]]\n", 1)
    after = _same_as_fresh(capsys, root)
    assert spy and all(spy)
    assert before != after


def test_commenting_out_a_broken_link_quiets_it_from_the_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool]
) -> None:
    root = _vault(tmp_path, capsys, spy)
    _edit(root, "Alpha.md", "# Alpha\n\n[[Hub#Old part]] [[Hub#^block1]]\n", 1)
    assert '"code": "L003"' in _same_as_fresh(capsys, root)
    _edit(root, "Alpha.md", "# Alpha\n\n%% [[Hub#Old part]] %% [[Hub#^block1]]\n", 2)
    report = _same_as_fresh(capsys, root)
    assert spy and all(spy)
    assert '"code": "L003"' not in report
    (root / ".vaultsync.toml").write_text("[links]\ncheck-comments = true\n", encoding="utf-8")
    spy.clear()
    assert '"code": "L003"' in _same_as_fresh(capsys, root)
    # A setting changed: the first check after it is a whole one (which leaves a new
    # snapshot, even with the settings file written a moment ago, that the next uses).
    assert spy and spy[0] is False


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        ("Beta.md", "---\naliases: [Bea]\n---\n# Beta\n"),  # an alias changed
        # The only other spelling of `Open Source AI` goes: no variants of it are left.
        ("Hub.md", "# Hub\n\n## Part one\n\nText ^block1\n\nSee [[Alpha]].\n"),
    ],
)
def test_vault_wide_changes_check_the_vault_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool], rel: str, text: str
) -> None:
    root = _vault(tmp_path, capsys, spy)
    _edit(root, rel, text, 1)
    _same_as_fresh(capsys, root)
    assert spy and not any(spy)


def test_the_first_backlinks_section_turns_them_on_for_every_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool]
) -> None:
    # Without `[backlinks] enabled`, sections are kept once a note holds one (§6): the
    # edit adding the vault's first, or removing its last, changes S001 everywhere.
    root = _vault(tmp_path, capsys, spy, configured=True)
    assert '"code": "S001"' not in _report(capsys, root)
    alpha = str(BASE["Alpha.md"])
    section = "\n<!-- vaultsync:begin backlinks -->\n<!-- vaultsync:end backlinks -->\n"
    _edit(root, "Alpha.md", alpha + section, 1)
    report = _same_as_fresh(capsys, root)
    assert spy and not any(spy)
    assert '"path": "Hub.md"' in report and '"code": "S001"' in report  # Hub did not change
    _age(root)
    _report(capsys, root)
    spy.clear()
    _edit(root, "Alpha.md", alpha, 2)
    report = _same_as_fresh(capsys, root)
    assert spy and not any(spy)
    assert '"code": "S001"' not in report


def test_added_file_or_changed_attachment_checks_the_vault_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool]
) -> None:
    root = _vault(tmp_path, capsys, spy)
    _edit(root, "New.md", "[[Hub]]\n", 1)
    _same_as_fresh(capsys, root)
    assert spy and not any(spy)
    _age(root)
    _report(capsys, root)
    (root / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    os.utime(root / "pic.png", (_PAST + 5, _PAST + 5))
    spy.clear()
    _same_as_fresh(capsys, root)
    assert spy and not any(spy)


@pytest.mark.parametrize("damage", [b"", b"garbage", None])
def test_a_damaged_snapshot_is_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool], damage: bytes | None
) -> None:
    root = _vault(tmp_path, capsys, spy)
    path = root / ".vaultsync" / "cache" / delta.SNAPSHOT_FILE
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage is None else damage)
    _edit(root, "Hub.md", "[[Edited link]]\n", 1)
    _same_as_fresh(capsys, root)
    assert spy and not any(spy)


@pytest.mark.parametrize(
    "texts",
    [
        pytest.param(lambda texts: [*texts[:-1], None], id="not-text"),
        pytest.param(lambda texts: texts[:-1], id="a-note-s-lines-missing"),
        pytest.param(lambda texts: [*texts, "x.md:1:1: L001 extra\n"], id="lines-of-no-note"),
    ],
)
def test_snapshot_report_lines_that_disagree_are_not_used(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    spy: list[bool],
    texts: Callable[[list[Any]], list[Any]],
) -> None:
    """A snapshot that unpickles but whose report lines (kept note by note) do not fit
    its notes: the check after an edit is a whole one, with the fresh report."""
    import pickle

    root = _vault(tmp_path, capsys, spy)
    path = root / ".vaultsync" / "cache" / delta.SNAPSHOT_FILE
    with open(path, "rb") as handle:
        key = pickle.load(handle)
        document = pickle.load(handle)
    assert len(document["texts"]) == len(document["order"]) > 1
    document["texts"] = texts(document["texts"])
    with open(path, "wb") as handle:
        pickle.dump(key, handle)
        pickle.dump(document, handle)
    # An edit the snapshot answers when it is whole (the test of a new broken link).
    _edit(root, "Hub.md", f"{BASE['Hub.md']!s}[[Edited link]]\n", 1)
    _same_as_fresh(capsys, root)
    assert spy and not any(spy)


def test_a_damaged_parse_cache_row_is_never_trusted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool]
) -> None:
    from tests.lint.test_cache import replace_row
    from vaultsync.lint.cache import NOTES_FILE

    root = _vault(tmp_path, capsys, spy)
    replace_row(root / ".vaultsync" / "cache" / NOTES_FILE, "Hub.md", b"not a pickle")
    _edit(root, "Alpha.md", "[[Hub#Part one]] [[Hub#Elsewhere]]\n", 1)  # reads Hub's headings
    _same_as_fresh(capsys, root)
    assert spy and not any(spy)


@pytest.mark.parametrize("command", [["graph"], ["fix", "--exit-zero"]])
def test_a_note_cached_anew_by_another_command_is_taken_as_the_snapshot_saw_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool], command: list[str]
) -> None:
    # A pre-commit hook runs `fix`, which caches the notes it reads and writes, then
    # `check`: the snapshot's version of each changed note is still in the cache.
    root = _vault(tmp_path, capsys, spy)
    _tidy(root, capsys, spy)  # the hook's `fix` has less to do
    hub = (root / "Hub.md").read_text(encoding="utf-8")
    _edit(root, "Hub.md", hub.replace("Part one", "Part two") + "[[Edited link]]\n", 1)
    code, _out, err = run_cli(capsys, *command, str(root))
    assert code == 0, err
    _same_as_fresh(capsys, root)
    assert spy and all(spy)


def test_a_snapshot_version_no_longer_cached_makes_a_whole_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool]
) -> None:
    from vaultsync.lint.cache import _VERSIONS_KEPT

    root = _vault(tmp_path, capsys, spy)
    for step in range(1, _VERSIONS_KEPT + 3):  # each graph run caches a newer version
        _edit(root, "Hub.md", f"{BASE['Hub.md']!s}\nEdit {step}\n", step)
        code, _out, err = run_cli(capsys, "graph", str(root), "--format", "json")
        assert code == 0, err
    _same_as_fresh(capsys, root)
    assert spy and not any(spy)


def test_a_note_written_back_as_it_was_keeps_the_snapshot_s_version_findable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool]
) -> None:
    # A note restored to the bytes the snapshot saw (an editor's undo, a `git checkout`)
    # gets a new mtime; a command that refreshes the parse cache (`graph`) must keep the
    # row findable by the stat the snapshot has, or the next edit checks the vault whole.
    root = _vault(tmp_path, capsys, spy)
    _edit(root, "Hub.md", str(BASE["Hub.md"]), 1)  # the same bytes, a new mtime
    code, _out, err = run_cli(capsys, "graph", str(root), "--format", "json")
    assert code == 0, err
    _edit(root, "Hub.md", f"{BASE['Hub.md']!s}\n[[Edited link]]\n", 2)
    _same_as_fresh(capsys, root)
    assert spy and all(spy)


def test_the_vault_a_recheck_gives_can_be_read_whole_afterwards(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A fix goes on from the recheck's vault (`Recheck.tracked`) and may read any of its
    # unchanged notes, which are parse-cache rows until read: the cache stays open.
    from vaultsync.config.settings import load_config
    from vaultsync.lint.results import ResultCache
    from vaultsync.rules import Selection

    # No index block, which would read every note's properties while checking.
    files = {"A.md": "[[B]]\n", "B.md": "# B\n", "C.md": "[[B#B]] [[Nowhere]]\n"}
    root = write_vault(tmp_path / "vault", {**files, ".vaultsync.toml": SECTIONS_ON})
    _age(root)
    _report(capsys, root)  # the whole check that leaves the snapshot
    _edit(root, "A.md", "[[B]] [[Edited link]]\n", 1)
    config = load_config(root)
    selection = Selection.build(config.select, config.ignore, dict(config.severity))
    results = ResultCache(root, config, selection, None)
    found = delta.recheck(root, config, selection, results.base_key, (results.files, results.stats))
    assert found is not None and found.tracked is not None
    notes = found.tracked.vault.notes
    assert all(entry.parsed is not None for entry in notes.values())


def test_the_tracker_restored_from_a_snapshot_keeps_counting_like_a_fresh_one(
    tmp_path: Path,
) -> None:
    from vaultsync.config.settings import Config
    from vaultsync.lint.engine import load
    from vaultsync.vault.spellings import VariantTracker

    root = write_vault(tmp_path / "vault", dict(BASE))
    vault = load(root, Config(), use_cache=False)
    configured = {"other": "Other"}

    def counts(tracker: VariantTracker) -> tuple[object, ...]:
        # The stored state pickles its buckets: compare what they hold, in any order.
        return (
            tracker.spellings.as_plain(),
            tracker.names.as_plain(),
            +tracker.styles,
            tracker.canonical,
            tracker.style,
        )

    counted = VariantTracker(vault.notes, configured)
    quick = VariantTracker.of_vault(vault.notes, vault.variants, configured)
    assert counts(quick) == counts(counted)
    restored = VariantTracker.restore(quick.state(), configured)
    assert counts(VariantTracker.restore(quick.state(), configured)) == counts(counted)
    hub = vault.notes["Hub.md"]
    again = load(root, Config(), use_cache=False).notes["Alpha.md"]
    assert restored.replace([hub], [again]) == counted.replace([hub], [again])
    assert counts(restored) == counts(counted)


# VAULTSYNC_DELTA_EXAMPLES=400 for a longer hunt (400 passed when this was written).
@settings(
    max_examples=int(os.environ.get("VAULTSYNC_DELTA_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.lists(
            st.tuples(st.sampled_from(NOTES), st.sampled_from(BODIES)), min_size=1, max_size=3
        ),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.sampled_from(NOTES), max_size=2, unique=True),
    st.booleans(),
)
def test_any_run_of_edits_reports_what_a_fresh_check_does(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    rounds: list[list[tuple[str, str]]],
    named: list[str],
    configured: bool,
) -> None:
    root = _vault(tmp_path_factory.mktemp("delta"), capsys, configured=configured)
    paths = [str(root / name) for name in named]
    step = 0
    for edits in rounds:
        for rel, text in edits:
            step += 1
            _edit(root, rel, text, step)
        _same_as_fresh(capsys, root)
        if paths:  # a pre-commit hook's run, on the same snapshot
            runs = [run_cli(capsys, "check", *extra, *paths) for extra in ([], ["--no-cache"])]
            assert runs[0] == runs[1]


@pytest.mark.parametrize("named", [["Alpha.md"], ["Hub.md", "sub/Gamma.md"]])
def test_checking_named_notes_starts_from_the_whole_check_s_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool], named: list[str]
) -> None:
    # What a pre-commit hook runs: `check` of the staged notes after an edit.
    root = _vault(tmp_path, capsys, spy)
    renamed = BASE["Hub.md"].replace("Part one", "Part two")  # type: ignore[union-attr]
    _edit(root, "Hub.md", renamed, 1)
    paths = [str(root / name) for name in named]

    def check_named(*extra: str) -> str:
        code, out, err = run_cli(capsys, "check", "--format", "json", *extra, *paths)
        assert code in (0, 1), err
        return out

    incremental = check_named()
    assert incremental == check_named("--no-cache")
    assert spy and all(spy)
    assert ("L003" in incremental) == ("Alpha.md" in named)  # Alpha links into Hub#Part one


@pytest.mark.parametrize(
    ("extra", "marker", "rel", "text"),
    [
        # Index.md's block lists the notes tagged #topic: Gamma leaves it.
        ({}, None, "sub/Gamma.md", "# Gamma\n\nno tag now\n"),
        # Both of List.md's markers mention `backlinks`; the block is an index all the same.
        (
            {
                "backlinks/Tagged.md": "---\ntags: [x]\n---\n# Tagged\n",
                "List.md": '<!-- vaultsync:begin index folder="backlinks" tag=x -->\n'
                "<!-- vaultsync:end index -->\n",
            },
            ("List.md", "end index -->", "end index, not backlinks -->"),
            "backlinks/Tagged.md",
            "---\ntags: [y]\n---\n# Tagged\n",
        ),
    ],
)
def test_a_tag_change_refreshes_an_index_block_elsewhere(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    spy: list[bool],
    extra: dict[str, str],
    marker: tuple[str, str, str] | None,
    rel: str,
    text: str,
) -> None:
    root = write_vault(tmp_path / "vault", {**BASE, **extra, ".vaultsync.toml": SECTIONS_ON})
    run_cli(capsys, "fix", str(root))  # fills the index blocks and the backlinks
    if marker is not None:
        note, old, new = marker
        (root / note).write_text((root / note).read_text(encoding="utf-8").replace(old, new))
    _age(root)
    _report(capsys, root)  # the snapshot of the tidy vault
    spy.clear()
    assert '"code": "S002"' not in _report(capsys, root)
    _edit(root, rel, text, 1)
    report = _same_as_fresh(capsys, root)
    assert spy and all(spy)
    assert '"code": "S002"' in report  # the block lists the note no more


@pytest.mark.parametrize(
    "options",
    [
        ["--format", "text"],
        ["--format", "github"],
        ["--format", "sarif"],
        ["--statistics"],
        ["--select", "L", "--format", "json"],
        ["--baseline", "BASELINE"],
    ],
)
def test_every_report_from_the_snapshot_is_the_fresh_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool], options: list[str]
) -> None:
    baseline = tmp_path / "baseline.json"
    options = [str(baseline) if o == "BASELINE" else o for o in options]
    root = _vault(tmp_path, capsys, spy)
    code, _out, err = run_cli(capsys, "check", str(root), "--write-baseline", str(baseline))
    assert code == 0, err
    run_cli(capsys, "check", str(root), *options)  # the snapshot for this selection
    spy.clear()
    _edit(root, "Alpha.md", "[[Hub#Part two]] [[Edited link]]\n", 1)
    incremental = run_cli(capsys, "check", str(root), *options)
    assert incremental == run_cli(capsys, "check", str(root), *options, "--no-cache")
    assert spy and all(spy)
    assert "Edited link" in incremental[1] or "--statistics" in options


@pytest.mark.parametrize("damage", [b"garbage", None])
def test_snapshot_diagnostics_gone_still_give_the_fresh_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spy: list[bool], damage: bytes | None
) -> None:
    # The text report never reads them; a JSON one needs them, and checks the vault whole.
    root = _vault(tmp_path, capsys, spy)
    path = root / ".vaultsync" / "cache" / delta.DIAGNOSTICS_FILE
    if damage is None:
        path.unlink()
    else:
        path.write_bytes(damage)
    _edit(root, "Hub.md", f"{BASE['Hub.md']!s}[[Edited link]]\n", 1)
    text = run_cli(capsys, "check", str(root))
    assert text == run_cli(capsys, "check", str(root), "--no-cache")
    assert spy == [True]
    assert _report(capsys, root) == _report(capsys, root, "--no-cache")
    assert spy == [True, True]  # it answered, but its diagnostics could not be read


def test_a_tracker_state_of_another_shape_is_refused() -> None:
    # Plain counts where buckets belong (an older snapshot's state): restoring them as
    # empty counts would judge canonical spellings wrongly, so they are refused.
    from vaultsync.vault.spellings import VariantTracker

    plain = ({"open source ai": {"open-source-ai": 2}}, {}, {}, {})
    with pytest.raises(TypeError):
        VariantTracker.restore(plain, {})
