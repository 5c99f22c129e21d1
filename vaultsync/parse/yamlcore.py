"""Frontmatter YAML through pyyaml, read the way Obsidian (js-yaml) reads it.

`frontmatter` reads most blocks itself (the plain subset) and comes here only for the
rest, so pyyaml is imported when a block needs it: its import is about 19 ms, a
twentieth of a check after one edit. One parse with libyaml (the C loader, ~3.5x
faster than the pure-Python one) and one construction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, ClassVar

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from vaultsync.parse.yamltypes import (
    BOOL_TAG,
    BOOLS,
    CORE_RESOLVERS,
    FLOAT_TAG,
    INT_TAG,
    MERGE_TAG,
    NULL_TAG,
    YamlError,
    core_float,
    core_int,
)

# Both are safe loaders: no tag constructs an object (`!!python/object` is an error).
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A "billion laughs" block composes into a small node graph whose aliases share nodes;
# it only explodes when expanded. We measure the expansion before constructing anything.
MAX_EXPANDED_NODES = 10_000

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class YamlLoader(_Base):  # type: ignore[misc]
    """YAML 1.2 core scalars, as Obsidian (js-yaml) reads them; duplicate keys are errors.

    pyyaml resolves YAML 1.1, where `yes`, `on`, `1:20` and `2024-01-01` are a bool, a
    bool, the integer 80 and a date; in Obsidian they are text. Only true/false, null,
    decimal/0o/0x integers and floats are typed; everything else is a string. The
    types come from `yamltypes.CORE_RESOLVERS`, which the plain subset reads too.
    """

    # pyyaml's table of implicit resolvers by first character. It has neither path
    # resolvers nor wildcard (any first character) ones, which `resolve` relies on.
    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = CORE_RESOLVERS

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """pyyaml's BaseResolver.resolve for this loader. libyaml calls it for every
        node, and the general version costs twice as much."""
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
        return core_int(node.value)

    def construct_core_float(self, node: ScalarNode) -> float:
        return core_float(node.value)


YamlLoader.add_constructor(INT_TAG, YamlLoader.construct_core_int)
YamlLoader.add_constructor(FLOAT_TAG, YamlLoader.construct_core_float)
assert not YamlLoader.yaml_path_resolvers  # what YamlLoader.resolve takes for granted


def _raise_on_duplicate(
    loader: YamlLoader, node: MappingNode, pairs: list[tuple[Node, Node]]
) -> None:
    seen: set[Any] = set()
    for key_node, _ in pairs:
        if key_node.tag == MERGE_TAG:
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


class _Unusual(Exception):
    """A node `_construct` leaves to pyyaml's constructor."""


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
        if tag == NULL_TAG:
            return None
        if tag == BOOL_TAG:
            value = BOOLS.get(node.value.lower())  # the resolver allows true/false only
            if value is not None:
                return value
        elif tag == INT_TAG:
            return loader.construct_core_int(node)
        elif tag == FLOAT_TAG:
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


def load(
    source: str, at: Callable[[int], tuple[int, int]]
) -> tuple[dict[str, Any] | None, YamlError | None]:
    """A block's YAML: (properties, None) or (None, (message, line, column)).

    `at` turns an index into `source` into the 1-based (line, column) in the note.
    """
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
