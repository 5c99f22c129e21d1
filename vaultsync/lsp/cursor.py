"""What is under the cursor, and where a link leads (definition, hover, references, rename)."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from vaultsync.core.model import Heading, Link, ParsedNote
from vaultsync.core.text import strip_md
from vaultsync.io.files import is_note_path
from vaultsync.lsp.session import Note, Session
from vaultsync.vault.index import block_index, heading_index


def link_at(parsed: ParsedNote, offset: int) -> Link | None:
    return next((k for k in parsed.links if k.span.start <= offset < k.span.end), None)


def heading_at(parsed: ParsedNote, offset: int) -> int | None:
    """The index of the heading whose line holds `offset`."""
    return next(
        (i for i, h in enumerate(parsed.headings) if h.span.start <= offset <= h.span.end), None
    )


def resolved(note: Note, link: Link) -> str | None:
    """The vault path `link` in `note` resolves to (as Obsidian resolves it)."""
    with note.live.lock:
        return note.live.vault.index.resolve(link.linkpath, note.path).path


@dataclass(frozen=True, slots=True)
class Target:
    """Where a link leads: a file, and in a note maybe one of its headings or blocks."""

    path: str
    note: Note | None  # the target note as the user sees it; None for an attachment
    heading: int | None = None  # index into note.parsed.headings
    block: int | None = None  # index into note.parsed.blocks

    @property
    def range(self) -> types.Range:
        if self.note is None:
            return types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
        text, parsed = self.note.text, self.note.parsed
        if self.heading is not None:
            return text.range(parsed.headings[self.heading].span)
        if self.block is not None:
            start = text.position(parsed.blocks[self.block].span.line, 1)
            return types.Range(start=start, end=start)
        return types.Range(start=types.Position(0, 0), end=types.Position(0, 0))

    def location(self, uri: str) -> types.Location:
        return types.Location(uri=uri, range=self.range)


def destination(session: Session, note: Note, link: Link) -> Target | None:
    """Where `link` in `note` leads; None when it resolves to nothing."""
    path = resolved(note, link)
    if path is None:
        return None
    if not is_note_path(path):
        return Target(path, None)
    target = session.other(note, path)
    if target is None:
        return None
    return at_subpath(target, link.subpath)


def linked_from(
    session: Session, uri: str, position: types.Position
) -> tuple[Note, Link, Target] | None:
    """The note at `uri`, the link under `position` in it and where it leads, if anywhere."""
    note = session.note(uri)
    if note is None:
        return None
    link = link_at(note.parsed, note.text.offset(position))
    if link is None:
        return None
    target = destination(session, note, link)
    return None if target is None else (note, link, target)


def at_subpath(target: Note, subpath: str | None) -> Target:
    """The place in `target` a `#Heading`, `#H1#H2` or `#^block` subpath names."""
    parsed = target.parsed
    if not subpath:
        return Target(target.path, target)
    if subpath.startswith("#^"):
        block = block_index([b.id for b in parsed.blocks], subpath[2:])
        return Target(target.path, target, block=block)
    heading = heading_index(outline(parsed), subpath)
    return Target(target.path, target, heading=heading)


def outline(parsed: ParsedNote) -> list[tuple[int, str]]:
    return [(h.level, h.text) for h in parsed.headings]


def title(note: Note, offset: int | None = None) -> Heading | None:
    """The note's title: its first heading if that is a level-1 heading spelled like the
    note's name (Obsidian's inline title); with `offset`, only if the cursor is on it."""
    headings = note.parsed.headings
    if not headings or headings[0].level != 1:
        return None
    heading = headings[0]
    name = strip_md(note.path.rsplit("/", 1)[-1])
    if heading.text.casefold() != name.casefold():
        return None
    if offset is not None and not heading.span.start <= offset <= heading.span.end:
        return None
    return heading
