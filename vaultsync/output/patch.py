"""Unified diffs of note changes that `git apply` (and `patch`) accept as they are.

Git compares a patch with the file's bytes line by line, split at `\\n` only: so a
line keeps its `\\r` (CRLF notes), a BOM belongs to the first line's context, a
missing final newline is marked `\\ No newline at end of file`, and a form feed or
U+2028 inside a line does not end it (`str.splitlines` would split there).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

_BOM = "\ufeff"
_NO_NEWLINE = "\\ No newline at end of file\n"


def _lines(text: str, bom: bool) -> list[str]:
    if bom:
        text = _BOM + text
    lines = text.split("\n")
    last = lines.pop()  # "" when the text ends with a newline (or is empty)
    lines = [line + "\n" for line in lines]
    if last:
        lines.append(last + "\n" + _NO_NEWLINE)
    return lines


def unified_diff(
    old_path: str | None, new_path: str, before: str | None, after: str, bom: bool = False
) -> Iterator[str]:
    """The diff turning `before` into `after` (texts without their BOM; `bom`: the file
    has one). `old_path` None (or `before` None): a new file."""
    old = "/dev/null" if old_path is None or before is None else f"a/{old_path}"
    yield from difflib.unified_diff(
        _lines(before or "", bom), _lines(after, bom), old, f"b/{new_path}"
    )
