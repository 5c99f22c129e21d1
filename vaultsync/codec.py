"""Flat, cheap-to-pickle form of parsed notes, for worker processes and the cache.

Pickling the records themselves is slow: every NamedTuple goes through Python-level
`__getnewargs__`/`__new__`, and the pickler memoises each of the million small
objects of a 10,000-note vault. Plain tuples of ints and strings pickle about ten
times faster; the records are rebuilt from them once, in the process that uses them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from vaultsync.index import NoteEntry
from vaultsync.model import (
    BlockId,
    Comment,
    Frontmatter,
    Heading,
    Link,
    LinkKind,
    ParsedNote,
    Span,
    Tag,
)

_KINDS = {kind.value: kind for kind in LinkKind}
_NOTE_FIELDS = tuple(f.name for f in dataclasses.fields(ParsedNote))
_FRONTMATTER_FIELDS = tuple(f.name for f in dataclasses.fields(Frontmatter))


def _pack_link(link: Link) -> tuple[Any, ...]:
    return (link.kind.value, tuple(link.span), *link[2:3], tuple(link.target_span), *link[4:])


# Records are rebuilt with tuple.__new__ (C) instead of the NamedTuple constructors
# (Python): rows hold exactly the records' fields in order, so this is the same value.
_new = tuple.__new__


def _unpack_link(row: tuple[Any, ...]) -> Link:
    return _new(Link, (_KINDS[row[0]], _new(Span, row[1]), row[2], _new(Span, row[3]), *row[4:]))


def _pack_frontmatter(block: Frontmatter | None) -> tuple[Any, ...] | None:
    if block is None:
        return None
    return tuple(
        tuple(value) if name == "span" else value
        for name, value in zip(_FRONTMATTER_FIELDS, dataclasses.astuple(block), strict=True)
    )


def _unpack_frontmatter(row: tuple[Any, ...] | None) -> Frontmatter | None:
    if row is None:
        return None
    values = dict(zip(_FRONTMATTER_FIELDS, row, strict=True))
    values["span"] = Span(*values["span"])
    return Frontmatter(**values)


def _pack_field(name: str, value: Any) -> Any:
    if name == "links":
        return tuple(_pack_link(link) for link in value)
    if name in ("headings", "blocks", "tags", "comments"):
        return tuple((*item[:-1], tuple(item[-1])) for item in value)
    if name == "frontmatter":
        return _pack_frontmatter(value)
    if isinstance(value, Span):
        return tuple(value)
    return value


_RECORDS: dict[str, type[Heading] | type[BlockId] | type[Tag] | type[Comment]] = {
    "headings": Heading,
    "blocks": BlockId,
    "tags": Tag,
    "comments": Comment,
}


def _unpack_field(name: str, value: Any) -> Any:
    if name == "links":
        return tuple(_unpack_link(row) for row in value)
    record = _RECORDS.get(name)
    if record is not None:
        return tuple(_new(record, (*row[:-1], _new(Span, row[-1]))) for row in value)
    if name == "frontmatter":
        return _unpack_frontmatter(value)
    if name == "end":
        return Span(*value)
    return value


def pack_note(parsed: ParsedNote) -> tuple[Any, ...]:
    return tuple(_pack_field(name, getattr(parsed, name)) for name in _NOTE_FIELDS)


def unpack_note(row: tuple[Any, ...]) -> ParsedNote:
    return ParsedNote(
        **{name: _unpack_field(name, value) for name, value in zip(_NOTE_FIELDS, row, strict=True)}
    )


def pack_entry(entry: NoteEntry) -> tuple[Any, ...]:
    parsed = None if entry.parsed is None else pack_note(entry.parsed)
    return (entry.path, parsed, entry.error, entry.excluded, entry.bom, entry.digest)


def unpack_entry(row: tuple[Any, ...]) -> NoteEntry:
    path, parsed, error, excluded, bom, digest = row
    return NoteEntry(
        path,
        None if parsed is None else unpack_note(parsed),
        error=error,
        excluded=excluded,
        bom=bom,
        digest=digest,
    )
