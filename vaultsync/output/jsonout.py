"""JSON documents written for people and programs alike, at the C encoder's speed.

`json.dump(..., indent=2)` runs Python's pure-Python encoder: a report of 30,000
diagnostics took a second to write, the graph of 10,000 notes five. Here a document is
indented only down to its lists of records (diagnostics, links, SARIF results), and each
record is written by the C encoder on a line of its own: still easy to read and to
grep, and valid JSON for any reader.

A list of records may also be given rendered already (`Records`, made of `record_lines`
pieces): a report kept note by note is written from its pieces, byte for byte as the
list they were rendered from, without encoding a record again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, Protocol

_INDENT = "  "
_compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
_SEPARATOR = ",\n"  # after each record of a list of records but the last


class Writer(Protocol):
    def write(self, text: str, /) -> object: ...


class Records(NamedTuple):
    """A list of records (objects or arrays) rendered already: `pieces` joined are
    `record_lines` of the list's items at `depth`, the depth the list is written at."""

    pieces: Sequence[str]
    length: int  # how many records the pieces hold
    depth: int


def record_lines(items: Iterable[Any], depth: int) -> str:
    """`items` as a list of records at `depth` holds them when written: each on a line of
    its own, indented, followed by ",\n" (the last one's is taken off when written)."""
    return "".join(_record_lines(items, depth))


def write(out: Writer, document: Any) -> None:
    """`document` as JSON with a final newline (see the module docstring for the layout)."""
    _write(out, document, 0, record=False)
    out.write("\n")


def pieces(document: Any) -> list[str]:
    """`write`'s text of `document`, as the pieces it is written in (a `Records`' pieces
    among them as they are, never joined)."""
    written: list[str] = []
    write(_Collector(written), document)
    return written


class _Collector:
    def __init__(self, into: list[str]) -> None:
        self.write = into.append


def _records(value: list[Any]) -> bool:
    """Is `value` a list of records: two or more objects or arrays?"""
    count = 0
    for item in value:
        if isinstance(item, (dict, list)):
            count += 1
            if count == 2:
                return True
    return False


def _opens(value: Any, depth: int) -> bool:
    """Is `value` written over several lines: the document itself, a list of records, or
    a container holding one? Never looks into a list of records' items: they are records,
    written one per line, and judging them one by one would cost what it saves."""
    if isinstance(value, Records):
        return value.length >= 2 or _opens(_few(value), depth)
    if not isinstance(value, (dict, list)) or not value:
        return False
    if depth == 0:
        return True
    items = value.values() if isinstance(value, dict) else value
    if isinstance(value, list) and _records(value):
        return True
    return any(isinstance(v, (dict, list)) and _opens(v, depth + 1) for v in items)


def _json_key(key: object) -> str:
    """The string `json` makes of a non-string key (`1` -> "1", `None` -> "null")."""
    key_text: str = next(iter(json.loads(json.dumps({key: 0}))))
    return key_text


def _few(records: Records) -> list[Any]:
    """The items of a `Records` of fewer than two: the layout of such a list depends on
    them (it is no list of records), so they are read back from their records."""
    text = "".join(records.pieces).rstrip()
    if text.endswith(","):
        text = text[:-1]
    items: list[Any] = json.loads(f"[{text}]")
    return items


def _write_records(out: Writer, lines: Iterable[str], depth: int) -> None:
    """A list of records written from its `record_lines` (one piece or more)."""
    out.write("[\n")
    last = ""
    for piece in lines:
        if piece:
            out.write(last)
            last = piece
    out.write(f"{last[: -len(_SEPARATOR)]}\n{_INDENT * depth}]")


def _record_lines(items: Iterable[Any], depth: int) -> Iterator[str]:
    inner = _INDENT * (depth + 1)
    for item in items:
        yield f"{inner}{_compact(item)}{_SEPARATOR}"


def _write(out: Writer, value: Any, depth: int, record: bool) -> None:
    if isinstance(value, Records):
        if value.depth != depth:
            raise ValueError(f"records rendered for depth {value.depth}, written at {depth}")
        if value.length >= 2:
            _write_records(out, value.pieces, depth)
            return
        value = _few(value)
    if record or not _opens(value, depth):
        out.write(_compact(value))
        return
    inner = _INDENT * (depth + 1)
    if isinstance(value, dict):
        opening, closing = "{", "}"
        prefixes = [
            inner + _compact(key if isinstance(key, str) else _json_key(key)) + ": "
            for key in value
        ]
        items = list(value.values())
    else:
        if _records(value):  # one per line, as `Records` are written
            _write_records(out, _record_lines(value, depth), depth)
            return
        opening, closing = "[", "]"
        items = value
        prefixes = [inner] * len(items)
    out.write(opening + "\n")
    last = len(items) - 1
    for i, (prefix, item) in enumerate(zip(prefixes, items, strict=True)):
        out.write(prefix)
        _write(out, item, depth + 1, record=False)
        out.write(",\n" if i < last else "\n")
    out.write(_INDENT * depth + closing)
