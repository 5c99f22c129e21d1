"""The frontmatter block (R50) and its YAML, loaded safely and the way Obsidian reads it.

Loading is on every note's hot path, so it does as little as it can: one parse with
libyaml (the C loader, ~3.5x faster than the pure-Python one) and one construction.
Positions of keys and values are not kept here; `yamlpos` recomputes them from
`Frontmatter.yaml` for the few notes that have a problem.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, ClassVar

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from vaultsync.model import Frontmatter
from vaultsync.text import LineIndex

# Both are safe loaders: no tag constructs an object (`!!python/object` is an error).
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_OPEN = re.compile(r"---[ \t]*\r?\n")
# The closing line. Searched for with the line break before it: a pattern that starts
# with a literal is located at C speed, one that starts with `^` is tried everywhere.
_CLOSE = re.compile(r"---[ \t]*(?:\r?\n|\Z)")
_CLOSE_AFTER_BREAK = re.compile(r"\n---[ \t]*(?:\r?\n|\Z)")

# A "billion laughs" block composes into a small node graph whose aliases share nodes;
# it only explodes when expanded. We measure the expansion before constructing anything.
MAX_EXPANDED_NODES = 10_000

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"


class YamlLoader(_Base):  # type: ignore[misc]
    """YAML 1.2 core scalars, as Obsidian (js-yaml) reads them; duplicate keys are errors.

    pyyaml resolves YAML 1.1, where `yes`, `on`, `1:20` and `2024-01-01` are a bool, a
    bool, the integer 80 and a date; in Obsidian they are text. Only true/false, null,
    decimal/0o/0x integers and floats are typed; everything else is a string.
    """

    yaml_implicit_resolvers: ClassVar[dict[str | None, list[tuple[str, re.Pattern[str]]]]] = {}

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """pyyaml's BaseResolver.resolve for this loader, which has neither path resolvers
        nor wildcard (any first character) ones, see _core_schema. libyaml calls it for
        every node, and the general version costs twice as much."""
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        original = node.value[:]  # flatten_mapping rewrites node.value for `<<` merges
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        if len(mapping) < len(original):
            _raise_on_duplicate(self, node, original)
        return mapping

    def construct_core_int(self, node: ScalarNode) -> int:
        return _core_int(node.value)

    def construct_core_float(self, node: ScalarNode) -> float:
        return _core_float(node.value)


def _core_int(value: str) -> int:
    text = value.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 10)


def _core_float(value: str) -> float:
    text = value.lower()
    if text.endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text == ".nan":
        return math.nan
    return float(text)


def _raise_on_duplicate(
    loader: YamlLoader, node: MappingNode, pairs: list[tuple[Node, Node]]
) -> None:
    seen: set[Any] = set()
    for key_node, _ in pairs:
        if key_node.tag == _MERGE:
            continue
        key = loader.construct_object(key_node)
        try:
            if key in seen:
                raise ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        except TypeError:  # an unhashable key: pyyaml has already reported it
            continue


def _core_schema() -> None:
    add = YamlLoader.add_implicit_resolver
    add("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF")
    add("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
    add(_INT, re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), "-+0123456789")
    add(
        _FLOAT,
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        "-+.0123456789",
    )
    add(_MERGE, re.compile(r"^<<$"), "<")
    YamlLoader.add_constructor(_INT, YamlLoader.construct_core_int)
    YamlLoader.add_constructor(_FLOAT, YamlLoader.construct_core_float)
    # What YamlLoader.resolve takes for granted.
    assert None not in YamlLoader.yaml_implicit_resolvers
    assert not YamlLoader.yaml_path_resolvers


_core_schema()


class _Unusual(Exception):
    """A node `_construct` leaves to pyyaml's constructor."""


_BOOLS = {"true": True, "false": False}


def _construct(loader: YamlLoader, node: Node) -> Any:
    """The value of a plain tree of mappings, lists and core scalars, as pyyaml builds it.

    pyyaml's constructor spends more than libyaml's parse on frontmatter (a generic
    dispatch, generators and bookkeeping per node). Anything else raises _Unusual:
    other tags, merge keys, non-scalar keys, and a key written twice, which pyyaml
    reports. A graph with aliases (shared nodes) is never given here.
    """
    tag = node.tag
    if isinstance(node, ScalarNode):
        if tag == _STR:
            return node.value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            value = _BOOLS.get(node.value.lower())  # the resolver allows true/false only
            if value is not None:
                return value
        elif tag == _INT:
            return loader.construct_core_int(node)
        elif tag == _FLOAT:
            return loader.construct_core_float(node)
    elif isinstance(node, SequenceNode) and tag == _SEQ:
        return [_construct(loader, item) for item in node.value]
    elif isinstance(node, MappingNode) and tag == _MAP:
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise _Unusual  # a list or mapping as a key: unhashable, pyyaml says so
            key = _construct(loader, key_node)
            if key in mapping:
                raise _Unusual
            mapping[key] = _construct(loader, value_node)
        return mapping
    raise _Unusual


