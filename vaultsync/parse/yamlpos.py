"""Where each top-level key and value of a frontmatter block is, as spans in the note.

Computed on demand from `Frontmatter.yaml` (one libyaml compose, no construction), only
for notes that have a frontmatter problem; the hot path never pays for positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from vaultsync.core.model import Frontmatter, Span
from vaultsync.parse.yamlcore import compose


@dataclass(frozen=True, slots=True)
class Entry:
    """One top-level property: its key, its value and, for a list, each item."""

    key: Span
    value: Span  # an empty value (`tags:`) is the empty span where the value would be
    items: tuple[Span, ...]
    key_node: ScalarNode | None  # None for a non-scalar key
    value_node: Node


@dataclass(frozen=True, slots=True)
class Positions:
    block: Frontmatter
    entries: dict[str, Entry]  # property name -> entry; the first one if a key repeats
    flow: bool  # the block is a flow mapping (`{"tags": ["a"]}`, JSON style)

    def key(self, name: str) -> Span:
        entry = self.entries.get(name)
        return entry.key if entry is not None else self.start

    def value(self, name: str, index: int | None = None) -> Span:
        entry = self.entries.get(name)
        if entry is None:
            return self.start
        if index is not None and 0 <= index < len(entry.items):
            return entry.items[index]
        return entry.value

    @property
    def start(self) -> Span:
        """The opening `---`: where problems of the block as a whole are reported."""
        span = self.block.span
        return Span(span.start, span.start + 3, span.line, span.column, span.line, span.column + 3)

    def text(self, span: Span) -> str:
        """The YAML source of a span inside the block."""
        offset = self.block.body_start
        return self.block.yaml[span.start - offset : span.end - offset]


def locate(block: Frontmatter) -> Positions | None:
    """Positions of the block's top-level properties; None if it is not a parsable mapping."""
    try:
        root = compose(block.yaml)
    except (yaml.YAMLError, RecursionError):
        return None
    if not isinstance(root, MappingNode):
        return None
    first_line = block.span.line + 1  # the YAML starts on the line after the opening `---`

    def span(node: Node) -> Span:
        start, end = node.start_mark, node.end_mark
        return Span(
            block.body_start + start.index,
            block.body_start + end.index,
            first_line + start.line,
            start.column + 1,
            first_line + end.line,
            end.column + 1,
        )

    entries: dict[str, Entry] = {}
    for key_node, value_node in root.value:
        name = key_node.value if isinstance(key_node, ScalarNode) else None
        if name is None or name in entries:
            continue
        items = (
            tuple(span(item) for item in value_node.value)
            if isinstance(value_node, SequenceNode)
            else ()
        )
        entries[str(name)] = Entry(
            span(key_node),
            span(value_node),
            items,
            key_node if isinstance(key_node, ScalarNode) else None,
            value_node,
        )
    return Positions(block, entries, bool(root.flow_style))
