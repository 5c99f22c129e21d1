"""Flat, cheap-to-pickle form of parsed notes, for worker processes and the cache.

Pickling the records themselves is slow: every NamedTuple goes through Python-level
`__getnewargs__`/`__new__`, and the pickler memoises each of the million small
objects of a 10,000-note vault. Plain tuples of ints and strings pickle about ten
times faster; the records are rebuilt from them once, in the process that uses them.

Records are stored by column (all the links' targets, all their spans, ...): `zip`
turns rows into columns and back, and `map` with tuple.__new__ rebuilds the records,
all in C, so packing and unpacking run no Python code per link, heading or tag.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from operator import attrgetter
from typing import Any, NamedTuple

from vaultsync.core.model import (
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
from vaultsync.vault.index import NoteEntry

_KINDS = {kind.value: kind for kind in LinkKind}
# `_value_` is a plain attribute; `value` is a Python-level property.
_kind_value = attrgetter("_value_")

# Records are rebuilt with tuple.__new__ (C) instead of the NamedTuple constructors
# (Python): columns hold exactly the records' fields in order, so this is the same value.
_new = tuple.__new__
_new_span = partial(_new, Span)
_new_link = partial(_new, Link)
_new_heading = partial(_new, Heading)
_new_block = partial(_new, BlockId)
_new_tag = partial(_new, Tag)
_new_comment = partial(_new, Comment)

# pack_note and unpack_note list ParsedNote's and Frontmatter's fields in this order.
assert tuple(f.name for f in dataclasses.fields(ParsedNote)) == (
    "frontmatter",
    "properties",
    "yaml_error",
    "links",
    "headings",
    "blocks",
    "tags",
    "comments",
    "suppressions",
    "file_suppressions",
    "line_count",
    "length",
    "end",
    "newline",
    "final_newline",
    "marked_text",
    "unclosed",
)
assert tuple(f.name for f in dataclasses.fields(Frontmatter)) == (
    "span",
    "body_start",
    "body_end",
    "closed",
    "yaml",
)


def _pack_links(links: tuple[Link, ...]) -> tuple[tuple[Any, ...], ...]:
    if not links:
        return ()
    kinds, spans, *rest = zip(*links, strict=True)
    return (tuple(map(_kind_value, kinds)), tuple(map(tuple, spans)), *rest)


def _unpack_links(columns: tuple[tuple[Any, ...], ...]) -> tuple[Link, ...]:
    if not columns:
        return ()
    kinds, spans, *rest = columns
    rows = zip(map(_KINDS.__getitem__, kinds), map(_new_span, spans), *rest, strict=True)
    return tuple(map(_new_link, rows))


def _pack_records(records: tuple[NamedTuple, ...]) -> tuple[tuple[Any, ...], ...]:
    """Headings, block ids, tags or comments: records whose last field is their span."""
    if not records:
        return ()
    *values, spans = zip(*records, strict=True)
    return (*values, tuple(map(tuple, spans)))


def _unpack_records(
    new_record: Callable[[tuple[Any, ...]], Any], columns: tuple[tuple[Any, ...], ...]
) -> tuple[Any, ...]:
    if not columns:
        return ()
    *values, spans = columns
    return tuple(map(new_record, zip(*values, map(_new_span, spans), strict=True)))


def _pack_frontmatter(block: Frontmatter | None) -> tuple[Any, ...] | None:
    if block is None:
        return None
    return (tuple(block.span), block.body_start, block.body_end, block.closed, block.yaml)


def _unpack_frontmatter(row: tuple[Any, ...] | None) -> Frontmatter | None:
    if row is None:
        return None
    span, body_start, body_end, closed, yaml = row
    return Frontmatter(_new_span(span), body_start, body_end, closed, yaml)


def pack_note(parsed: ParsedNote) -> tuple[Any, ...]:
    return (
        _pack_frontmatter(parsed.frontmatter),
        parsed.properties,
        parsed.yaml_error,
        _pack_links(parsed.links),
        _pack_records(parsed.headings),
        _pack_records(parsed.blocks),
        _pack_records(parsed.tags),
        _pack_records(parsed.comments),
        parsed.suppressions,
        parsed.file_suppressions,
        parsed.line_count,
        parsed.length,
        tuple(parsed.end),
        parsed.newline,
        parsed.final_newline,
        parsed.marked_text,
        None if parsed.unclosed is None else (parsed.unclosed[0], tuple(parsed.unclosed[1])),
    )


def unpack_note(row: tuple[Any, ...]) -> ParsedNote:
    (
        frontmatter,
        properties,
        yaml_error,
        links,
        headings,
        blocks,
        tags,
        comments,
        suppressions,
        file_suppressions,
        line_count,
        length,
        end,
        newline,
        final_newline,
        marked_text,
        unclosed,
    ) = row
    return ParsedNote(
        _unpack_frontmatter(frontmatter),
        properties,
        yaml_error,
        _unpack_links(links),
        _unpack_records(_new_heading, headings),
        _unpack_records(_new_block, blocks),
        _unpack_records(_new_tag, tags),
        _unpack_records(_new_comment, comments),
        suppressions,
        file_suppressions,
        line_count,
        length,
        _new_span(end),
        newline,
        final_newline,
        marked_text,
        None if unclosed is None else (unclosed[0], _new_span(unclosed[1])),
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
