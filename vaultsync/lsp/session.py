"""What every request starts from: the note it is about, in its vault, as the user sees it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from lsprotocol import types

from vaultsync.core.model import ParsedNote
from vaultsync.daemon.live import LiveVault
from vaultsync.lsp.buffers import Buffers
from vaultsync.lsp.positions import Text
from vaultsync.lsp.updates import Updates
from vaultsync.lsp.vaults import Folder, Vaults
from vaultsync.parse.scanner import parse

log = logging.getLogger("vaultsync.lsp")

# How long a request waits for its vault to be indexed (10,000 notes take seconds; a
# slow disk or 100,000 notes, more).
WAIT_FOR_INDEX = 600.0


@dataclass(frozen=True, slots=True)
class Note:
    """A note as the user sees it: its buffer's text if open, else its file's."""

    folder: Folder
    live: LiveVault
    path: str  # vault path
    uri: str
    text: Text
    parsed: ParsedNote
    version: int | None  # the buffer's version; None for a file's text


class Session:
    """The server's state: vaults, open buffers, the updater, what the client can do."""

    def __init__(self, vaults: Vaults, buffers: Buffers, updates: Updates) -> None:
        self.vaults = vaults
        self.buffers = buffers
        self.updates = updates
        self.client = types.ClientCapabilities()
        self.warn: Callable[[str], None] = log.warning  # a message the user should see

    def note(self, uri: str) -> Note | None:
        """The note at `uri`, once its vault is indexed; None if it is no vault's file."""
        located = self.vaults.locate(uri)
        if located is None:
            return None
        folder, path = located
        self.updates.load_new()  # a vault first met through this note
        live = folder.ready(WAIT_FOR_INDEX)
        if live is None:
            return None
        buffer = self.buffers.get(uri)
        if buffer is not None:
            self.updates.absorb(buffer)  # what the request reads of the vault is this text
            text, parsed = buffer.parsed()
            return Note(folder, live, path, uri, Text(text), parsed, buffer.version)
        read = self.buffers.text_of(folder, path)
        if read is None:
            return None
        return Note(folder, live, path, uri, Text(read), parse(read), None)

    def other(self, note: Note, path: str) -> Note | None:
        """Another note of `note`'s vault, as the user sees it."""
        if path == note.path:
            return note
        buffer = self.buffers.at(note.folder, path)
        if buffer is not None:
            text, parsed = buffer.parsed()
            return Note(
                note.folder, note.live, path, buffer.uri, Text(text), parsed, buffer.version
            )
        read = self.buffers.text_of(note.folder, path)
        if read is None:
            return None
        uri = note.folder.uri(path)
        return Note(note.folder, note.live, path, uri, Text(read), parse(read), None)

    def folders(self) -> list[Folder]:
        """Every indexed vault (waiting for those being indexed)."""
        self.updates.load_new()
        return [f for f in self.vaults.all() if f.ready(WAIT_FOR_INDEX) is not None]
