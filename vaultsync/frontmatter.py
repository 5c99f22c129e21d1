"""The frontmatter block (R50) and its YAML, loaded safely."""

from __future__ import annotations

import re
from typing import Any

import yaml

from vaultsync.model import Frontmatter
from vaultsync.text import LineIndex

# The C loader is ~3.5x faster; both are safe loaders (no object-constructing tags).
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_OPEN = re.compile(r"---[ \t]*\r?\n")
_CLOSE = re.compile(r"^---[ \t]*(?:\r?\n|\Z)", re.MULTILINE)
_MAX_ALIASES = 64


def find_block(text: str, lines: LineIndex) -> Frontmatter | None:
    """The block opened by `---` on the first line and closed by the next `---` line."""
    m = _OPEN.match(text)
    if m is None:
        return None
    body_start = m.end()
    close = _CLOSE.search(text, body_start) if body_start < len(text) else None
    if close is None:
        # Unclosed: Obsidian shows it as text; F001 reports it.
        return Frontmatter(lines.span(0, m.end() - 1), body_start, len(text), closed=False)
    end = close.end()
    return Frontmatter(lines.span(0, end), body_start, close.start(), closed=True)


def load(
    text: str, block: Frontmatter, lines: LineIndex
) -> tuple[dict[str, Any] | None, tuple[str, int, int] | None]:
    """Parse the YAML of a closed block: (properties, None) or (None, (message, line, col))."""
    source = text[block.body_start : block.body_end]
    if not source.strip():
        return {}, None
    if source.count("*") > _MAX_ALIASES and len(re.findall(r"\*[^\s,\]}]+", source)) > (
        _MAX_ALIASES
    ):
        line, column = lines.position(block.body_start)
        return None, (f"more than {_MAX_ALIASES} YAML aliases", line, column)
    try:
        data = yaml.load(source, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        offset = block.body_start + (mark.index if mark is not None else 0)
        line, column = lines.position(min(offset, len(text)))
        return None, (str(exc.problem or exc.context or "invalid YAML"), line, column)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        line, column = lines.position(block.body_start)
        return None, (f"invalid YAML: {type(exc).__name__}", line, column)
    if data is None:
        return {}, None
    if not isinstance(data, dict):
        line, column = lines.position(block.body_start)
        return None, ("frontmatter is not a mapping of properties", line, column)
    return {str(k): v for k, v in data.items()}, None


def string_list(value: Any) -> list[str]:
    """A property Obsidian reads as a list (tags, aliases): list items that are scalars."""
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float) and str(v).strip()]
    if isinstance(value, str) and value.strip() and "," not in value:
        return [value.strip()]  # R53: a single text value still counts; `a, b` does not
    return []
