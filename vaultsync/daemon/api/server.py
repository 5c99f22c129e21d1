"""The plugin API over HTTP/1.1 on 127.0.0.1 (§9): FastAPI app, guard, uvicorn thread.

Every request passes the guard before any endpoint runs: Host (against DNS rebinding),
Origin allow-list, Bearer token, body size. Paths are confined by the service.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse

from vaultsync import __version__
from vaultsync.daemon.api import models as m
from vaultsync.daemon.api.events import EventHub
from vaultsync.daemon.api.service import BadPath, NotFound, Service

MAX_BODY = 1024 * 1024
KEEPALIVE_SECONDS = 15.0

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("vaultsync.api")


async def _reply(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: refuse a request before the app sees it (403, 401, 413)."""

    def __init__(self, app: ASGIApp, token: str, port: int, origins: list[str]) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.hosts = {f"127.0.0.1:{port}".encode(), f"localhost:{port}".encode()}
        self.origins = {o.encode() for o in origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.lower(), value)
        if headers.get(b"host", b"").lower() not in self.hosts:
            await _reply(send, 403, "Host must be 127.0.0.1 or localhost with the API port", [])
            return
        origin = headers.get(b"origin")
        if origin is not None and origin not in self.origins:
            await _reply(send, 403, "Origin not allowed (see api.allowed-origins)", [])
            return
        cors = [(b"access-control-allow-origin", origin), (b"vary", b"Origin")] if origin else []
        if scope["method"] == "OPTIONS" and origin is not None:
            await self._preflight(send, cors)
            return
        if not hmac.compare_digest(headers.get(b"authorization", b""), self.expected):
            await _reply(send, 401, "missing or wrong Authorization: Bearer token", cors)
            return
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await _reply(send, 413, f"request body over {MAX_BODY} bytes", cors)
            return
        body = await self._body(receive)
        if body is None:
            await _reply(send, 413, f"request body over {MAX_BODY} bytes", cors)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # http.disconnect, for streaming responses

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start" and cors:
                message["headers"] = [*message.get("headers", []), *cors]
            await send(message)

        await self.app(scope, replay, send_with_cors)

    @staticmethod
    async def _body(receive: Receive) -> bytes | None:
        """The whole body (chunked ones too), or None once it passes MAX_BODY."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    @staticmethod
    async def _preflight(send: Send, cors: list[tuple[bytes, bytes]]) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    *cors,
                    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
                    (b"access-control-allow-headers", b"authorization, content-type"),
                    (b"access-control-max-age", b"600"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": m.ErrorOut, "description": "a path outside the vault, or a bad request"},
    401: {"model": m.ErrorOut, "description": "missing or wrong Bearer token"},
    403: {"model": m.ErrorOut, "description": "Host or Origin not allowed"},
    413: {"model": m.ErrorOut, "description": "request body over 1 MiB"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": m.ErrorOut, "description": "no such note in the vault"}
}


def create_app(service: Service, hub: EventHub) -> FastAPI:
    """The API's routes; the guard is added by `wrap`."""
    app = FastAPI(
        title="vaultsync daemon API",
        version=__version__,
        description=(
            "Local API of `vaultsync watch` (127.0.0.1 only). Every request needs "
            "`Authorization: Bearer <token>` from `.vaultsync/token`; the port is in "
            "`.vaultsync/daemon.json`. Ranges: 0-based lines, UTF-16 code units."
        ),
        responses=_ERRORS,
        docs_url=None,
        redoc_url=None,
        openapi_url="/v1/openapi.json",
    )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes each bad input back, and a body holding a NaN or
        # an Infinity (Python's JSON reader accepts them) made that reply itself fail: a
        # 500 and a traceback per request. Where and why is enough for a client.
        errors = [
            {
                "type": str(e.get("type", "")),
                "loc": list(e.get("loc", ())),
                "msg": str(e.get("msg", "")),
            }
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    def call(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except BadPath as exc:
            raise HTTPException(400, str(exc)) from None
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None

    @app.get("/v1/status", response_model=m.Status)
    def status() -> m.Status:
        """The daemon and the vault it watches."""
        result: m.Status = call(service.status)
        return result

    @app.get("/v1/diagnostics", response_model=m.DiagnosticsOut, responses=_NOT_FOUND)
    def diagnostics(
        path: str | None = Query(default=None, description="one note; omitted: all notes"),
    ) -> m.DiagnosticsOut:
        """Current diagnostics (the config's rule selection)."""
        result: m.DiagnosticsOut = call(lambda: service.diagnostics(path))
        return result

    @app.get("/v1/backlinks", response_model=m.BacklinksOut, responses=_NOT_FOUND)
    def backlinks(path: str = Query(description="the linked note")) -> m.BacklinksOut:
        """Links from other notes that resolve to this note."""
        result: m.BacklinksOut = call(lambda: service.backlinks(path))
        return result

    @app.get("/v1/links", response_model=m.LinksOut, responses=_NOT_FOUND)
    def links(path: str = Query(description="the linking note")) -> m.LinksOut:
        """The note's outgoing links and where each resolves."""
        result: m.LinksOut = call(lambda: service.links(path))
        return result

    @app.post("/v1/fix", response_model=m.FixOut, responses=_NOT_FOUND)
    def fix(request: m.FixRequest) -> m.FixOut:
        """Apply safe fixes (like `vaultsync fix`), or with dry_run only show them.

        Notes named in `paths` are read again first: a save made a moment ago is fixed
        (or previewed) as saved, not skipped as changed since the daemon read it.
        """
        result: m.FixOut = call(lambda: service.fix(request))
        return result

    @app.post("/v1/rescan", response_model=m.RescanOut)
    def rescan() -> m.RescanOut:
        """Re-read the whole file set (after changes the watcher could not see)."""
        result: m.RescanOut = call(service.rescan)
        return result

    @app.get(
        "/v1/events",
        response_class=StreamingResponse,
        responses={
            200: {
                "description": (
                    "Server-sent events: `diagnostics` (data: {path, diagnostics}) after a "
                    "note's diagnostics may have changed, `written` (data: {path}) after the "
                    "daemon wrote a note."
                ),
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        },
    )
    async def events() -> StreamingResponse:
        """A stream of daemon events."""
        queue = hub.subscribe()

        async def stream() -> AsyncIterator[str]:
            try:
                yield ": connected\n\n"
                while True:
                    try:
                        message = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if message is None:
                        return
                    yield message
            finally:
                hub.unsubscribe(queue)

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    return app


def serialize_events(
    service: Service, publish: Callable[[str, dict[str, Any]], None]
) -> Callable[[str, dict[str, Any]], None]:
    """Turn the worker's events (diagnostics as records) into API JSON before publishing."""

    def emit(event: str, data: dict[str, Any]) -> None:
        if "diagnostics" in data:
            converted = service.convert(data["diagnostics"])
            data = {**data, "diagnostics": [d.model_dump(mode="json") for d in converted]}
        publish(event, data)

    return emit


def listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: any free port); raises OSError if taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class ApiServer:
    """uvicorn serving the app from a thread of its own."""

    def __init__(self, app: FastAPI, sock: socket.socket, token: str, origins: list[str]) -> None:
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        guarded = Guard(app, token, self.port, origins)
        config = uvicorn.Config(
            guarded,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            server_header=False,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="vaultsync-api", daemon=True)

    def _run(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        waited = 0.0
        while not self.server.started and self._thread.is_alive() and waited < timeout:
            threading.Event().wait(0.01)
            waited += 0.01
        if not self.server.started:
            raise RuntimeError("the API server did not start")

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self._thread.join(timeout)


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the server serves (the routes do not need a live vault for it)."""
    app = create_app(None, EventHub())  # type: ignore[arg-type]
    document: dict[str, Any] = app.openapi()
    return document


def main() -> None:
    """Print the OpenAPI document:
    `python -m vaultsync.daemon.api.server > schemas/openapi.json`."""
    print(json.dumps(openapi_document(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
