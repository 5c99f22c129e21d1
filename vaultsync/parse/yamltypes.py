"""The YAML 1.2 core schema's scalar types, shared by both frontmatter readers: the plain
subset (frontmatter.py) and pyyaml's loader (yamlcore.py) type a scalar the same way."""

from __future__ import annotations

import math
import re

BOOL_TAG = "tag:yaml.org,2002:bool"
NULL_TAG = "tag:yaml.org,2002:null"
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
MERGE_TAG = "tag:yaml.org,2002:merge"

BOOLS = {"true": True, "false": False}


def _core_resolvers() -> dict[str, list[tuple[str, re.Pattern[str]]]]:
    """YAML 1.2 core schema's implicit scalar types, by a plain scalar's first character:
    pyyaml's table of implicit resolvers, as `yamlcore.YamlLoader` uses it, and what
    the plain subset types its scalars by. Every other plain scalar is a string."""
    table: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    for tag, pattern, first in (
        (BOOL_TAG, r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        (NULL_TAG, r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        (INT_TAG, r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
        (
            FLOAT_TAG,
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            "-+.0123456789",
        ),
        (MERGE_TAG, r"^<<$", "<"),
    ):
        regexp = re.compile(pattern)
        for char in first:
            table.setdefault(char, []).append((tag, regexp))
    return table


CORE_RESOLVERS = _core_resolvers()


def core_int(value: str) -> int:
    text = value.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 10)


def core_float(value: str) -> float:
    text = value.lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    return float(text)


YamlError = tuple[str, int, int]  # message, 1-based line, column
