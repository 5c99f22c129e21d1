"""Positions as the Language Server Protocol counts them, and back.

The engine counts 1-based lines and code-point columns (`model.Span`); LSP counts 0-based
lines and UTF-16 code units. The server always asks for UTF-16 (every client must support
it), so the plugin API's converter (`api.service.Positions`) serves both: the daemon and
the language server put every range in the same place.
"""

from __future__ import annotations

from lsprotocol import types

from vaultsync.core.model import Span
from vaultsync.core.text import LineIndex
from vaultsync.daemon.api.service import Positions


class Text:
    """One note's text as the client holds it: engine spans and offsets <-> LSP positions."""

    __slots__ = ("_lines", "_positions", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._positions = Positions(text)
        self._lines = LineIndex(text)

    def position(self, line: int, column: int) -> types.Position:
        """The LSP position of a 1-based line and code-point column."""
        found = self._positions.position(line, column)
        return types.Position(line=found.line, character=found.character)

    def range(self, span: Span) -> types.Range:
        return types.Range(
            start=self.position(span.line, span.column),
            end=self.position(span.end_line, span.end_column),
        )

    def at(self, offset: int) -> types.Position:
        """The LSP position of a character offset."""
        return self.position(*self._lines.position(min(max(offset, 0), len(self.text))))

    def offset(self, position: types.Position) -> int:
        """The character offset of an LSP position; past a line's end is its end (LSP)."""
        starts = self._lines.starts
        if position.line >= len(starts):
            return len(self.text)
        start = starts[position.line]
        end = self.text.find("\n", start)
        line = self.text[start : len(self.text) if end < 0 else end]
        if line.isascii():
            return start + min(position.character, len(line))
        units = 0
        for i, char in enumerate(line):
            if units >= position.character:
                return start + i
            units += 2 if ord(char) > 0xFFFF else 1
        return start + len(line)
