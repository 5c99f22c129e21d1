"""The one thread that changes the live vaults (indexing, buffers, files on disk).

Like the daemon's worker, one thread does every change in order, so a live vault is
never changed by two at once. A buffer's check is asked for on every keystroke but runs
once for the latest text, and runs before the jobs queued behind it (refreshing other
notes after a save, a re-index): what the user types is answered first.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger("vaultsync.lsp")

Job = Callable[[], None]


class Scheduler:
    def __init__(self, check: Callable[[str], None]) -> None:
        self._check = check  # checks one buffer, by URI
        self._wake = threading.Condition()
        self._checks: dict[str, None] = {}  # URIs, oldest first; each once
        self._jobs: deque[Job] = deque()
        self._busy = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="vaultsync-lsp", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()

    def check(self, uri: str) -> None:
        """Check a buffer's latest text soon (asked again before it ran: still once)."""
        with self._wake:
            self._checks[uri] = None
            self._wake.notify()

    def submit(self, job: Job, first: bool = False) -> None:
        with self._wake:
            if first:
                self._jobs.appendleft(job)
            else:
                self._jobs.append(job)
            self._wake.notify()

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or running (tests and benchmarks)."""
        with self._wake:
            return self._wake.wait_for(
                lambda: not (self._checks or self._jobs or self._busy), timeout
            )

    def pending_checks(self) -> bool:
        with self._wake:
            return bool(self._checks)

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._checks or self._jobs or self._stopping)
                if self._stopping:
                    return
                uri: str | None = None
                job: Job | None = None
                if self._checks:
                    uri = next(iter(self._checks))
                    del self._checks[uri]
                else:
                    job = self._jobs.popleft()
                self._busy = True
            try:
                if uri is not None:
                    self._check(uri)
                elif job is not None:
                    job()
            except Exception:  # one bad change must not stop the server
                log.exception("error while updating the vault")
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()
