"""Property values as Obsidian reads them, apart from YAML: most users of these helpers
(the index, the sections, the rules) must not load a YAML parser to get them."""

from __future__ import annotations

from typing import Any


def string_list(value: Any) -> list[str]:
    """A property Obsidian reads as a list (tags, aliases): list items that are scalars."""
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float) and str(v).strip()]
    if isinstance(value, str) and value.strip() and "," not in value:
        return [value.strip()]  # R53: a single text value still counts; `a, b` does not
    return []
