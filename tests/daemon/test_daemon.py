"""`vaultsync watch` as a user runs it: a real process following real file changes (§9)."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, write_vault
from tests.daemon_harness import Daemon, vault_config, wait_until


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def backlinks_of(path: Path) -> list[str]:
    text = read(path)
    if "vaultsync:begin backlinks" not in text:
        return []
    body = text.split("vaultsync:begin backlinks", 1)[1].split("vaultsync:end backlinks", 1)[0]
    return [line[2:] for line in body.splitlines() if line.startswith("- ")]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = write_vault(
        tmp_path / "vault",
        {
            "Alpha.md": "# Alpha\n\nAbout [[Beta]].\n",
            "Beta.md": "# Beta\n\nPlain.\n",
            "Gamma.md": "# Gamma\n",
            "folder/Delta.md": "# Delta\n\n[[Gamma]]\n",
        },
    )
    vault_config(root)
    return root


def test_startup_state_files_and_clean_sigterm(vault: Path) -> None:
    daemon = Daemon(vault)
    try:
        # The first pass brought every section up to date before the API came up.
        assert backlinks_of(vault / "Beta.md") == ["[[Alpha]]"]
        assert backlinks_of(vault / "Gamma.md") == ["[[Delta]]"]
        token = vault / ".vaultsync" / "token"
        assert stat.S_IMODE(token.stat().st_mode) == 0o600
        assert len(daemon.token) >= 32
        assert daemon.get("/v1/status")["pid"] == daemon.proc.pid
    finally:
        code, out, err = daemon.stop(signal.SIGTERM)
    assert code == 0, err
    assert "Traceback" not in err
    assert "indexed 4 notes" in out
    assert f"API on http://127.0.0.1:{daemon.port}" in out
    assert not (vault / ".vaultsync" / "daemon.json").exists()
    assert not token.exists()


def test_sigint_stops_cleanly(vault: Path) -> None:
    daemon = Daemon(vault)
    code, _, err = daemon.stop(signal.SIGINT)
    assert code == 0, err
    assert "Traceback" not in err


def test_second_daemon_on_the_same_vault_is_refused(vault: Path) -> None:
    with Daemon(vault) as first:
        second = subprocess.run(
            [sys.executable, "-m", "vaultsync", "watch", str(vault)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert f"pid {first.proc.pid}" in second.stderr
        assert "already watching" in second.stderr
        assert first.get("/v1/status")["pid"] == first.proc.pid  # the first one is untouched


def test_a_save_that_adds_a_link_gets_its_backlink_written(vault: Path) -> None:
    with Daemon(vault) as daemon:
        daemon.settled()
        (vault / "Gamma.md").write_text("# Gamma\n\nNow see [[Beta]].\n", encoding="utf-8")
        wait_until(lambda: backlinks_of(vault / "Beta.md") == ["[[Alpha]]", "[[Gamma]]"])
        # The saved note itself keeps exactly what the user wrote, plus its own section.
        assert read(vault / "Gamma.md").startswith("# Gamma\n\nNow see [[Beta]].\n")
        # The daemon's own writes cause no further work: once settled, nothing moves.
        after = daemon.settled()
        written = {p: (vault / p).read_bytes() for p in ("Alpha.md", "Beta.md", "Gamma.md")}
        again = daemon.settled(quiet=0.5)
        assert again["generation"] == after["generation"]
        assert {p: (vault / p).read_bytes() for p in written} == written
        (vault / "Gamma.md").write_text("# Gamma\n", encoding="utf-8")
        wait_until(lambda: backlinks_of(vault / "Beta.md") == ["[[Alpha]]"])


def test_hand_edited_section_is_not_overwritten(vault: Path) -> None:
    with Daemon(vault) as daemon:
        daemon.settled()
        beta = vault / "Beta.md"
        edited = read(beta).replace("- [[Alpha]]", "- [[Alpha]] my own note about it")
        beta.write_text(edited, encoding="utf-8")
        (vault / "Gamma.md").write_text("# Gamma\n\n[[Beta]]\n", encoding="utf-8")
        daemon.settled()
        assert read(beta) == edited
        found = daemon.get("/v1/diagnostics?path=Beta.md")["diagnostics"]
        assert "S004" in [d["code"] for d in found]


def test_edit_during_quiet_period_is_never_lost(vault: Path) -> None:
    with Daemon(vault) as daemon:
        daemon.settled()
        gamma = vault / "Gamma.md"
        for i in range(20):  # saves faster than the quiet period
            gamma.write_text(f"# Gamma\n\nDraft {i} [[Beta]]\n", encoding="utf-8")
        daemon.settled()
        assert read(gamma).startswith("# Gamma\n\nDraft 19 [[Beta]]\n")
        assert backlinks_of(vault / "Beta.md") == ["[[Alpha]]", "[[Gamma]]"]


def test_renames_outside_obsidian_rewrite_links(vault: Path) -> None:
    with Daemon(vault) as daemon:
        daemon.settled()
        # A move (watchdog sees both names) and a delete plus a create of the same bytes.
        os.rename(vault / "Beta.md", vault / "folder" / "Beta Two.md")
        content = (vault / "Gamma.md").read_bytes()
        (vault / "Gamma.md").unlink()
        (vault / "Gamma renamed.md").write_bytes(content)
        daemon.settled()
        assert read(vault / "Alpha.md").startswith("# Alpha\n\nAbout [[Beta Two]].\n")
        assert read(vault / "folder" / "Delta.md").startswith("# Delta\n\n[[Gamma renamed]]\n")
        assert backlinks_of(vault / "folder" / "Beta Two.md") == ["[[Alpha]]"]
        assert backlinks_of(vault / "Gamma renamed.md") == ["[[Delta]]"]


def test_rename_already_followed_by_obsidian_is_not_rewritten_twice(vault: Path) -> None:
    with Daemon(vault) as daemon:
        daemon.settled()
        # What Obsidian does: rename, then rewrite the links itself, all within moments.
        os.rename(vault / "Beta.md", vault / "Beta2.md")
        alpha = vault / "Alpha.md"
        alpha.write_text(read(alpha).replace("[[Beta]]", "[[Beta2|Beta]]"), encoding="utf-8")
        daemon.settled()
        assert read(alpha).startswith("# Alpha\n\nAbout [[Beta2|Beta]].\n")
        assert backlinks_of(vault / "Beta2.md") == ["[[Alpha]]"]


def test_survives_folder_deleted_vanishing_and_unreadable_files(vault: Path) -> None:
    with Daemon(vault) as daemon:
        daemon.settled()
        shutil.rmtree(vault / "folder")
        for i in range(5):  # files that come and go within the quiet period
            flicker = vault / f"Flicker {i}.md"
            flicker.write_text("[[Alpha]]\n", encoding="utf-8")
            flicker.unlink()
        # Files that cannot be read: bad UTF-8, a link to nowhere, no permission (this
        # last one only bites when the tests do not run as root).
        (vault / "Latin1.md").write_bytes(b"# Caf\xe9\n[[Alpha]]\n")
        (vault / "Dangling.md").symlink_to(vault / "nowhere.md")
        locked = vault / "Locked.md"
        locked.write_text("# Locked\n\n[[Alpha]]\n", encoding="utf-8")
        locked.chmod(0)
        try:
            status = daemon.settled()
            assert status["notes"] == 6  # Alpha, Beta, Gamma, Latin1, Dangling, Locked
            assert backlinks_of(vault / "Gamma.md") == []
            for name in ("Latin1.md", "Dangling.md"):
                found = daemon.get(f"/v1/diagnostics?path={name}")["diagnostics"]
                assert [d["code"] for d in found] == ["V001"], name
            assert (vault / "Latin1.md").read_bytes() == b"# Caf\xe9\n[[Alpha]]\n"
            (vault / "Gamma.md").write_text("# Gamma\n\n[[Beta]]\n", encoding="utf-8")
            wait_until(lambda: "[[Gamma]]" in backlinks_of(vault / "Beta.md"))
        finally:
            locked.chmod(0o644)
        assert daemon.proc.poll() is None


def test_once_brings_sections_up_to_date_and_exits(vault: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vaultsync", "watch", str(vault), "--once"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert backlinks_of(vault / "Beta.md") == ["[[Alpha]]"]
    assert not (vault / ".vaultsync" / "daemon.json").exists()
