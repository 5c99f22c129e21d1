"""Fan-out of daemon events to server-sent-event subscribers, across threads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import Any


class EventHub:
    """The worker thread publishes; each SSE client reads its own asyncio queue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str | None]]] = []
        self.closed = False

    def subscribe(self) -> asyncio.Queue[str | None]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=10_000)
        with self._lock:
            self._subscribers.append((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        with self._lock:
            self._subscribers = [s for s in self._subscribers if s[1] is not queue]

    def publish(self, event: str, data: dict[str, Any]) -> None:
        """Send `event` to every subscriber; safe to call from any thread."""
        message = f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
        self._send(message)

    def close(self) -> None:
        """End every stream (the server is stopping)."""
        self.closed = True
        self._send(None)

    def _send(self, message: str | None) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(_offer, queue, message)
            except RuntimeError:  # that client's loop is gone
                self.unsubscribe(queue)


def _offer(queue: asyncio.Queue[str | None], message: str | None) -> None:
    # A client that stopped reading loses events rather than the daemon its memory.
    with contextlib.suppress(asyncio.QueueFull):
        queue.put_nowait(message)
