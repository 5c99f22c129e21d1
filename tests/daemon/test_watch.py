"""The watcher's parts on their own: event mapping, debouncing, incremental variants."""

from __future__ import annotations

import random
from itertools import chain
from pathlib import Path

import pytest

from tests.conftest import imported_by_check, write_vault
from vaultsync.config.settings import Config
from vaultsync.daemon.live import LiveVault
from vaultsync.daemon.watch import Debouncer, FsEvent, to_events
from vaultsync.parse.scanner import parse
from vaultsync.rules import Selection
from vaultsync.vault.index import NoteEntry, count_linkpaths, find_variants
from vaultsync.vault.spellings import VariantTracker

ROOT = "/v"


@pytest.mark.parametrize(
    ("kind", "src", "dest", "is_dir", "expected"),
    [
        ("modified", "/v/a/Note.md", "", False, [FsEvent("a/Note.md")]),
        ("created", "/v/Note.md", "", False, [FsEvent("Note.md")]),
        ("opened", "/v/Note.md", "", False, []),
        ("closed_no_write", "/v/Note.md", "", False, []),
        # The writer's temp file renamed over a note: an edit of the note, nothing else.
        ("moved", "/v/.vaultsync-tmp-1-ab", "/v/Note.md", False, [FsEvent("Note.md")]),
        ("created", "/v/.vaultsync-tmp-1-ab", "", False, []),
        ("modified", "/v/.obsidian/workspace.json", "", False, []),
        ("modified", "/v/.vaultsync/daemon.json", "", False, []),
        ("moved", "/v/A.md", "/v/b/A.md", False, [FsEvent("A.md", "b/A.md")]),
        ("moved", "/v/A.md", "/v/.trash/A.md", False, [FsEvent("A.md")]),
        ("moved", "/v/A.md", "/elsewhere/A.md", False, [FsEvent("A.md")]),
        ("deleted", "/v/sub", "", True, [FsEvent("sub", folder=True)]),
        ("moved", "/v/sub", "/v/other", True, [FsEvent("sub", folder=True)]),
        # A folder's listing changes with every save in it; the file events say what.
        ("modified", "/v/sub", "", True, []),
        ("modified", "/outside/Note.md", "", False, []),
    ],
)
def test_events_map_to_vault_paths(
    kind: str, src: str, dest: str, is_dir: bool, expected: list[FsEvent]
) -> None:
    assert to_events(ROOT, kind, src, dest, is_dir) == expected


def test_debouncer_waits_for_each_file_to_be_quiet() -> None:
    deb = Debouncer(delay=0.1)
    deb.add(FsEvent("a.md"), now=0.0)
    deb.add(FsEvent("b.md"), now=0.05)
    deb.add(FsEvent("a.md"), now=0.08)  # a new save restarts a.md's quiet period
    assert deb.take(0.12, lambda p: True) == []
    assert deb.take(0.16, lambda p: True) == ["b.md"]
    assert deb.next_deadline() == pytest.approx(0.18)
    assert deb.take(0.18, lambda p: True) == ["a.md"]
    assert deb.pending == 0


def test_debouncer_holds_new_and_moved_files_until_the_vault_is_quiet() -> None:
    deb = Debouncer(delay=0.1)
    deb.add(FsEvent("old.md", "new.md"), now=0.0)
    deb.add(FsEvent("x.md"), now=0.05)
    # Structural changes are not "settled" edits: take() leaves them, take_all() gets them
    # once no event came for a whole quiet period.
    assert deb.take(0.2, lambda p: p == "x.md") == ["x.md"]
    assert deb.held == {"old.md", "new.md"}
    assert deb.next_deadline() == pytest.approx(0.15)  # not 0.1: no busy wait meanwhile
    assert not deb.quiet(0.14)
    assert deb.quiet(0.16)
    paths, moves, rescan = deb.take_all()
    assert sorted(paths) == ["new.md", "old.md"]
    assert moves == [("old.md", "new.md")]
    assert not rescan
    deb.add(FsEvent("sub", folder=True), now=1.0)
    assert deb.next_deadline() == pytest.approx(1.1)
    assert deb.take_all()[2] is True


def _entry(path: str, text: str) -> NoteEntry:
    return NoteEntry(path, parse(text))


def test_variant_tracker_matches_find_variants_through_random_changes() -> None:
    rng = random.Random(5)
    spellings = ["Open Source AI", "open_source_ai", "open-source-ai", "OPEN source ai", "Other"]
    names = ["Open Source AI.md", "open_source_ai.md", "Plain.md", "a/Other.md", "snake_one.md"]

    def random_note(path: str) -> NoteEntry:
        links = " ".join(f"[[{rng.choice(spellings)}]]" for _ in range(rng.randint(0, 4)))
        return _entry(path, f"# x\n\n{links}\n")

    notes = {p: random_note(p) for p in rng.sample(names, 3)}
    configured = {"other": "Other"}
    tracker = VariantTracker(notes, configured)
    for _ in range(200):
        old: list[NoteEntry] = []
        new: list[NoteEntry] = []
        path = rng.choice(names)
        if path in notes and rng.random() < 0.3:
            old.append(notes.pop(path))
        else:
            if path in notes:
                old.append(notes[path])
            notes[path] = random_note(path)
            new.append(notes[path])
        tracker.replace(old, new)
        links = chain.from_iterable(e.parsed.links for e in notes.values() if e.parsed)
        counted = count_linkpaths(links)
        assert tracker.canonical == find_variants(notes, counted, configured).canonical


