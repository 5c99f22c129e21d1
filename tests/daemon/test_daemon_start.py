"""`vaultsync watch` starting from the caches a whole `check` leaves (issue 20): a real
daemon process, real sockets. What it serves must be what a start without the cache
serves; only the way there differs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, aged, write_vault
from tests.daemon_harness import Daemon, vault_config, wait_until

FROM_CACHES = "started from the last whole check's caches"
WHOLE_CHECK_FIRST = "checking the whole vault first"
NOTES = {
    "Alpha.md": "# Alpha\n\nAbout [[Beta]], [[Gamma#Part]] and [[Nowhere]].\n",
    "Beta.md": "# Beta\n\nPlain. ^blk\n",
    "Gamma.md": "# Gamma\n\n## Part\n\nSee [[Beta#^blk]] and [[Beta#Gone]].\n",
    "folder/Delta.md": "# Delta\n\n[[Gamma]] ![[missing.png]]\n",
    "Epsilon.md": "# Epsilon\n\nNothing links here.\n",
}


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def backlinks_of(path: Path) -> list[str]:
    text = read(path)
    if "vaultsync:begin backlinks" not in text:
        return []
    body = text.split("vaultsync:begin backlinks", 1)[1].split("vaultsync:end backlinks", 1)[0]
    return [line[2:] for line in body.splitlines() if line.startswith("- ")]


def check(root: Path) -> None:
    """`vaultsync check` of the whole vault: it leaves the results and the snapshot."""
    done = subprocess.run(
        [sys.executable, "-m", "vaultsync", "check", str(root), "--exit-zero", "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (root / ".vaultsync" / "cache" / "snapshot.pickle").is_file()


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = write_vault(tmp_path / "vault", NOTES)
    vault_config(root)
    return aged(root)


def served(daemon: Daemon) -> dict[str, Any]:
    """Everything the API says about the vault's notes."""
    daemon.settled()
    answers: dict[str, Any] = {"diagnostics": daemon.get("/v1/diagnostics")}
    for note in [*NOTES, "Nowhere.md"]:
        status, body = daemon.request("GET", f"/v1/diagnostics?path={note}")
        answers[f"diagnostics {note}"] = (status, body)
        for what in ("links", "backlinks"):
            answers[f"{what} {note}"] = daemon.request("GET", f"/v1/{what}?path={note}")
    return answers


def stopped(daemon: Daemon) -> str:
    code, _, err = daemon.stop()
    assert code == 0, err
    assert "Traceback" not in err
    return err


def test_warm_start_serves_what_a_start_without_the_cache_serves(vault: Path) -> None:
    check(vault)
    with Daemon(vault, "-v") as warm:
        # The check said which notes lack their backlinks section: the first pass wrote
        # those, and checked no other note.
        assert backlinks_of(vault / "Beta.md") == ["[[Alpha]]", "[[Gamma]]"]
        assert backlinks_of(vault / "Gamma.md") == ["[[Alpha]]", "[[Delta]]"]
        assert backlinks_of(vault / "Epsilon.md") == []
        from_caches = served(warm)
    err = stopped(warm)
    assert f"{FROM_CACHES}: 2 notes to check again" in err
    with Daemon(vault, "-v", "--no-cache") as cold:
        without_cache = served(cold)
    assert FROM_CACHES not in stopped(cold)
    assert from_caches == without_cache
    assert any(d["code"] == "L001" for d in from_caches["diagnostics"]["diagnostics"])


def test_an_edit_made_while_the_daemon_was_down_is_picked_up_at_start(vault: Path) -> None:
    check(vault)
    # Alpha now links Delta instead of Beta, and a block Gamma does not have.
    (vault / "Alpha.md").write_text(
        "# Alpha\n\nAbout [[Delta]], [[Gamma#Part]] and [[Gamma#^nope]].\n", encoding="utf-8"
    )
    with Daemon(vault, "-v") as warm:
        assert backlinks_of(vault / "Beta.md") == ["[[Gamma]]"]
        assert backlinks_of(vault / "folder/Delta.md") == ["[[Alpha]]"]
        found = warm.get("/v1/diagnostics?path=Alpha.md")["diagnostics"]
        assert [d["code"] for d in found] == ["L004"]
        from_caches = served(warm)
    assert FROM_CACHES in stopped(warm)
    with Daemon(vault, "--no-cache") as cold:
        assert served(cold) == from_caches
    stopped(cold)


def test_a_save_after_a_warm_start_rewrites_the_right_sections(vault: Path) -> None:
    check(vault)
    with Daemon(vault, "-v") as warm:
        warm.settled()
        assert backlinks_of(vault / "Beta.md") == ["[[Alpha]]", "[[Gamma]]"]
        (vault / "Alpha.md").write_text(
            "# Alpha\n\nAbout [[Epsilon]] and [[Gamma#Part]].\n", encoding="utf-8"
        )
        wait_until(lambda: backlinks_of(vault / "Epsilon.md") == ["[[Alpha]]"])
        wait_until(lambda: backlinks_of(vault / "Beta.md") == ["[[Gamma]]"])
        assert backlinks_of(vault / "Gamma.md") == ["[[Alpha]]", "[[Delta]]"]
        assert backlinks_of(vault / "folder/Delta.md") == []
        backlinks = warm.get("/v1/backlinks?path=Epsilon.md")["backlinks"]
        assert [b["source"] for b in backlinks if not b["generated"]] == ["Alpha.md"]
        from_caches = served(warm)
    assert FROM_CACHES in stopped(warm)
    with Daemon(vault, "--no-cache") as cold:
        assert served(cold) == from_caches
    stopped(cold)


def test_a_start_without_caches_leaves_them_for_the_next(vault: Path) -> None:
    snapshot = vault / ".vaultsync" / "cache" / "snapshot.pickle"
    with Daemon(vault, "-v") as first:
        first.settled()
        assert backlinks_of(vault / "Beta.md") == ["[[Alpha]]", "[[Gamma]]"]
        assert snapshot.is_file()  # the whole check a first start makes, as `check` does
    err = stopped(first)
    assert WHOLE_CHECK_FIRST in err
    assert FROM_CACHES in err  # the caches that check left
    with Daemon(vault, "-v") as second:
        second.settled()
    err = stopped(second)
    assert WHOLE_CHECK_FIRST not in err
    # The two notes the first start wrote changed since: they and the notes they touch.
    assert FROM_CACHES in err


def test_no_cache_neither_reads_nor_writes_the_caches(vault: Path) -> None:
    with Daemon(vault, "-v", "--no-cache") as daemon:
        daemon.settled()
        assert backlinks_of(vault / "Beta.md") == ["[[Alpha]]", "[[Gamma]]"]
    err = stopped(daemon)
    assert FROM_CACHES not in err
    assert WHOLE_CHECK_FIRST not in err
    assert not (vault / ".vaultsync" / "cache").exists()
