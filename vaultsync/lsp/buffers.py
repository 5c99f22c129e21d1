"""Open buffers: the text the editor holds stands in for the file in the live vault.

An edit is put into the live vault as the daemon takes in a save (`LiveVault.replace_entry`:
one note re-parsed, its links re-mapped, spellings re-counted), so a note's diagnostics,
and everything a request answers, follow what the user sees rather than what was saved.
Closing an unsaved buffer puts the file's own text back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pygls.workspace import TextDocument

from vaultsync.config.settings import Config
from vaultsync.core.model import ParsedNote
from vaultsync.daemon.live import Update
from vaultsync.io import writer
from vaultsync.io.files import UnreadableFile, read_note
from vaultsync.lsp.vaults import Folder
from vaultsync.parse.scanner import parse


@dataclass(eq=False)
class Buffer:
    uri: str
    folder: Folder
    path: str  # vault path
    document: TextDocument  # pygls keeps it current with the client's edits
    applied: int | None = None  # the version the live vault holds (None: none yet)
    applied_text: str | None = None  # its text: the diagnostics published are about it
    # What its last published diagnostics were computed from: (live vault, its generation,
    # the version); the same again needs no new publication.
    published: tuple[int, int, int | None] | None = None
    # Its headings and block ids as the other notes last saw them (saved): while they stay,
    # the links into it from other notes keep their diagnostics.
    outline: Outline | None = None
    _parsed: tuple[int | None, str, ParsedNote] | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        return self.document.source

    @property
    def version(self) -> int | None:
        return self.document.version

    def parsed(self) -> tuple[str, ParsedNote]:
        """The buffer's text now and its parse (kept per version: requests come in bursts)."""
        version, text = self.document.version, self.document.source
        known = self._parsed
        if known is None or known[0] != version or known[1] is not text:
            known = self._parsed = (version, text, parse(text))
        return known[1], known[2]


Outline = tuple[tuple[tuple[int, str], ...], tuple[str, ...]]


def outline(parsed: ParsedNote | None) -> Outline:
    if parsed is None:
        return (), ()
    return tuple((h.level, h.text) for h in parsed.headings), tuple(b.id for b in parsed.blocks)


class Buffers:
    """The open buffers, by URI."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, Buffer] = {}

    def open(self, uri: str, folder: Folder, path: str, document: TextDocument) -> Buffer:
        with self._lock:
            buffer = self._open[uri] = Buffer(uri, folder, path, document)
            return buffer

    def close(self, uri: str) -> Buffer | None:
        with self._lock:
            return self._open.pop(uri, None)

    def get(self, uri: str) -> Buffer | None:
        with self._lock:
            return self._open.get(uri)

    def of(self, folder: Folder) -> list[Buffer]:
        with self._lock:
            return [b for b in self._open.values() if b.folder is folder]

    def at(self, folder: Folder, path: str) -> Buffer | None:
        with self._lock:
            return next(
                (b for b in self._open.values() if b.folder is folder and b.path == path), None
            )

    def text_of(self, folder: Folder, path: str) -> str | None:
        """A note's text as the user sees it: its buffer's, else the file's (None: unreadable)."""
        buffer = self.at(folder, path)
        if buffer is not None:
            return buffer.text
        live = folder.live
        max_size = (live.config if live is not None else Config()).max_file_size
        try:
            return read_note(folder.location(path), max_size, folder.root).text
        except UnreadableFile:
            return None


def sync(buffer: Buffer) -> Update | None:
    """Put the buffer's text into its vault's live index, once per version.

    None when nothing changed: the live vault had that text already, or the buffer is no
    note of it (a file not saved yet, deleted underneath, in a dot-folder).
    """
    live = buffer.folder.live
    if live is None:
        return None
    with live.lock:
        version, text = buffer.version, buffer.text
        if buffer.applied == version and version is not None:
            return None
        buffer.applied, buffer.applied_text = version, text
        entry = live.vault.notes.get(buffer.path)
        if entry is None:
            return None
        digest = writer.digest(writer.encode(text, entry.bom))
        if digest == entry.digest:
            return None
        # As if the editor had saved it: the entry's digest is that of the buffer's bytes,
        # so the save's own file event, when it comes, finds nothing new.
        return live.replace_entry(buffer.path, text, entry.bom, digest)
