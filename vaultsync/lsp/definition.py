"""Go to definition: the file a link resolves to, at its heading or block."""

from __future__ import annotations

from lsprotocol import types

from vaultsync.lsp.cursor import destination, link_at
from vaultsync.lsp.session import Session


def definition(session: Session, uri: str, position: types.Position) -> types.Location | None:
    note = session.note(uri)
    if note is None:
        return None
    link = link_at(note.parsed, note.text.offset(position))
    if link is None:
        return None
    target = destination(session, note, link)
    if target is None:
        return None
    return target.location(note.folder.uri(target.path))
