"""What the Obsidian plugin (plugin/) needs from the API, against a real daemon.

The plugin's "fix this note" saves the editor and asks for the fix at once, well inside
the daemon's quiet period: the fix must be made on the note as just saved, not skipped
as "changed since it was read", and must keep the words of that save.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_vault
from tests.daemon_harness import Daemon, wait_until

NOTES = {
    "Topic.md": "# Topic\n",
    "Note.md": "# Note\n\nfirst [[topic]]\n",
}


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    root = write_vault(tmp_path / "vault", NOTES)
    # A quiet period far longer than the test: the watcher itself never takes the save in.
    (root / ".vaultsync.toml").write_text("[watch]\ndebounce-ms = 60000\n", encoding="utf-8")
    with Daemon(root) as running:
        wait_until(lambda: running.get("/v1/status")["notes"] == 2)
        yield running


def test_fix_of_a_note_saved_a_moment_ago_fixes_that_save(daemon: Daemon) -> None:
    note = daemon.root / "Note.md"
    note.write_text("# Note\n\nfirst [[topic]]\nsecond [[topic]] typed just now\n", "utf-8")
    status, body = daemon.request(
        "POST", "/v1/fix", {"paths": ["Note.md"], "select": ["L009"], "dry_run": False}
    )
    assert status == 200, body
    assert body["skipped"] == {}
    assert [c["path"] for c in body["changed"]] == ["Note.md"]
    assert body["changed"][0]["fixed"] == {"L009": 2}
    assert note.read_text(encoding="utf-8") == (
        "# Note\n\nfirst [[Topic]]\nsecond [[Topic]] typed just now\n"
    )


def test_dry_run_of_a_note_saved_a_moment_ago_previews_that_save(daemon: Daemon) -> None:
    note = daemon.root / "Note.md"
    saved = "# Note\n\nonly [[topic]] now\n"
    note.write_text(saved, "utf-8")
    status, body = daemon.request(
        "POST", "/v1/fix", {"paths": ["Note.md"], "select": ["L009"], "dry_run": True}
    )
    assert status == 200, body
    assert "-only [[topic]] now\n+only [[Topic]] now\n" in body["changed"][0]["diff"]
    assert note.read_text(encoding="utf-8") == saved
