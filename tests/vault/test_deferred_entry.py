"""A DeferredEntry: a real NoteEntry whose parsed note comes from a typed source on first
read, once; a source that cannot give it raises to the strategy that built the entry."""

from __future__ import annotations

import pytest

from vaultsync.parse.scanner import parse
from vaultsync.vault.index import DeferredEntry, NoteEntry


class _Row:
    def __init__(self) -> None:
        self.loads = 0

    def load(self, path: str) -> NoteEntry:
        self.loads += 1
        return NoteEntry(path, parse("# Top\n[[B]]\n"), None, False, True, "d1")


class _Elsewhere(Exception):
    pass


class _Remote:
    def load(self, path: str) -> NoteEntry:
        raise _Elsewhere(path)


def test_a_deferred_note_is_loaded_once_on_first_read() -> None:
    source = _Row()
    entry = DeferredEntry("f/A.md", source, excluded=False, aliases=["Alias"])
    assert isinstance(entry, NoteEntry)
    assert (entry.name, entry.folder, entry.aliases, entry.excluded) == ("A", "f", ["Alias"], False)
    assert source.loads == 0  # what indexing reads needs no load
    assert entry.parsed is not None and [h.text for h in entry.parsed.headings] == ["Top"]
    assert (entry.error, entry.bom, entry.digest) == (None, True, "d1")
    assert entry.parsed is entry.parsed
    assert source.loads == 1


def test_a_note_that_is_not_here_raises_on_read_and_keeps_what_was_given() -> None:
    entry = DeferredEntry(
        "B.md", _Remote(), excluded=True, aliases=[], name="B", read=("gone", False, "d2")
    )
    assert (entry.error, entry.bom, entry.digest, entry.name) == ("gone", False, "d2", "B")
    with pytest.raises(_Elsewhere, match=r"B\.md"):
        _ = entry.parsed
    with pytest.raises(_Elsewhere):  # every read, not only the first
        _ = entry.parsed
    assert "B.md" in repr(entry)  # repr never loads


def test_a_deferred_entry_is_frozen() -> None:
    entry = DeferredEntry("A.md", _Row(), excluded=False, aliases=[])
    with pytest.raises(AttributeError):
        entry.path = "B.md"  # type: ignore[misc]
