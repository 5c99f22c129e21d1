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
    _write(out, document, 0)
    out.write("\n")


def _holds_records(value: Any) -> bool:
    """Does `value` hold, at any depth, a list of two or more objects or arrays?"""
    if isinstance(value, dict):
        return any(isinstance(v, (dict, list)) and _holds_records(v) for v in value.values())
    if isinstance(value, list):
        containers = [v for v in value if isinstance(v, (dict, list))]
        return len(containers) >= 2 or any(_holds_records(v) for v in containers)
    return False


def _json_key(key: object) -> str:
    """The string `json` makes of a non-string key (`1` -> "1", `None` -> "null")."""
    key_text: str = next(iter(json.loads(json.dumps({key: 0}))))
    return key_text


def _write(out: TextIO, value: Any, depth: int) -> None:
    if not _holds_records(value):
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
        opening, closing = "[", "]"
        items = value
        prefixes = [inner] * len(items)
    out.write(opening + "\n")
    last = len(items) - 1
    for i, (prefix, item) in enumerate(zip(prefixes, items, strict=True)):
        out.write(prefix)
        _write(out, item, depth + 1)
        out.write(",\n" if i < last else "\n")
    out.write(_INDENT * depth + closing)
