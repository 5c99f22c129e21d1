"""A small Language Server Protocol client for tests: `vaultsync lsp` in a child process,
JSON-RPC over its stdin/stdout, as an editor talks to it.

Everything waits with a timeout, so a broken server fails a test instead of hanging CI.
The server's stderr goes to a file, shown when something fails.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 60.0


def uri(path: Path) -> str:
    return "file://" + quote(str(path))


def path_of(file_uri: str) -> Path:
    return Path(unquote(urlparse(file_uri).path))


# What a capable editor (VS Code, recent Neovim) says it can do.
FULL_CLIENT: dict[str, Any] = {
    "general": {"positionEncodings": ["utf-8", "utf-32", "utf-16"]},
    "workspace": {
        "workspaceFolders": True,
        "symbol": {},
        "applyEdit": True,
        "workspaceEdit": {
            "documentChanges": True,
            "resourceOperations": ["create", "rename", "delete"],
        },
        "didChangeWatchedFiles": {"dynamicRegistration": True},
        "fileOperations": {"willRename": True, "didRename": True},
    },
    "textDocument": {
        "synchronization": {"didSave": True},
        "completion": {"completionItem": {"snippetSupport": False}},
        "hover": {"contentFormat": ["markdown", "plaintext"]},
        "codeAction": {
            "codeActionLiteralSupport": {
                "codeActionKind": {"valueSet": ["quickfix", "source", "source.fixAll"]}
            },
            "isPreferredSupport": True,
            "resolveSupport": {"properties": ["edit"]},
        },
        "rename": {"prepareSupport": True},
        "publishDiagnostics": {"versionSupport": True},
    },
}


class LspError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code: int = error.get("code", 0)
        self.message: str = error.get("message", "")


class LspClient:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vaultsync", "lsp", *args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
        )
        self._ids = itertools.count(1)
        self._lock = threading.Condition()
        self._responses: dict[int | str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []  # every one, in order
        self.server_requests: list[dict[str, Any]] = []
        self.bad_frames: list[bytes] = []  # anything on stdout that is no protocol frame
        self.versions: dict[str, int] = {}
        self._write_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # --- the wire ---------------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        self.send_raw(json.dumps(message).encode("utf-8"))

    def send_raw(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        with self._write_lock:
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            header = out.readline()
            if not header:
                return
            if not header.startswith(b"Content-Length:"):
                self.bad_frames.append(header)
                continue
            length = int(header.split(b":")[1])
            while True:
                line = out.readline()
                if line in (b"\r\n", b""):
                    break
            message = json.loads(out.read(length))
            self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:
            self.server_requests.append(message)
            result: Any = None
            if message["method"] == "workspace/applyEdit":
                result = {"applied": False}
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
            return
        with self._lock:
            if "method" in message:
                message["received"] = time.perf_counter()  # for latency figures
                self.notifications.append(message)
            else:
                self._responses[message["id"]] = message
            self._lock.notify_all()

    def wait(self, predicate: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(
                        f"no answer within {timeout} s (server exit {self.proc.poll()}):\n"
                        + self.log()
                    )
                self._lock.wait(min(left, 0.5))

    def request_raw(self, method: str, params: Any, timeout: float = TIMEOUT) -> dict[str, Any]:
        msg_id = next(self._ids)
        self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
        response: dict[str, Any] = self.wait(lambda: self._responses.pop(msg_id, None), timeout)
        return response

    def request(self, method: str, params: Any, timeout: float = TIMEOUT) -> Any:
        response = self.request_raw(method, params, timeout)
        if "error" in response:
            raise LspError(response["error"])
        return response.get("result")

    def notify(self, method: str, params: Any) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def log(self) -> str:
        self.stderr.seek(0)
        err = self.stderr.read().decode("utf-8", "replace")
        messages = "\n".join(
            n["params"]["message"] for n in self.notifications if n["method"] == "window/logMessage"
        )
        return f"--- client log:\n{messages}\n--- stderr:\n{err[-5000:]}"

    # --- the session --------------------------------------------------------------------------

    def initialize(
        self, folders: list[Path], capabilities: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": uri(folders[0]) if folders else None,
                "capabilities": FULL_CLIENT if capabilities is None else capabilities,
                "workspaceFolders": [{"uri": uri(f), "name": f.name} for f in folders],
            },
        )
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str | None = None) -> str:
        doc = uri(path)
        self.versions[doc] = 1
        content = path.read_bytes().decode("utf-8-sig") if text is None else text
        self.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": doc, "languageId": "markdown", "version": 1, "text": content}},
        )
        return doc

    def change(self, doc: str, changes: list[dict[str, Any]]) -> int:
        version = self.versions[doc] = self.versions[doc] + 1
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": doc, "version": version}, "contentChanges": changes},
        )
        return version

    def save(self, doc: str) -> None:
        self.notify("textDocument/didSave", {"textDocument": {"uri": doc}})

    def close(self, doc: str) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": doc}})

    def files_changed(self, changes: list[tuple[Path, int]]) -> None:
        """workspace/didChangeWatchedFiles: 1 created, 2 changed, 3 deleted."""
        self.notify(
            "workspace/didChangeWatchedFiles",
            {"changes": [{"uri": uri(p), "type": kind} for p, kind in changes]},
        )

    def mark(self) -> int:
        with self._lock:
            return len(self.notifications)

    def diagnostics(
        self, doc: str, since: int = 0, version: int | None = None, timeout: float = TIMEOUT
    ) -> list[dict[str, Any]]:
        """The first diagnostics published for `doc` after notification number `since`
        (for `version` of its buffer, when given)."""

        def found() -> list[dict[str, Any]] | None:
            for note in self.notifications[since:]:
                if note["method"] != "textDocument/publishDiagnostics":
                    continue
                params = note["params"]
                if params["uri"] != doc:
                    continue
                if version is not None and params.get("version") != version:
                    continue
                return [params["diagnostics"]]
            return None

        diagnostics: list[dict[str, Any]] = self.wait(found, timeout)[0]
        return diagnostics

    def published(self, doc: str, since: int = 0) -> list[list[dict[str, Any]]]:
        with self._lock:
            return [
                n["params"]["diagnostics"]
                for n in self.notifications[since:]
                if n["method"] == "textDocument/publishDiagnostics" and n["params"]["uri"] == doc
            ]

    def stop(self) -> int:
        with contextlib.suppress(Exception):
            self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)


@contextlib.contextmanager
def running(*args: str) -> Iterator[LspClient]:
    client = LspClient(*args)
    try:
        yield client
    finally:
        client.stop()


# --- what an editor does with the answers ------------------------------------------------------


def offset(text: str, position: dict[str, int]) -> int:
    """A character offset from an LSP position (0-based line, UTF-16 units)."""
    lines = text.split("\n")
    line = position["line"]
    if line >= len(lines):
        return len(text)
    start = sum(len(x) + 1 for x in lines[:line])
    units = 0
    for i, char in enumerate(lines[line]):
        if units >= position["character"]:
            return start + i
        units += len(char.encode("utf-16-le")) // 2
    return start + len(lines[line])


def position(text: str, at: int) -> dict[str, int]:
    """The LSP position (UTF-16) of a character offset."""
    before = text[:at]
    line = before.count("\n")
    column = before[before.rfind("\n") + 1 :]
    return {"line": line, "character": len(column.encode("utf-16-le")) // 2}


def apply_edits(text: str, edits: list[dict[str, Any]]) -> str:
    spans = sorted(
        (
            (offset(text, e["range"]["start"]), offset(text, e["range"]["end"]), e["newText"])
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def apply_workspace_edit(edit: dict[str, Any]) -> None:
    """Apply a workspace edit to the files on disk (text edits, then renames), keeping each
    file's BOM and bytes outside the edits, as an editor saving them would."""
    changes: list[tuple[str, list[dict[str, Any]]]] = []
    renames: list[tuple[str, str]] = []
    for change in edit.get("documentChanges") or []:
        if change.get("kind") == "rename":
            renames.append((change["oldUri"], change["newUri"]))
        else:
            changes.append((change["textDocument"]["uri"], change["edits"]))
    changes.extend((edit.get("changes") or {}).items())
    for doc, edits in changes:
        path = path_of(doc)
        raw = path.read_bytes()
        bom = raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig")
        new = apply_edits(text, edits)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + new.encode("utf-8"))
    for old, new in renames:
        target = path_of(new)
        target.parent.mkdir(parents=True, exist_ok=True)
        path_of(old).rename(target)
