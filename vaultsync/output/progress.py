"""A progress bar on stderr while a vault loads, only where a person is watching.

No bar when stdout or stderr is not a terminal (pipes, files, editors), when the `CI`
variable is set (CI logs keep every redraw), or with `-q`. The bar waits `DELAY`
seconds before it draws, so quick runs print nothing extra. tqdm is imported only
when a bar may be drawn.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from vaultsync.vault.loaded import Progress

if TYPE_CHECKING:  # for start-up speed: tqdm loads only when a bar is drawn
    from tqdm import tqdm

DELAY = 1.0
# Tests set this to draw at once on a small vault; not a user setting.
DELAY_VARIABLE = "VAULTSYNC_PROGRESS_DELAY"


def wanted(quiet: bool) -> bool:
    if quiet or os.environ.get("CI"):
        return False
    return sys.stdout.isatty() and sys.stderr.isatty()


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get(DELAY_VARIABLE, DELAY)))
    except ValueError:
        return DELAY


class _Bar:
    def __init__(self, bar: tqdm[Any]) -> None:
        self.bar = bar

    def __call__(self, done: int, total: int) -> None:
        if self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)


@contextmanager
def loading(quiet: bool) -> Iterator[Progress | None]:
    """A `progress(done, total)` callback for engine.load, or None when no bar is wanted."""
    if not wanted(quiet):
        yield None
        return
    from tqdm import tqdm

    # No monitor thread: with a second thread alive, parsing is not shared with forked
    # copies (fork() and threads do not mix), so a bar made every check on a terminal
    # run in one process.
    tqdm.monitor_interval = 0
    delay = _delay()
    bar: tqdm[Any] = tqdm(
        desc="Indexing",
        unit=" notes",
        delay=delay,
        mininterval=min(0.1, delay),  # with no delay (tests), draw every update
        leave=False,  # the bar is scaffolding: the report is what stays on screen
        file=sys.stderr,
        dynamic_ncols=True,
    )
    try:
        yield _Bar(bar)
    finally:
        bar.close()
