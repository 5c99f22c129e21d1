"""References of a note or of one of its headings or blocks: its backlinks, as Obsidian's
backlinks pane lists them (links in generated sections and self-links left out)."""

from __future__ import annotations

from lsprotocol import types

from vaultsync.lsp.cursor import Target, destination, heading_at, link_at, outline
from vaultsync.lsp.session import Note, Session
from vaultsync.vault.index import block_index, heading_index
from vaultsync.vault.sections import own_links


def references(
    session: Session, uri: str, position: types.Position, declaration: bool
) -> list[types.Location] | None:
    """What the cursor is on: a link (its target), a heading, or else the note itself."""
    note = session.note(uri)
    if note is None:
        return None
    offset = note.text.offset(position)
    link = link_at(note.parsed, offset)
    if link is not None:
        target = destination(session, note, link)
    else:
        heading = heading_at(note.parsed, offset)
        target = Target(note.path, note, heading=heading)
    if target is None:
        return []
    found = backlinks(session, note, target)
    if declaration:
        found.insert(0, target.location(note.folder.uri(target.path)))
    return found


def backlinks(session: Session, note: Note, target: Target) -> list[types.Location]:
    """Every link from another note that leads to `target` (at its heading or block)."""
    for buffer in session.buffers.of(note.folder):
        session.updates.absorb(buffer)  # the links as the user sees them
    live = note.live
    places: list[tuple[str, list[int]]] = []
    with live.lock:
        vault = live.vault
        links_of = own_links(vault)
        for source in live.incoming(target.path):
            if source == target.path or source not in vault.notes:
                continue
            own = links_of[source]
            hits = [
                i
                for i, (link, resolution) in enumerate(zip(own.links, own.resolved, strict=True))
                if resolution.path == target.path and _lands(target, link.subpath)
            ]
            if hits:
                places.append((source, hits))
        found: list[types.Location] = []
        for source, hits in places:
            seen = session.other(note, source)
            if seen is None:
                continue
            links = links_of[source].links
            found.extend(
                types.Location(uri=seen.uri, range=seen.text.range(links[i].span)) for i in hits
            )
    return found


def _lands(target: Target, subpath: str | None) -> bool:
    """Does a link with `subpath` reach the target's heading or block (or the note)?"""
    if target.heading is None and target.block is None:
        return True
    if not subpath or target.note is None:
        return False
    parsed = target.note.parsed
    if target.block is not None:
        return (
            subpath.startswith("#^")
            and block_index([b.id for b in parsed.blocks], subpath[2:]) == target.block
        )
    return (
        not subpath.startswith("#^") and heading_index(outline(parsed), subpath) == target.heading
    )
