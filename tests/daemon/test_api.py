"""The plugin API of a real `vaultsync watch` process, over real sockets (§9)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, write_vault
from tests.daemon_harness import Daemon, vault_config, wait_until

NOTES = {
    "Home.md": "# Home\n\nSee [[Topic]] and [[Missing]].\n",
    "Topic.md": "# Topic\n\n## Part\n",
    "sub/Émoji.md": "# E\n\n😀 x [[Nowhere]] and [[Topic#Part]]\n",
}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    root = write_vault(tmp_path_factory.mktemp("api") / "vault", NOTES)
    vault_config(root)
    with Daemon(root) as running:
        running.settled()
        yield running


def test_status(daemon: Daemon) -> None:
    status = daemon.get("/v1/status")
    assert status["notes"] == 3
    assert status["port"] == daemon.port
    assert status["pid"] == daemon.proc.pid


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_missing_or_wrong_token_is_401(daemon: Daemon, token: str | None) -> None:
    for path in ("/v1/status", "/v1/diagnostics", "/v1/events", "/v1/openapi.json"):
        status, body = daemon.request("GET", path, token=token)
        assert status == 401, path
        assert "token" in body["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.example"},
        {"Host": "evil.example:80"},
        {"Host": "127.0.0.1:1"},  # right host, wrong port
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
)
def test_rebinding_host_and_foreign_origin_are_403_even_with_the_token(
    daemon: Daemon, headers: dict[str, str]
) -> None:
    status, _ = daemon.request("GET", "/v1/status", headers=headers)
    assert status == 403
    status, _ = daemon.request("POST", "/v1/fix", {"dry_run": False}, headers=headers)
    assert status == 403


def test_localhost_and_obsidian_origin_are_allowed(daemon: Daemon) -> None:
    status, _ = daemon.request("GET", "/v1/status", headers={"Host": f"localhost:{daemon.port}"})
    assert status == 200
    status, _ = daemon.request("GET", "/v1/status", headers={"Origin": "app://obsidian.md"})
    assert status == 200
    assert daemon.last_headers.get("access-control-allow-origin") == "app://obsidian.md"
    # A browser's preflight carries no token; it is answered for allowed origins only.
    status, _ = daemon.request(
        "OPTIONS", "/v1/status", headers={"Origin": "app://obsidian.md"}, token=None
    )
    assert status == 204


@pytest.mark.parametrize(
    "path", ["../outside.md", "/etc/passwd", "sub/../../outside.md", "a\\..\\b.md", ""]
)
def test_paths_outside_the_vault_are_400(daemon: Daemon, path: str) -> None:
    for endpoint in ("diagnostics", "links", "backlinks"):
        status, body = daemon.request("GET", f"/v1/{endpoint}?path={path}")
        assert status == 400, (endpoint, path, body)
    status, _ = daemon.request("POST", "/v1/fix", {"paths": [path], "dry_run": True})
    assert status == 400


def test_symlink_leaving_the_vault_is_400(daemon: Daemon, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("secret [[Home]]\n", encoding="utf-8")
    link = daemon.root / "escape.md"
    link.symlink_to(outside)
    try:
        status, _ = daemon.request("GET", "/v1/links?path=escape.md")
        assert status == 400
    finally:
        link.unlink()


def test_unknown_note_is_404(daemon: Daemon) -> None:
    status, _ = daemon.request("GET", "/v1/links?path=No%20such.md")
    assert status == 404


def test_body_over_one_mib_is_413(daemon: Daemon) -> None:
    big = json.dumps({"paths": ["x" * (1024 * 1024)], "dry_run": True}).encode()
    status, _ = daemon.request("POST", "/v1/fix", big)
    assert status == 413
    # Just under the limit is read (and then rejected only for what it says).
    small = json.dumps({"paths": ["Home.md"], "dry_run": True}).encode()
    status, _ = daemon.request("POST", "/v1/fix", small)
    assert status == 200


def test_diagnostics_ranges_are_zero_based_utf16(daemon: Daemon) -> None:
    found = daemon.get("/v1/diagnostics?path=sub/%C3%89moji.md")["diagnostics"]
    broken = [d for d in found if d["code"] == "L001"]
    assert len(broken) == 1
    # Line 3, after "😀 x " (4 code points, 5 UTF-16 units: the emoji is a surrogate pair).
    assert broken[0]["range"] == {
        "start": {"line": 2, "character": 5},
        "end": {"line": 2, "character": 16},
    }
    everything = daemon.get("/v1/diagnostics")["diagnostics"]
    assert {d["path"] for d in everything} >= {"Home.md", "sub/Émoji.md"}


def test_links_and_backlinks(daemon: Daemon) -> None:
    links = daemon.get("/v1/links?path=Home.md")["links"]
    assert [(k["target"], k["resolved"]) for k in links if not k["generated"]] == [
        ("Topic", "Topic.md"),
        ("Missing", None),
    ]
    backlinks = daemon.get("/v1/backlinks?path=Topic.md")["backlinks"]
    sources = sorted(b["source"] for b in backlinks if not b["generated"])
    assert sources == ["Home.md", "sub/Émoji.md"]


def test_fix_dry_run_writes_nothing_then_fix_writes(daemon: Daemon) -> None:
    note = daemon.root / "Variant.md"
    note.write_text("# V\n\n[[topic]]\n", encoding="utf-8")
    wait_until(lambda: daemon.request("GET", "/v1/links?path=Variant.md")[0] == 200)
    before = note.read_bytes()
    status, body = daemon.request(
        "POST", "/v1/fix", {"paths": ["Variant.md"], "select": ["L009"], "dry_run": True}
    )
    assert status == 200, body
    assert body["dry_run"] is True
    assert [c["path"] for c in body["changed"]] == ["Variant.md"]
    assert "+[[Topic]]" in body["changed"][0]["diff"]
    assert note.read_bytes() == before
    status, body = daemon.request(
        "POST", "/v1/fix", {"paths": ["Variant.md"], "select": ["L009"], "dry_run": False}
    )
    assert status == 200, body
    assert "[[Topic]]" in note.read_text(encoding="utf-8")
    status, body = daemon.request("POST", "/v1/fix", {"select": ["NOPE"]})
    assert status == 400


def test_rescan(daemon: Daemon) -> None:
    status, body = daemon.request("POST", "/v1/rescan")
    assert status == 200
    assert body["notes"] == daemon.get("/v1/status")["notes"]


def test_events_deliver_diagnostics_after_an_edit(daemon: Daemon) -> None:
    stream = daemon.events(timeout=15)
    try:
        (daemon.root / "Topic.md").write_text("# Topic\n\n[[Broken one]]\n", encoding="utf-8")
        data = stream.next_event("diagnostics", lambda d: d["path"] == "Topic.md")
        assert [d["code"] for d in data["diagnostics"] if d["code"].startswith("L")] == ["L001"]
        assert data["diagnostics"][0]["range"]["start"]["line"] == 2
    finally:
        stream.close()


def test_served_openapi_document_is_the_shipped_one(daemon: Daemon) -> None:
    served = daemon.get("/v1/openapi.json")
    shipped = json.loads((REPO / "schemas" / "openapi.json").read_text(encoding="utf-8"))
    assert served == shipped, (
        "regenerate: python -m vaultsync.daemon.api.server > schemas/openapi.json"
    )
    assert set(served["paths"]) >= {
        "/v1/status",
        "/v1/diagnostics",
        "/v1/backlinks",
        "/v1/links",
        "/v1/fix",
        "/v1/rescan",
        "/v1/events",
    }
