"""The frontmatter block (R50) and its properties, read the way Obsidian reads them.

Loading is on every note's hot path, so it does as little as it can. Most blocks are
in a plain subset read here directly; the rest go to pyyaml through `yamlcore`, which
is imported only then. Positions of keys and values are not kept here; `yamlpos`
recomputes them from `Frontmatter.yaml` for the few notes that have a problem.
"""

from __future__ import annotations

import re
from typing import Any

from vaultsync.core.model import Frontmatter
from vaultsync.core.text import LineIndex
from vaultsync.parse.yamltypes import (
    BOOL_TAG,
    BOOLS,
    CORE_RESOLVERS,
    FLOAT_TAG,
    INT_TAG,
    NULL_TAG,
    YamlError,
    core_float,
    core_int,
)

_OPEN = re.compile(r"---[ \t]*\r?\n")
# The closing line. Searched for with the line break before it: a pattern that starts
# with a literal is located at C speed, one that starts with `^` is tried everywhere.
_CLOSE = re.compile(r"---[ \t]*(?:\r?\n|\Z)")
_CLOSE_AFTER_BREAK = re.compile(r"\n---[ \t]*(?:\r?\n|\Z)")

# --- the plain subset -------------------------------------------------------------------
# Most frontmatter is a few `key: value` lines and lists of `- item` lines. For a block
# that is certainly in that subset the properties are read here directly, at a fraction
# of the cost of libyaml's parse plus pyyaml's node graph. The subset is deliberately
# narrow: one key or item per line, keys that are words, values that are single-line
# plain or quoted scalars or a flat `[a, b]` list. Anything else, and every error, goes
# to pyyaml. Plain scalars are typed by the same resolvers as pyyaml's (`_resolve_plain`).
# tests/parse/test_frontmatter_subset.py compares the two on generated blocks.

# Characters libyaml reads as ordinary ones (no tab, no CR, no line or paragraph
# separator, no BOM, no control character, surrogate or non-character); a final newline.
_SUBSET_TEXT = re.compile(
    "[ -~\n\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*\n"
)
_KEY_LINE = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,127}):(?: +(.*))?")  # the value rstripped
_ITEM_LINE = re.compile(r"( *)- +(.*)")
# Where a plain scalar may start besides a letter or digit: not at an indicator
# (-?:,[]{}#&*!|>'"%@ and the backquote) nor at `<` (merge keys). `-x` is plain too.
_PLAIN_FIRST = frozenset("_./~(+$^;=\\")
_QUOTED = re.compile(r""""[^"\\]*"|'[^']*'""")
_FLOW_ITEM = r"""(?:"[^"\\]*"|'[^']*'|\w[\w./-]*(?: +[\w./-]+)*)"""
_FLOW_LIST = re.compile(rf"\[ *(?:{_FLOW_ITEM}(?: *, *{_FLOW_ITEM})*)? *\]")
_FLOW_ITEMS = re.compile(_FLOW_ITEM)


class _NotSubset(Exception):
    """The block is not in the plain subset: pyyaml reads it."""


def _resolve_plain(text: str) -> Any:
    """A plain scalar's value, typed by the YAML 1.2 core resolvers, as pyyaml types it."""
    for tag, regexp in CORE_RESOLVERS.get(text[:1], ()):
        if regexp.match(text):
            if tag == NULL_TAG:
                return None
            if tag == BOOL_TAG:
                return BOOLS[text.lower()]
            if tag == INT_TAG:
                return core_int(text)
            if tag == FLOAT_TAG:
                return core_float(text)
            raise _NotSubset  # a merge key
    return text


def _block_scalar(text: str) -> Any:
    """A value written on one line in block context: quoted or plain."""
    first = text[0]
    if first == '"' or first == "'":
        if _QUOTED.fullmatch(text) is None:
            raise _NotSubset
        return text[1:-1]
    if not (
        first.isalnum()
        or first > "\x7f"
        or first in _PLAIN_FIRST
        or (first == "-" and text[1:2] > " ")
    ):
        raise _NotSubset
    if ": " in text or " #" in text or text[-1] == ":":
        raise _NotSubset  # a mapping or a comment
    return _resolve_plain(text)


