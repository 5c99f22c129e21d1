"""Document links: every link of the note that resolves, to the file it reaches."""

from __future__ import annotations

from lsprotocol import types

from vaultsync.lsp.session import Session


def document_links(session: Session, uri: str) -> list[types.DocumentLink] | None:
    note = session.note(uri)
    if note is None:
        return None
    with note.live.lock:
        index = note.live.vault.index
        reached = [
            (link, index.resolve(link.linkpath, note.path).path) for link in note.parsed.links
        ]
    return [
        types.DocumentLink(
            range=note.text.range(link.span), target=note.folder.uri(path), tooltip=path
        )
        for link, path in reached
        if path is not None and link.linkpath  # `[[#Heading]]` stays in the note
    ]
