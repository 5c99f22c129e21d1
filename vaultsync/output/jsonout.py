"""JSON documents written for people and programs alike, at the C encoder's speed.

`json.dump(..., indent=2)` runs Python's pure-Python encoder: a report of 30,000
diagnostics took a second to write, the graph of 10,000 notes five. Here a document is
indented only down to its lists of records (diagnostics, links, SARIF results), and each
record is written by the C encoder on a line of its own: still easy to read and to
grep, and valid JSON for any reader.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

_INDENT = "  "
_compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def write(out: TextIO, document: Any) -> None:
    """`document` as JSON with a final newline (see the module docstring for the layout)."""
    _write(out, document, 0, record=False)
    out.write("\n")


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


def _write(out: TextIO, value: Any, depth: int, record: bool) -> None:
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
        records = False
    else:
        opening, closing = "[", "]"
        items = value
        prefixes = [inner] * len(items)
        records = _records(value)
    out.write(opening + "\n")
    last = len(items) - 1
    for i, (prefix, item) in enumerate(zip(prefixes, items, strict=True)):
        out.write(prefix)
        _write(out, item, depth + 1, records)
        out.write(",\n" if i < last else "\n")
    out.write(_INDENT * depth + closing)
