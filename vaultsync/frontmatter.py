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
_CLOSE = re.compile(r"^---[ \t]*(?:\r?\n|\Z)", re.MULTILINE)

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
        """pyyaml's BaseResolver.resolve for this loader, which has no path resolvers and
        no resolvers for any first character (see _core_schema): libyaml calls it for
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
        text = node.value.replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits.startswith("0o"):
            return sign * int(digits[2:], 8)
        if digits.startswith("0x"):
            return sign * int(digits[2:], 16)
        return sign * int(digits, 10)

    def construct_core_float(self, node: ScalarNode) -> float:
        text = node.value.lower()
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
    body_end = close.start()
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


def string_list(value: Any) -> list[str]:
    """A property Obsidian reads as a list (tags, aliases): list items that are scalars."""
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int | float) and str(v).strip()]
    if isinstance(value, str) and value.strip() and "," not in value:
        return [value.strip()]  # R53: a single text value still counts; `a, b` does not
    return []
