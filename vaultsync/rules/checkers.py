"""The checkers, in the order they run: plain functions, one per family, each emitting the
codes of its family (rules/codes.py). A checker may emit several codes when they share work
(every link is resolved once)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from vaultsync.core.model import Diagnostic
from vaultsync.rules import frontmatter, links, sections
from vaultsync.rules.context import Context
from vaultsync.vault.index import NoteEntry

Checker = Callable[[Context, NoteEntry], Iterator[Diagnostic]]

# A list, not a tuple: tests add a checker of their own for a while.
CHECKERS: list[Checker] = [
    frontmatter.check_frontmatter,
    links.check_links,
    sections.check_sections,
]
