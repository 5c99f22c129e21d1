"""Which names a typed query matches, best first (completion, workspace symbols)."""

from __future__ import annotations

from vaultsync.core.text import fold


class Query:
    """A query as typed; `rank` of a candidate: lower is better, None is no match."""

    def __init__(self, typed: str) -> None:
        self.folded = fold(typed.strip())

    def rank(self, candidate: str) -> int | None:
        if not self.folded:
            return 3
        text = fold(candidate)
        if text.startswith(self.folded):
            return 0
        at = text.find(self.folded)
        if at > 0:
            return 1 if not text[at - 1].isalnum() else 2  # the start of a word ranks higher
        chars = iter(text)
        return 3 if all(c in chars for c in self.folded) else None  # in order, with gaps
