"""The plain-subset reader of frontmatter against pyyaml, the reference it shortcuts.

`frontmatter._plain_mapping` reads blocks of `key: value` lines and `- item` lists
without libyaml. Whatever block it accepts, it must return exactly what the pyyaml
path returns: the same keys in the same order, values of the same types. Blocks it
declines (None) go to pyyaml, so declining is always allowed.

`VAULTSYNC_FUZZ_EXAMPLES` raises the example count for nightly runs.
"""

from __future__ import annotations

import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaultsync.core.model import Frontmatter, Span
from vaultsync.core.text import LineIndex
from vaultsync.parse import frontmatter as fm

EXAMPLES = int(os.environ.get("VAULTSYNC_FUZZ_EXAMPLES", "300"))


def pyyaml_load(source: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """What `frontmatter.load` returns for `source` with the subset reader turned off."""
    text = f"---\n{source}---\n"
    block = Frontmatter(Span(0, 0, 1, 1, 1, 1), 4, 4 + len(source), True, source)
    with monkeypatch.context() as patch:
        patch.setattr(fm, "_plain_mapping", lambda _source: None)
        return fm.load(text, block, LineIndex(text))


def same(a: Any, b: Any) -> bool:
    """Equal, with equal types all the way down (1 is not True, nor 1.0), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def check(source: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Assert the subset reader agrees with pyyaml; True if it accepted the block."""
    fast = fm._plain_mapping(source)
    if fast is None:
        return False
    properties, error = pyyaml_load(source, monkeypatch)
    assert error is None, (source, error)
    assert same(fast, properties), (source, fast, properties)
    return True


# Scalars a frontmatter block holds, and near misses: other YAML types, indicators,
# comments, mappings hiding in a value, quotes, odd spaces and characters.
SCALARS = [
    *["a", "b c", "x y  z", "café", "日本語", "☁️ x", "🏷️ tag", "²", "x\u00a0", "\u00a0x"],
    *["1", "-1", "+1", "0", "00", "1_000", "0x1f", "-0x1F", "0X1f", "0o17", "0o", "0x"],
    *["1.5", ".5", "1.", "1e5", "1E5", "-1.5e-3", "+.5", ".inf", "-.Inf", ".NaN", ".nan"],
    *["~", "null", "Null", "NULL", "true", "True", "TRUE", "tRue", "false", "yes", "on"],
    *["2025-07-26", "2025-07-26T05:49:00", "12:30", "1:20", "https://x.y/z?a=b#c"],
    *["x:y", "x: y", "x:", "x #c", "x#c", "#c", "- x", "-x", "-", "?x", "? x", ":x"],
    *["[x]", "[x, y]", "[]", "[ ]", "[x,]", "[,x]", "[x, [y]]", "{a: 1}", "{}", "x]", "x,"],
    *['"q"', '"q r"', '""', "'s'", "''", "'it''s'", '"a\\"b"', '"[[x|y]]"', "'[[z]]'"],
    *['"a: b"', "[[w]]", "*x", "&a x", "!x", "!!str 1", "%x", "@x", "`x", "|", "> x"],
    *["<<", "<x", "/p", "./p", "~x", "(x)", "$x", "^x", ";x", "=x", "\\x", "_x", "x'"],
    *["...", "..", ".", "+", "x\t", "\tx", "x\r", "x\u2028y", "x\x85y", "x\ufeffy", "1" * 5000],
]
# Most draws are of these, so that most blocks are ones the subset reader takes.
COMMON = ["a", "b c", "café", "日本語", "1", "1.5", "~", "true", "2025-07-26", "x:y", '"[[q]]"']
KEYS = ["title", "tags", "aliases", "date", "k-k", "k_2", "true", "Null", "n", "y", "on", "1"]


@st.composite
def flow_lists(draw: st.DrawFn) -> str:
    items = draw(st.lists(st.sampled_from(COMMON + SCALARS), max_size=4))
    separator = draw(st.sampled_from([", ", ",", " , "]))
    return (
        draw(st.sampled_from(["[", "[ "]))
        + separator.join(items)
        + draw(st.sampled_from(["]", " ]"]))
    )


@st.composite
def values(draw: st.DrawFn) -> str:
    roll = draw(st.integers(0, 19))
    if roll < 12:
        return draw(st.sampled_from(COMMON))
    if roll < 16:
        return draw(st.sampled_from(SCALARS))
    if roll < 19:
        return draw(flow_lists())
    return draw(st.text(max_size=8))


@st.composite
def keys(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 19)) == 0:
        return draw(st.sampled_from(SCALARS))
    return draw(st.sampled_from(KEYS[:6])) + draw(st.sampled_from(["", "2", "_x"]))


