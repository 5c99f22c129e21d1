"""Small text helpers: positions, Unicode folding, link keys."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right

from vaultsync.model import Span

_NEWLINE = re.compile("\n")
_KEY_SEPARATORS = re.compile(r"[\s_\-]+")


class LineIndex:
    """Maps character offsets to 1-based (line, column), columns in code points."""

    __slots__ = ("starts",)

    def __init__(self, text: str) -> None:
        self.starts = [0]
        self.starts.extend(m.end() for m in _NEWLINE.finditer(text))

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        starts = self.starts
        line = bisect_right(starts, start)
        line_start = starts[line - 1]
        if line == len(starts) or end < starts[line]:  # the common case: one line
            return Span(start, end, line, start - line_start + 1, line, end - line_start + 1)
        end_line, end_column = self.position(end)
        return Span(start, end, line, start - line_start + 1, end_line, end_column)

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1

    @property
    def line_count(self) -> int:
        return len(self.starts)


def nfc(text: str) -> str:
    # Fast path: ASCII is always NFC; normalize() is costly on hot paths.
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """The case- and normalization-insensitive form Obsidian compares paths in."""
    return nfc(text).casefold()


def strip_md(text: str) -> str:
    return text[:-3] if text[-3:].lower() == ".md" else text


def link_key(text: str) -> str:
    """Key under which spellings of one note are variants (§3 "Link variants")."""
    folded = strip_md(fold(text).strip())
    return _KEY_SEPARATORS.sub(" ", folded).strip()


def naming_style(name: str) -> str | None:
    """Classify a note name as spaced, snake or kebab; None for a single word."""
    if " " in name:
        return "spaced"
    if "_" in name:
        return "snake"
    if "-" in name:
        return "kebab"
    return None
