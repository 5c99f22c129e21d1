"""A real `vaultsync watch` process for tests: start, talk HTTP to it, stop it.

Everything has a timeout, so a broken daemon fails a test instead of hanging CI.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.conftest import SECTIONS_ON

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
DEBOUNCE_MS = 40


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, step: float = 0.02) -> Any:
    """Poll until `predicate()` is truthy; its value, or AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(step)


def vault_config(root: Path, extra: str = "", sections: bool = True) -> None:
    """A config with a short quiet period, so tests wait milliseconds, not seconds, and
    (unless `sections` is false) the generated sections the daemon keeps turned on."""
    switch = SECTIONS_ON if sections else ""
    (root / ".vaultsync.toml").write_text(
        f"[watch]\ndebounce-ms = {DEBOUNCE_MS}\n{extra}{switch}", encoding="utf-8"
    )


class Daemon:
    def __init__(self, root: Path, *args: str) -> None:
        self.root = root
        # Files, not pipes: a pipe nobody reads fills up, and a daemon that logs a lot
        # would then hang in write() with the logging lock held.
        self.stdout = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the daemon
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vaultsync", "watch", str(root), *args],
            cwd=REPO,
            stdout=self.stdout,
            stderr=self.stderr,
        )
        try:
            info = wait_until(self._info, START_TIMEOUT, 0.05)
        except AssertionError:
            self.kill()
            out, err = self._communicate(10)
            raise AssertionError(f"daemon did not start:\n{out}\n{err}") from None
        self.port: int = info["port"]
        self.token = (root / ".vaultsync" / "token").read_text(encoding="utf-8").strip()

    def _info(self) -> dict[str, Any] | None:
        if self.proc.poll() is not None:
            raise AssertionError(
                f"daemon exited with {self.proc.returncode}: {self._communicate(10)}"
            )
        try:
            info: dict[str, Any] = json.loads(
                (self.root / ".vaultsync" / "daemon.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            return None
        return info if info.get("pid") == self.proc.pid else None

    def request(
        self,
        method: str,
        path: str,
        body: bytes | dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = "",
    ) -> tuple[int, Any]:
        """(status, decoded JSON body) of one request; token "" = the right one, None = none."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {} if headers is None else dict(headers)
        if token is not None:
            sent.setdefault("Authorization", f"Bearer {token or self.token}")
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            conn.request(method, path, body=data, headers=sent)
            response = conn.getresponse()
            raw = response.read()
            self.last_headers = dict(response.getheaders())
        finally:
            conn.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode("utf-8", "replace")

    def get(self, path: str, **kwargs: Any) -> Any:
        status, body = self.request("GET", path, **kwargs)
        assert status == 200, (status, body)
        return body

    def settled(self, quiet: float = 0.25, timeout: float = 30.0) -> dict[str, Any]:
        """Status once nothing is pending and nothing changed for `quiet` seconds."""
        deadline = time.monotonic() + timeout
        last = self.get("/v1/status")
        since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            status = self.get("/v1/status")
            if status["pending"] or status["generation"] != last["generation"]:
                last, since = status, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return status
        raise AssertionError("the daemon did not settle")

    def events(self, timeout: float = 10.0) -> EventStream:
        return EventStream(self, timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self._communicate(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            out, err = self._communicate(10)
            raise AssertionError(f"daemon ignored signal {sig}:\n{out}\n{err}") from None
        return self.proc.returncode, out, err

    def _communicate(self, timeout: float) -> tuple[str, str]:
        """Wait for the daemon to end; what it printed (stdout, stderr)."""
        self.proc.wait(timeout=timeout)
        return self.output()

    def output(self) -> tuple[str, str]:
        """What the daemon has printed so far (stdout, stderr)."""
        texts = []
        for file in (self.stdout, self.stderr):
            file.seek(0)
            texts.append(file.read().decode("utf-8", "replace"))
        return texts[0], texts[1]

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(AssertionError):
                self.stop()


class EventStream:
    """A server-sent-event subscription, read with a socket timeout."""

    def __init__(self, daemon: Daemon, timeout: float) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=timeout)
        self.conn.request("GET", "/v1/events", headers={"Authorization": f"Bearer {daemon.token}"})
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("content-type", "").startswith("text/event-stream")
        first = self.response.readline()
        assert first.startswith(b":"), first  # the stream is open before we edit anything

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        event, data = "", ""
        while True:
            try:
                line = self.response.readline()
            except TimeoutError:
                return
            if not line:
                return
            text = line.decode("utf-8").rstrip("\n")
            if text.startswith("event: "):
                event = text[7:]
            elif text.startswith("data: "):
                data = text[6:]
            elif not text and event:
                yield event, json.loads(data)
                event, data = "", ""

    def next_event(self, wanted: str, match: Callable[[Any], bool] = lambda d: True) -> Any:
        for event, data in self:
            if event == wanted and match(data):
                return data
        raise AssertionError(f"no {wanted} event arrived")

    def close(self) -> None:
        self.conn.close()