spaces = st.sampled_from(["", " ", "  "])


@st.composite
def blocks(draw: st.DrawFn) -> str:
    lines: list[str] = []
    for number in range(draw(st.integers(1, 5))):
        key = draw(keys())
        if draw(st.integers(0, 9)):
            key += f"_{number}"  # mostly distinct: a key written twice is declined
        if draw(st.booleans()):
            lines.append(key + draw(st.sampled_from([":", ": ", ":  "])))
            indent = draw(st.sampled_from(["", " ", "  ", "    "]))
            for _ in range(draw(st.integers(0, 3))):
                if draw(st.integers(0, 29)) == 0:
                    indent = draw(st.sampled_from(["", " ", "  ", "   "]))
                dash = draw(st.sampled_from(["- ", "- ", "- ", "-  ", "-"]))
                lines.append(indent + dash + draw(values()) + draw(spaces))
        else:
            separator = draw(st.sampled_from([": ", ": ", ": ", ":  ", ":"]))
            lines.append(key + separator + draw(values()) + draw(spaces))
        if draw(st.integers(0, 29)) == 0:
            lines.append(draw(st.sampled_from(["", " ", "# c", "  x", "...", "- x"])))
    return "\n".join(lines) + "\n"


@given(blocks())
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_subset_reader_agrees_with_pyyaml(monkeypatch: pytest.MonkeyPatch, source: str) -> None:
    check(source, monkeypatch)


@pytest.mark.parametrize(
    "source",
    [
        "title: Markets Small\ntags:\n  - café\ndate: 2025-07-26\nstatus: in-progress\n",
        "tags:\n- a\n- b\nnext: 1\n",
        'related: "[[energy_garden]]"\nlinks:\n  - "[[a b]]"\n  - \'[[c]]\'\n',
        "tags: [meeting, area/health, 日本語]\nempty: []\nnothing:\n",
        "n: 0x1f\nf: -.inf\nb: false\nz: ~\ns: 1_000\nv: -WtQamwnYmL\nt: 🏷️ tag\n",
        "url: https://x.y/z?a=b#c\ntime: 2025-07-26T05:49:00\nratio: 1:20\n",
    ],
)
def test_common_blocks_take_the_subset_reader(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check(source, monkeypatch)


@pytest.mark.parametrize(
    "source",
    [
        "a: 1\na: 2\n",  # a duplicate key: pyyaml reports it
        "true: x\n",  # a key that is not text
        "a: b: c\n",
        "a: x # comment\n",
        "a:\n  - x\n    - y\n",  # a list nested by indentation
        "a:\n  - x\n - y\n",
        "a: [x, [y]]\n",
        "a: {b: 1}\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: |\n  text\n",
        "a: 'it''s'\n",
        'a: "tab\\tbed"\n',
        "a:\tb\n",
        "a: b\r\n",
        "a: x\u2028y\n",
        "\ufeffa: b\n",
        "<<: {a: 1}\n",
        "a: " + "1" * 5000 + "\n",  # pyyaml's int() refuses it: an error, not a crash
        "# only a comment\n",
        "a: 1\n\nb: 2\n",
    ],
)
def test_the_subset_reader_declines_what_it_does_not_know(source: str) -> None:
    assert fm._plain_mapping(source) is None