def _flow_list(text: str) -> list[Any]:
    if _FLOW_LIST.fullmatch(text) is None:
        raise _NotSubset
    return [
        item[1:-1] if item[0] in "\"'" else _resolve_plain(item)
        for item in _FLOW_ITEMS.findall(text, 1, len(text) - 1)
    ]


def _plain_mapping(source: str) -> dict[str, Any] | None:
    """The properties of a block in the plain subset, as pyyaml reads them; else None."""
    if _SUBSET_TEXT.fullmatch(source) is None:
        return None
    try:
        return _read_plain_mapping(source.split("\n")[:-1])
    except (_NotSubset, ValueError):  # ValueError: e.g. an integer too long to convert
        return None


def _read_plain_mapping(lines: list[str]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    list_key: str | None = None  # a key with an empty value: list items may follow
    indent = ""  # of that list's items
    for line in lines:
        if list_key is not None:
            item = _ITEM_LINE.fullmatch(line)
            if item is not None:
                items = mapping[list_key]
                if items is None:
                    items = mapping[list_key] = []
                    indent = item.group(1)
                elif item.group(1) != indent:
                    raise _NotSubset
                value = item.group(2).rstrip(" ")
                if not value:
                    raise _NotSubset
                items.append(_block_scalar(value))
                continue
            list_key = None
        entry = _KEY_LINE.fullmatch(line)
        if entry is None:
            raise _NotSubset
        key, value = entry.groups()
        value = value and value.rstrip(" ")
        if key in mapping or _resolve_plain(key) is not key:
            raise _NotSubset  # a duplicate (an error), or a key such as `true`
        if not value:
            mapping[key] = None  # null, unless list items follow
            list_key = key
        elif value[0] == "[":
            mapping[key] = _flow_list(value)
        else:
            mapping[key] = _block_scalar(value)
    if not mapping:
        raise _NotSubset
    return mapping


def _closing_line(text: str, body_start: int) -> tuple[int, int] | None:
    """(start, end) of the first `---` line from `body_start`, which starts a line."""
    if body_start >= len(text):
        return None
    close = _CLOSE.match(text, body_start)  # an empty block
    if close is not None:
        return body_start, close.end()
    close = _CLOSE_AFTER_BREAK.search(text, body_start)
    return None if close is None else (close.start() + 1, close.end())


def find_block(text: str, lines: LineIndex) -> Frontmatter | None:
    """The block opened by `---` on the first line and closed by the next `---` line."""
    m = _OPEN.match(text)
    if m is None:
        return None
    body_start = m.end()
    close = _closing_line(text, body_start)
    if close is None:
        # Unclosed: Obsidian shows it as text; F001 reports it.
        return Frontmatter(lines.span(0, m.end() - 1), body_start, len(text), closed=False)
    body_end, end = close
    return Frontmatter(
        lines.span(0, end), body_start, body_end, closed=True, yaml=text[body_start:body_end]
    )


def load(
    text: str, block: Frontmatter, lines: LineIndex
) -> tuple[dict[str, Any] | None, YamlError | None]:
    """Parse the YAML of a closed block: (properties, None) or (None, (message, line, col))."""
    source = block.yaml or text[block.body_start : block.body_end]
    if not source.strip():
        return {}, None

    properties = _plain_mapping(source)
    if properties is not None:
        return properties, None

    def at(index: int) -> tuple[int, int]:
        return lines.position(min(block.body_start + index, len(text)))

    # Imported here for start-up speed: pyyaml, only for a block outside the plain subset.
    from vaultsync.parse import yamlcore

    return yamlcore.load(source, at)
