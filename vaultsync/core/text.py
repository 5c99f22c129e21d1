"""Small text helpers: positions, Unicode folding, link keys."""

from __future__ import annotations

import re
import unicodedata

from vaultsync.core.model import Span

_NEWLINE = re.compile("\n")
_KEY_SEPARATORS = re.compile(r"[\s_\-]+")


class LineIndex:
    """Maps character offsets to 1-based (line, column), columns in code points.

    Offsets are asked for mostly in increasing order while a note is scanned, so a
    cursor plus `str.count` between the last offset and the next one (C speed) beats
    building a table of every line start for every note.
    """

    __slots__ = ("_line", "_line_start", "_offset", "_starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._offset = 0
        self._line = 1
        self._line_start = 0
        self._starts: list[int] | None = None

    def position(self, offset: int) -> tuple[int, int]:
        text = self.text
        if offset < self._offset:
            self._offset, self._line, self._line_start = 0, 1, 0
        newlines = text.count("\n", self._offset, offset)
        if newlines:
            self._line += newlines
            self._line_start = text.rfind("\n", self._offset, offset) + 1
        self._offset = offset
        return self._line, offset - self._line_start + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        if self.text.find("\n", start, end) == -1:  # the common case: one line
            return Span(start, end, line, column, line, column + end - start)
        end_line, end_column = self.position(end)
        return Span(start, end, line, column, end_line, end_column)

    @property
    def starts(self) -> list[int]:
        """Offsets of every line start (built on first use)."""
        if self._starts is None:
            self._starts = [0]
            self._starts.extend(m.end() for m in _NEWLINE.finditer(self.text))
        return self._starts

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1

    @property
    def line_count(self) -> int:
        return self.text.count("\n") + 1


# A link target can be any length (one of 200,000 characters was seen); a message shows
# its start, and the diagnostic's `data` keeps it whole.
MESSAGE_TEXT_LIMIT = 80


def shortened(text: str, limit: int = MESSAGE_TEXT_LIMIT) -> str:
    """`text` for a message: as it is up to `limit` characters, else its start and `…`."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
