"""Immutable records shared by the parser, the index, the rules and the reporters."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Severity(enum.IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]


class FixKind(enum.Enum):
    NONE = "none"
    SAFE = "safe"
    UNSAFE = "unsafe"


class LinkKind(enum.Enum):
    WIKILINK = "wikilink"
    EMBED = "embed"
    MARKDOWN = "markdown"
    PROPERTY = "property"


class Span(NamedTuple):
    """A source range: character offsets (half-open) plus 1-based line/column."""

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int


class Link(NamedTuple):
    kind: LinkKind
    span: Span  # the whole link, `![[...]]` or `[..](..)`
    target: str  # the link path as written, trimmed (wikilinks) or raw (markdown)
    target_start: int  # offset of `target` in the source
    linkpath: str  # what Obsidian resolves: trimmed, percent-decoded, NFC
    subpath: str | None  # "#Heading", "#^id", "#H1#H2" or None
    display: str | None
    embed: bool = False
    angle: bool = False  # markdown destination written as <...>
    key: str | None = None  # property name for property links
    # Inside an Obsidian `%% … %%` comment: still a link (Obsidian indexes it, R14), but
    # the link rules stay quiet about it unless `[links] check-comments = true`.
    comment: bool = False
    # In a table row, where a bare `|` would end the cell: a display text added to the
    # link is written after `\|` there (R4).
    table: bool = False

    @property
    def target_span(self) -> Span:
        """Exactly the characters of `target` in the source.

        Worked out when asked for, not stored: no link spans lines (R6, R40), so its
        start is enough, and a vault's links were a fifth of the daemon's memory.
        """
        start, span = self.target_start, self.span
        column = span.column + start - span.start
        size = len(self.target)
        return Span(start, start + size, span.line, column, span.line, column + size)


class Heading(NamedTuple):
    level: int
    text: str
    span: Span


class BlockId(NamedTuple):
    id: str
    span: Span


class Tag(NamedTuple):
    name: str  # without '#'
    span: Span


class Comment(NamedTuple):
    """An HTML comment `<!-- ... -->`; markers and suppressions live in these."""

    text: str  # inner text, without the delimiters
    span: Span


@dataclass(frozen=True, slots=True)
class Frontmatter:
    span: Span  # from the opening `---` through the closing `---` line
    body_start: int  # offset of the first YAML line
    body_end: int  # offset just after the last YAML line (before closing `---`)
    closed: bool
    # The YAML text itself (text[body_start:body_end]): the frontmatter rules re-read
    # it for key/value positions only when a note has a problem, without the whole text.
    yaml: str = ""


@dataclass(frozen=True, slots=True)
class ParsedNote:
    frontmatter: Frontmatter | None
    properties: dict[str, Any] | None  # None when there is no block or it does not parse
    yaml_error: tuple[str, int, int] | None  # message, 1-based line, column
    links: tuple[Link, ...]
    headings: tuple[Heading, ...]
    blocks: tuple[BlockId, ...]
    tags: tuple[Tag, ...]
    comments: tuple[Comment, ...]
    suppressions: tuple[tuple[int, frozenset[str]], ...]  # (line, codes); empty set = all
    file_suppressions: frozenset[str] | None  # None: none; empty: all codes
    line_count: int
    length: int  # characters in the text (BOM excluded)
    end: Span  # the empty span at the end of the text, where appended sections go
    newline: str  # "\r\n" when the note's first line ending is CRLF, else "\n"
    final_newline: bool  # the text ends with a line ending
    # The whole text, kept only when the note holds vaultsync section markers: section
    # bodies are compared and hashed against it (S001-S004) without re-reading the file.
    marked_text: str | None = None
    # What is still open where the text ends, and where it opened: a code fence (its
    # fence, "```" or "~~~"), "<!--", "%%" or "$$". Text appended at the end (a backlinks
    # section) would be inside it, so none is (S005).
    unclosed: tuple[str, Span] | None = None


@dataclass(frozen=True, slots=True)
class Edit:
    span: Span
    new_text: str


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """The one edit applier (`fix`, `mv`, the daemon): non-overlapping edits applied in
    text order, edits that start at the same offset in the order given (an insertion
    before a replacement at its start lands before the replaced text); characters outside
    the edits are kept exactly."""
    pieces: list[str] = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.span.start, e.span.end)):
        pieces.append(text[position : edit.span.start])
        pieces.append(edit.new_text)
        position = edit.span.end
    pieces.append(text[position:])
    return "".join(pieces)


@dataclass(frozen=True, slots=True)
class Fix:
    applicability: FixKind
    edits: tuple[Edit, ...]


_EDITS = Fix.__dict__["edits"]  # the slot Fix keeps its edits in


class LazyFix(Fix):
    """A fix whose edits are worked out when first read.

    A text report shows only whether a problem is fixable and never reads the edits; a
    check that produces one may then skip building them (a missing backlinks section's
    whole text, for every note that lacks one). `make` must not depend on anything that
    changes later. Equal to the `Fix` with the same applicability and edits.
    """

    __slots__ = ("_make",)
    _make: Callable[[], tuple[Edit, ...]]

    def __init__(self, applicability: FixKind, make: Callable[[], tuple[Edit, ...]]) -> None:
        object.__setattr__(self, "applicability", applicability)
        object.__setattr__(self, "_make", make)

    @property
    def edits(self) -> tuple[Edit, ...]:
        try:
            made: tuple[Edit, ...] = _EDITS.__get__(self)
        except AttributeError:
            made = self._make()
            _EDITS.__set__(self, made)
        return made

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Fix):
            return NotImplemented
        return (self.applicability, self.edits) == (other.applicability, other.edits)

    __hash__ = Fix.__hash__


@dataclass(frozen=True, slots=True)
class Diagnostic:
    path: str
    span: Span
    code: str
    message: str
    severity: Severity
    data: dict[str, Any] = field(default_factory=dict)
    fix: Fix | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.column, self.code)