def test_live_vault_incremental_update_equals_a_fresh_load(tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "A.md": "# A\n\n[[B]] [[C#Part]]\n",
            "B.md": "---\naliases: [Bee]\n---\n# B\n",
            "C.md": "# C\n\n## Part\n",
            "sub/D.md": "[[Bee]] [[open_source_ai]]\n",
        },
    )
    selection = Selection.build([], [])
    live = LiveVault(root, Config(), selection)
    live.diagnostics()  # fill the cache, so that stale entries would show
    (root / "C.md").write_text("# C\n\n## Other part\n", encoding="utf-8")
    (root / "B.md").write_text("---\naliases: [Bea]\n---\n# B\n[[A]]\n", encoding="utf-8")
    (root / "sub" / "E.md").write_text("[[Bea]] [[Open Source AI]]\n", encoding="utf-8")
    (root / "A.md").unlink()
    update = live.apply(["C.md", "B.md", "sub/E.md", "A.md"])
    assert update.changed == {"C.md", "B.md", "sub/E.md"}
    assert update.added == {"sub/E.md"}
    assert update.removed == {"A.md"}
    fresh = LiveVault(root, Config(), selection)
    assert live.diagnostics() == fresh.diagnostics()
    assert live.incoming("B.md") == fresh.incoming("B.md")
    # A plain save (no file added or removed) keeps the file set and the index object.
    index = live.vault.index
    (root / "C.md").write_text("# C\n\n## Part\n[[B]]\n", encoding="utf-8")
    update = live.apply(["C.md"])
    assert not update.everything
    assert live.vault.index is index
    assert live.incoming("B.md") == ["C.md"]  # aliases do not resolve: [[Bea]] is no link to B
    assert live.diagnostics() == LiveVault(root, Config(), selection).diagnostics()


def test_a_renamed_heading_breaks_the_links_to_it_at_once(tmp_path: Path) -> None:
    # A plain save keeps the index object, which remembers heading lookups: they must
    # be judged again on the note's new headings, as a fresh load judges them.
    root = write_vault(
        tmp_path / "v",
        {"A.md": "See [[B#Alpha]] and [[B#Beta]]\n", "B.md": "# Top\n\n## Alpha\n"},
    )
    selection = Selection.build([], [])
    live = LiveVault(root, Config(), selection)
    assert [d.message for d in live.diagnostics(["A.md"]) if d.code == "L003"] == [
        'No heading "Beta" in "B.md"'
    ]
    index = live.vault.index
    (root / "B.md").write_text("# Top\n\n## Beta\n", encoding="utf-8")
    live.apply(["B.md"])
    assert live.vault.index is index
    found = [d.message for d in live.diagnostics(["A.md"]) if d.code == "L003"]
    assert found == ['No heading "Alpha" in "B.md"']
    assert live.diagnostics() == LiveVault(root, Config(), selection).diagnostics()


def test_check_does_not_import_the_daemon_stack() -> None:
    """`vaultsync check` starts fast: the watcher and web framework load only for `watch`."""
    assert imported_by_check({"fastapi", "uvicorn", "starlette", "watchdog", "anyio"}) == []


def test_a_rename_first_seen_as_a_removal_still_gets_its_links_mended(tmp_path: Path) -> None:
    # The race behind a storm test failure: an edit of B was queued, B was renamed and
    # edited again before that batch read the disk, so the batch found B gone and C new,
    # with nothing to pair them (their contents differ). The rename's own event, naming
    # both paths, comes in the next batch: the links to B must be mended then.
    from vaultsync.daemon.watch import Worker

    root = write_vault(tmp_path / "v", {"A.md": "See [[B]].\n", "B.md": "# B\n"})
    selection = Selection.build([], [])
    live = LiveVault(root, Config(), selection)
    worker = Worker(live, selection, 10, follow_renames=True, publish=lambda *args: None)
    (root / "B.md").rename(root / "C.md")
    (root / "C.md").write_text("# B\n\nEdited after the move.\n", encoding="utf-8")

    worker.process(["B.md"], [], False)  # the plain-edit batch: B is gone, C has come
    assert (root / "A.md").read_text(encoding="utf-8") == "See [[B]].\n"

    worker.process(["B.md", "C.md"], [("B.md", "C.md")], False)  # the move's own batch
    assert (root / "A.md").read_text(encoding="utf-8") == "See [[C]].\n"
    assert live.incoming("C.md") == ["A.md"]
