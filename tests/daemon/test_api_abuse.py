"""Abusing the plugin API of a real `vaultsync watch` process (§9): nobody in, nothing out.

- A property-based tester drives every operation of the shipped OpenAPI document
  (schemas/openapi.json) with generated query values and bodies, traversal payloads
  included: never a 5xx, never a hang, only documented status codes. (Hand-rolled on
  hypothesis rather than schemathesis: same idea, no new dependency, runs in seconds.)
- Forged tokens, DNS-rebinding Hosts, cross-origin requests, path traversal in every path
  parameter (encoded too), slow and oversized bodies, 200 concurrent connections.
- A bounded soak: a steady stream of edits while a plugin polls; the daemon's memory stays
  flat and its vault equals a one-shot `fix` at the end.
test_api.py holds the plain cases (missing token, one foreign Origin, ...).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO, write_vault
from tests.daemon_harness import Daemon, vault_config, wait_until

# Slow (fuzz and soak): plain `pytest` deselects it; the full run (README, .ci/run) has it.
pytestmark = pytest.mark.slow

NOTES = {
    "Home.md": "# Home\n\nSee [[Topic]] and [[Missing]].\n",
    "Topic.md": "# Topic\n\n## Part\n",
    "sub/Émoji.md": "# E\n\n😀 x [[Nowhere]] and [[Topic#Part]]\n",
}
SECRET = "secret [[Home]] words\n"
OPENAPI: dict[str, Any] = json.loads((REPO / "schemas" / "openapi.json").read_text("utf-8"))
REQUEST_TIMEOUT = 20.0  # a hang fails the test instead of stalling CI
EXAMPLES = int(os.environ.get("VAULTSYNC_FUZZ_EXAMPLES", "40"))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    base = tmp_path_factory.mktemp("abuse")
    (base / "secret.md").write_text(SECRET, encoding="utf-8")  # next to the vault
    root = write_vault(base / "vault", NOTES)
    (root / "escape.md").symlink_to(base / "secret.md")
    vault_config(root)
    with Daemon(root) as running:
        running.settled()
        yield running


def _raw(
    daemon: Daemon, method: str, target: str, headers: dict[str, str], body: bytes = b""
) -> int:
    """Status of one request sent exactly as given (http.client adds Host unless given)."""
    conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=REQUEST_TIMEOUT)
    try:
        conn.putrequest(method, target, skip_host="Host" in headers, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        if body:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    assert SECRET.strip() not in data.decode("utf-8", "replace")
    return response.status


def _auth(daemon: Daemon) -> dict[str, str]:
    return {"Authorization": f"Bearer {daemon.token}"}


def _alive(daemon: Daemon) -> None:
    assert daemon.proc.poll() is None, "the daemon died"
    assert daemon.get("/v1/status")["notes"] >= 3


# --- property-based: every operation of the OpenAPI document -----------------------------

TRAVERSAL = [
    "../secret.md",
    "../../../../etc/passwd",
    "/etc/passwd",
    "sub/../../secret.md",
    "..\\secret.md",
    "escape.md",  # a symlink to ../secret.md
    "%2e%2e/secret.md",
    "..%2fsecret.md",
    "Home.md\x00.png",
    "Home.md/../../secret.md",
    "~/.ssh/id_rsa",
    "file:///etc/passwd",
    "C:\\Windows\\win.ini",
    "sub/Émoji.md",
    "Home.md",
    "x" * 5000,
]
path_values = st.one_of(
    st.sampled_from(TRAVERSAL), st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | path_values,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
fix_bodies = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "paths": st.one_of(st.lists(path_values, max_size=3), json_values),
            "select": st.one_of(
                st.lists(st.sampled_from(["L", "L002", "S", "bogus", ""])), json_values
            ),
            "dry_run": st.one_of(st.just(True), json_values),
            "extra": json_values,
        },
    ).map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)
OPERATIONS = sorted(
    (path, method.upper())
    for path, item in OPENAPI["paths"].items()
    for method in item
    if path != "/v1/events"  # a stream that never ends; test_api reads it
)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, bytes, set[str]]:
    """(method, target, body, documented status codes) for one generated request."""
    path, method = draw(st.sampled_from(OPERATIONS))
    operation = OPENAPI["paths"][path][method.lower()]
    query = [
        f"{quote(p['name'])}={quote(draw(path_values), safe='')}"
        for p in operation.get("parameters", [])
        if p["in"] == "query" and (p.get("required") or draw(st.booleans()))
    ]
    if draw(st.booleans()):
        query.append(
            f"{quote(draw(st.text(max_size=6)), safe='')}={quote(draw(path_values), safe='')}"
        )
    body = draw(fix_bodies) if "requestBody" in operation else b""
    target = path + ("?" + "&".join(query) if query else "")
    return method, target, body, set(operation["responses"])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(request=requests())
def test_generated_requests_get_documented_answers(
    daemon: Daemon, request: tuple[str, str, bytes, set[str]]
) -> None:
    method, target, body, documented = request
    headers = {**_auth(daemon), "Content-Type": "application/json"}
    status = _raw(daemon, method, target, headers, body)
    assert status < 500, (method, target, body[:200])
    assert str(status) in documented, (status, method, target, body[:200])


def test_the_vault_and_its_surroundings_survive_the_fuzzing(daemon: Daemon) -> None:
    assert (daemon.root.parent / "secret.md").read_text(encoding="utf-8") == SECRET
    _alive(daemon)


# --- hand-written: tokens, hosts, origins -------------------------------------------------


def test_forged_tokens_are_401(daemon: Daemon) -> None:
    token = daemon.token
    forged = [
        f"Bearer {token[:-1]}{'a' if token[-1] != 'a' else 'b'}",
        f"Bearer {token[:8]}",
        f"bearer{token}",
        f"Basic {token}",
        f"Bearer {token} extra",
        f"Bearer {token.upper() if token.upper() != token else token.lower()}",
        "Bearer " + "A" * 20_000,
        "Bearer ",
    ]
    for value in forged:
        assert _raw(daemon, "GET", "/v1/status", {"Authorization": value}) == 401, value
    # The token in the query string or a cookie is no token.
    assert _raw(daemon, "GET", f"/v1/status?token={token}", {}) == 401
    assert _raw(daemon, "GET", "/v1/status", {"Cookie": f"token={token}"}) == 401


@pytest.mark.parametrize(
    "host",
    [
        "localhost.evil.example:{port}",
        "127.0.0.1.nip.io:{port}",
        "evil.example:{port}",
        "127.0.0.2:{port}",
        "0.0.0.0:{port}",
        "LOCALHOST:{port}0",
        "127.0.0.1:{port}@evil.example",
        "",
    ],
)
def test_rebinding_hosts_are_403(daemon: Daemon, host: str) -> None:
    headers = {**_auth(daemon), "Host": host.format(port=daemon.port)}
    status = _raw(daemon, "GET", "/v1/status", headers)
    assert status in (400, 403), (host, status)


def test_request_without_host_header_is_refused(daemon: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(
            f"GET /v1/status HTTP/1.0\r\nAuthorization: Bearer {daemon.token}\r\n\r\n".encode()
        )
        reply = sock.recv(4096).decode("latin-1")
    assert reply.split(" ", 2)[1] in ("400", "403"), reply[:200]


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "app://obsidian.md.evil.example",
        "http://127.0.0.1",
        "null",
        "file://",
    ],
)
def test_cross_origin_requests_and_preflights_are_refused(daemon: Daemon, origin: str) -> None:
    headers = {**_auth(daemon), "Origin": origin, "Content-Type": "application/json"}
    assert _raw(daemon, "POST", "/v1/fix", headers, b'{"dry_run": false}') == 403
    preflight = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    assert _raw(daemon, "OPTIONS", "/v1/fix", preflight) == 403


# --- hand-written: traversal in every path parameter --------------------------------------

PATH_PARAMETERS = sorted(
    (path, p["name"])
    for path, item in OPENAPI["paths"].items()
    for operation in item.values()
    for p in operation.get("parameters", [])
    if p["in"] == "query" and p["name"] == "path"
)


@pytest.mark.parametrize(("endpoint", "name"), PATH_PARAMETERS)
@pytest.mark.parametrize("value", [v for v in TRAVERSAL if v not in ("Home.md", "sub/Émoji.md")])
def test_traversal_in_every_path_parameter(
    daemon: Daemon, endpoint: str, name: str, value: str
) -> None:
    status = _raw(daemon, "GET", f"{endpoint}?{name}={quote(value, safe='')}", _auth(daemon))
    # 400: outside the vault or not a plain path; 404: a plain path naming no note.
    assert status in (400, 404), (endpoint, value, status)
    # Clear escapes must be 400; `..%2fsecret.md` is decoded once, to a plain (missing) name.
    if "../" in value or "\\" in value or value.startswith("/") or value == "escape.md":
        assert status == 400, (endpoint, value)


def test_traversal_in_fix_paths(daemon: Daemon) -> None:
    for value in TRAVERSAL[:6]:
        body = json.dumps({"paths": [value], "dry_run": False}).encode()
        status = _raw(
            daemon, "POST", "/v1/fix", {**_auth(daemon), "Content-Type": "application/json"}, body
        )
        assert status == 400, (value, status)
    assert (daemon.root.parent / "secret.md").read_text(encoding="utf-8") == SECRET


# --- hand-written: bodies ------------------------------------------------------------------


def test_oversized_chunked_body_is_413(daemon: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(
            (
                f"POST /v1/fix HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\n"
                f"Authorization: Bearer {daemon.token}\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n"
            ).encode()
        )
        chunk = b"x" * 65536
        try:
            for _ in range(40):  # 2.5 MiB, no Content-Length to trust
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server stopped reading: fine, as long as it answered 413
        reply = sock.recv(4096).decode("latin-1")
    assert reply.split(" ", 2)[1] == "413", reply[:200]


@pytest.mark.parametrize("length", ["-1", "abc", "1e9", str(10**30)])
def test_bad_content_length_is_refused(daemon: Daemon, length: str) -> None:
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(
            (
                f"POST /v1/fix HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\n"
                f"Authorization: Bearer {daemon.token}\r\nContent-Length: {length}\r\n\r\n{{}}"
            ).encode()
        )
        reply = sock.recv(4096).decode("latin-1")
    assert reply.split(" ", 2)[1] in ("400", "413"), reply[:200]


@pytest.mark.parametrize("number", ["NaN", "-Infinity", "1e999"])
def test_non_finite_numbers_in_a_body_are_a_plain_422(daemon: Daemon, number: str) -> None:
    # Python's JSON reader accepts NaN and Infinity; echoing them back in the error made
    # the reply itself fail (a 500 and a traceback in the daemon's log per request).
    body = f'{{"paths": [{number}], "extra": {{"x": [{number}]}}}}'.encode()
    status = _raw(
        daemon,
        "POST",
        "/v1/fix",
        {
            "Host": f"127.0.0.1:{daemon.port}",
            "Authorization": f"Bearer {daemon.token}",
            "Content-Type": "application/json",
        },
        body,
    )
    assert status == 422
    assert "Traceback" not in daemon.output()[1]


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_slow_bodies_do_not_stop_other_clients(daemon: Daemon) -> None:
    """Twenty clients dribble a body a byte at a time; everyone else is still served."""
    baseline = _open_fds(daemon.proc.pid)
    slow: list[socket.socket] = []
    try:
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", daemon.port), timeout=REQUEST_TIMEOUT)
            sock.sendall(
                (
                    f"POST /v1/fix HTTP/1.1\r\nHost: 127.0.0.1:{daemon.port}\r\n"
                    f"Authorization: Bearer {daemon.token}\r\nContent-Length: 100000\r\n\r\n{{"
                ).encode()
            )
            slow.append(sock)
        for _ in range(5):
            for sock in slow:
                sock.sendall(b" ")
            started = time.monotonic()
            _alive(daemon)
            assert time.monotonic() - started < 5.0, "a slow body held up another client"
            time.sleep(0.2)
    finally:
        for sock in slow:
            sock.close()
    # The abandoned connections are released.
    wait_until(lambda: _open_fds(daemon.proc.pid) <= baseline + 2, timeout=15)


def test_two_hundred_concurrent_connections(daemon: Daemon) -> None:
    baseline = _open_fds(daemon.proc.pid)
    barrier = threading.Barrier(200, timeout=30)

    def one(_: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.connect()
            barrier.wait()  # all 200 are open at once before any asks
            conn.request("GET", "/v1/status", headers=_auth(daemon))
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=200) as pool:
        statuses = list(pool.map(one, range(200)))
    assert statuses == [200] * 200
    assert time.monotonic() - started < 60
    _alive(daemon)
    wait_until(lambda: _open_fds(daemon.proc.pid) <= baseline + 2, timeout=15)


def test_vault_untouched_outside_after_all(daemon: Daemon) -> None:
    assert (daemon.root.parent / "secret.md").read_text(encoding="utf-8") == SECRET
    assert (daemon.root / "escape.md").is_symlink()
    _alive(daemon)


# --- soak: a steady stream of edits, memory flat, convergence at the end ------------------

SOAK_NOTES = 60
SOAK_PHASE_SECONDS = 4.0  # two phases; bounded by time and by count
SOAK_PHASE_OPS = 120
SOAK_GROWTH_MB = 15.0


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _notes(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.md"))
        if ".vaultsync" not in p.parts
    }


def _edit_phase(daemon: Daemon, rng: random.Random, counter: list[int]) -> None:
    """A user typing in one note after another, while a plugin reads diagnostics."""
    deadline = time.monotonic() + SOAK_PHASE_SECONDS
    for op in range(SOAK_PHASE_OPS):
        if time.monotonic() > deadline:
            break
        name = f"Note {rng.randrange(SOAK_NOTES):02d}.md"
        path = daemon.root / name
        text = path.read_text(encoding="utf-8")
        head, _, rest = text.partition("\n")
        counter[0] += 1
        if rng.random() < 0.3 and "\nedit " in text:  # take an earlier edit back out
            lines = rest.split("\n")
            lines.remove(next(line for line in lines if line.startswith("edit ")))
            rest = "\n".join(lines)
        else:
            rest = f"edit {counter[0]} [[Note {rng.randrange(SOAK_NOTES):02d}]]\n{rest}"
        path.write_text(f"{head}\n{rest}", encoding="utf-8")
        if op % 10 == 0:
            daemon.get(f"/v1/diagnostics?path={quote(name)}")
        time.sleep(0.02)


def test_soak_memory_stays_flat_and_the_daemon_converges(tmp_path: Path) -> None:
    rng = random.Random(8)
    root = write_vault(
        tmp_path / "vault",
        {
            f"Note {i:02d}.md": f"# Note {i:02d}\n[[Note {(i * 7 + 1) % SOAK_NOTES:02d}]]\n"
            for i in range(SOAK_NOTES)
        },
    )
    vault_config(root)
    counter = [0]
    with Daemon(root) as daemon:
        daemon.settled()
        _edit_phase(daemon, rng, counter)  # the first phase absorbs one-time allocations
        daemon.settled(quiet=0.5, timeout=60)
        first = _rss_mb(daemon.proc.pid)
        _edit_phase(daemon, rng, counter)
        daemon.settled(quiet=0.5, timeout=60)
        second = _rss_mb(daemon.proc.pid)
        assert second - first < SOAK_GROWTH_MB, f"RSS grew {first:.0f} -> {second:.0f} MB"
        final = _notes(root)
    # Convergence: a one-shot fix of the same vault with the daemon's rules changes nothing.
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".vaultsync"))
    proc = subprocess.run(
        [sys.executable, "-m", "vaultsync", "fix", str(copy), "--select", "S", "--exit-zero"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    fixed = _notes(copy)
    differs = sorted(p for p in final if fixed.get(p) != final[p])
    assert not differs, f"the daemon's vault differs from `fix --select S` in {differs[:5]}"
    assert counter[0] >= 2 * 50  # the stream really ran


@pytest.mark.parametrize("when", ["before start", "while running"])
def test_a_note_symlinked_outside_is_never_read_by_the_daemon(daemon: Daemon, when: str) -> None:
    name = "escape.md"  # made before the daemon started
    if when == "while running":
        name = "late-escape.md"  # seen through the watcher, read by the live index
        (daemon.root / name).symlink_to(daemon.root.parent / "secret.md")

    def reported() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = daemon.get("/v1/diagnostics")["diagnostics"]
        return [d for d in found if d["path"] == name]

    try:
        found = wait_until(reported, timeout=15)
        assert [d["code"] for d in found] == ["V001"], found
        assert "outside the vault" in found[0]["message"]
        assert SECRET.strip() not in json.dumps(daemon.get("/v1/diagnostics"))
        # The secret note links to Home; read through the symlink it would be a backlink.
        assert name not in json.dumps(daemon.get("/v1/backlinks?path=Home.md"))
    finally:
        if when == "while running":
            (daemon.root / name).unlink()