def _construct_document(loader: YamlLoader, node: MappingNode, source: str) -> Any:
    """loader.construct_document(node), through `_construct` when it can."""
    if "*" not in source:  # no alias, so no shared nodes
        try:
            return _construct(loader, node)
        except Exception:  # pyyaml decides: its value or its error
            pass
    return loader.construct_document(node)


# --- the plain subset -------------------------------------------------------------------
# Most frontmatter is a few `key: value` lines and lists of `- item` lines. For a block
# that is certainly in that subset the properties are read here directly, at a fraction
# of the cost of libyaml's parse plus pyyaml's node graph. The subset is deliberately
# narrow: one key or item per line, keys that are words, values that are single-line
# plain or quoted scalars or a flat `[a, b]` list. Anything else, and every error, goes
# to pyyaml. Plain scalars are typed by the loader's own resolvers (`_resolve_plain`).
# tests/test_frontmatter.py compares the two on generated blocks.

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
    """A plain scalar's value, typed by YamlLoader's implicit resolvers (YAML 1.2 core)."""
    for tag, regexp in YamlLoader.yaml_implicit_resolvers.get(text[:1], ()):
        if regexp.match(text):
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return _BOOLS[text.lower()]
            if tag == _INT:
                return _core_int(text)
            if tag == _FLOAT:
                return _core_float(text)
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


YamlError = tuple[str, int, int]  # message, 1-based line, column


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

    loader = YamlLoader(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, None
        if "*" in source:  # no `*`, no alias: the common case skips the measurement
            problem = alias_problem(node)
            if problem is not None:
                message, index = problem
                return None, (message, *at(index))
        if not isinstance(node, MappingNode):
            return None, ("frontmatter is not a mapping of properties", *at(0))
        data = _construct_document(loader, node, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem_text = str(exc.problem or exc.context or "invalid YAML")
        return None, (problem_text, *at(mark.index if mark is not None else 0))
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        return None, (f"invalid YAML: {type(exc).__name__}", *at(0))
    finally:
        loader.dispose()
    return {str(k): v for k, v in data.items()}, None


def alias_problem(root: Node) -> tuple[str, int] | None:
    """(message, index) when aliases expand past the cap or refer to themselves."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in visiting:
            raise _Recursive(node)
        visiting.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(item) for item in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        visiting.discard(key)
        sizes[key] = total
        return total

    # Walk the top level item by item so the report points at the value that explodes.
    children: list[Node]
    if isinstance(root, MappingNode):
        children = [v for _, v in root.value]
    elif isinstance(root, SequenceNode):
        children = list(root.value)
    else:
        children = [root]
    total = 0
    try:
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                return (
                    f"YAML aliases expand to more than {MAX_EXPANDED_NODES} values",
                    child.start_mark.index,
                )
    except _Recursive as exc:
        return ("YAML alias refers to itself", exc.node.start_mark.index)
    return None


class _Recursive(Exception):
    def __init__(self, node: Node) -> None:
        super().__init__("recursive alias")
        self.node = node


class _PositionLoader(YamlLoader):
    """Composes only: positions need no scalar types, so resolution is skipped (~35%)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        return ""


def compose(source: str) -> Node | None:
    """The node graph of a block's YAML (no construction): where keys and values are."""
    loader = _PositionLoader(source)
    try:
        node: Node | None = loader.get_single_node()
        return node
    finally:
        loader.dispose()


_PLAIN = re.compile(r"(?![-?:,\[\]{}#&*!|>'\"%@`])[^\s,\[\]{}][^,\[\]{}\n\r]*(?<!\s)")


def yaml_scalar(text: str) -> str:
    """`text` written as a YAML scalar that reads back as the same text: plain if it can be."""
    if _PLAIN.fullmatch(text) and ": " not in text and " #" not in text:
        try:
            if yaml.load(text, Loader=YamlLoader) == text:
                return text
        except yaml.YAMLError:
            pass
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(text, ensure_ascii=False)
