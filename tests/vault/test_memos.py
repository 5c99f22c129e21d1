"""Per-vault memos: typed keys, made once, and the daemon's drop after an edit keeps
exactly the memos that declare they survive one."""

from __future__ import annotations

from pathlib import Path

import vaultsync
from tests.conftest import write_vault
from vaultsync.vault import sections, templates
from vaultsync.vault.memos import Memo, Memos


def test_a_memo_is_made_once_and_dropped_only_when_an_edit_stales_it() -> None:
    kept: Memo[list[int]] = Memo("test.kept", True)
    stale: Memo[list[int]] = Memo("test.stale", False)
    memos = Memos()
    made = memos.get_or_make(kept, lambda: [1])
    assert memos.get_or_make(kept, lambda: [2]) is made
    memos.put(stale, [3])
    memos.drop_edit_dependent()
    assert memos.get(kept) is made
    assert memos.get(stale) is None
    memos.clear()
    assert memos.get(kept) is None


def test_the_vaults_memos_that_survive_an_edit(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {"A.md": "[[B]]\n", "B.md": "text\n"})
    vault = vaultsync.load(root)
    assert sections.backlink_map(vault) == {"B.md": frozenset({"A.md"})}
    templates.of_vault(vault)
    sections.own_links(vault)
    sections.unresolved_counts(vault)
    vault.memos.drop_edit_dependent()
    # Names, files and settings are unchanged by an edit of contents: these stand (the
    # daemon seeds the backlink map again itself); what was read from contents goes.
    assert repr(vault.memos) == (
        "Memos(['sections.backlinks', 'sections.backlinks-exclude', 'templates.paths'])"
    )
