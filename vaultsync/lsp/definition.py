"""Go to definition: the file a link resolves to, at its heading or block."""

from __future__ import annotations

from lsprotocol import types

from vaultsync.lsp.cursor import linked_from
from vaultsync.lsp.session import Session


def definition(session: Session, uri: str, position: types.Position) -> types.Location | None:
    found = linked_from(session, uri, position)
    if found is None:
        return None
    note, _link, target = found
    return target.location(note.folder.uri(target.path))
