"""Renaming a note (or attachment): the edit that rewrites every link to it, planned by
`vaultsync mv` itself (`mv.plan_move`), so it is that command's result to the byte.

- `textDocument/rename` on a link renames the file it reaches; on the note's title (a
  first `# Heading` spelled like its name, as Obsidian's inline title shows it) renames
  the note and the title. The edit ends with the file's rename.
- `workspace/willRenameFiles` (a rename in the client's file explorer): the edit the
  client applies before it renames the file.

A name Obsidian refuses, an existing file, a link that could not be written: the
planner's refusal, as an error (rename) or a warning (the client renames anyway).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.uris import to_fs_path

from vaultsync.core.model import Edit
from vaultsync.core.text import nfc, strip_md
from vaultsync.fixing.mv import MoveError, MovePlan, plan_move
from vaultsync.io import writer
from vaultsync.io.files import NoteText, extension, is_note_path, read_note
from vaultsync.lsp.cursor import link_at, resolved, title
from vaultsync.lsp.edits import FileEdits, supports_renames, text_edits, workspace_edit
from vaultsync.lsp.positions import Text
from vaultsync.lsp.session import WAIT_FOR_INDEX, Note, Session
from vaultsync.lsp.vaults import Folder
from vaultsync.vault.index import NoteEntry
from vaultsync.vault.loaded import Vault

log = logging.getLogger("vaultsync.lsp")

REQUEST_FAILED = -32803  # LSP's RequestFailed: the request was valid, the answer is no


def _refuse(message: str) -> JsonRpcException:
    return JsonRpcException(message, code=REQUEST_FAILED)


def _name(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return strip_md(name) if is_note_path(name) else name


class _Subject(NamedTuple):
    """What a rename at the cursor renames: a file, and the text the cursor is on."""

    path: str
    start: int  # offsets of the link's target, or of the title's text
    end: int
    title: bool  # the note's own title

    def range(self, note: Note) -> types.Range:
        return types.Range(start=note.text.at(self.start), end=note.text.at(self.end))


def _subject(note: Note, position: types.Position) -> _Subject | None:
    offset = note.text.offset(position)
    link = link_at(note.parsed, offset)
    if link is not None and link.linkpath:
        path = resolved(note, link)
        if path is None:
            return None
        return _Subject(path, link.target_start, link.target_start + len(link.target), False)
    heading = title(note, offset)
    if heading is None:
        return None
    start = note.text.text.find(heading.text, heading.span.start, heading.span.end)
    return _Subject(note.path, start, start + len(heading.text), True)


def prepare(
    session: Session, uri: str, position: types.Position
) -> types.PrepareRenamePlaceholder | None:
    note = session.note(uri)
    if note is None:
        return None
    subject = _subject(note, position)
    if subject is None:
        raise _refuse("vaultsync renames a note from a link to it or from its title")
    return types.PrepareRenamePlaceholder(
        range=subject.range(note), placeholder=_name(subject.path)
    )


def new_path(old: str, name: str) -> str:
    """Where a file goes when renamed to `name`: beside it, or at a vault path if `name`
    has a `/`; a note keeps `.md`, an attachment its extension unless another is given."""
    name = name.strip()
    if not name:
        raise _refuse("the new name is empty")
    if "/" in name:
        rel = name.lstrip("/")
    else:
        folder = old.rpartition("/")[0]
        rel = f"{folder}/{name}" if folder else name
    if is_note_path(old) and not is_note_path(rel):
        rel += ".md"
    elif not is_note_path(old) and not extension(rel):
        rel += "." + extension(old)
    return nfc(rel)


def rename(
    session: Session, uri: str, position: types.Position, name: str
) -> types.WorkspaceEdit | None:
    note = session.note(uri)
    if note is None:
        return None
    subject = _subject(note, position)
    if subject is None:
        raise _refuse("vaultsync renames a note from a link to it or from its title")
    if not supports_renames(session.client):
        raise _refuse("this editor cannot rename files through a workspace edit")
    old = subject.path
    new = new_path(old, name)
    plan = _plan(session, note.folder, old, new)
    files = _file_edits(session, note.folder, plan)
    if subject.title:
        edit = types.TextEdit(range=subject.range(note), new_text=_name(new))
        mine = next((f for f in files if f.uri == note.uri), None)
        if mine is None:
            files.append(FileEdits(note.uri, note.version, [edit]))
        else:
            mine.edits.append(edit)
    renames = [(note.folder.uri(old), note.folder.uri(new))]
    return workspace_edit(session.client, files, renames)


def will_rename(session: Session, params: types.RenameFilesParams) -> types.WorkspaceEdit | None:
    """The link rewrites for files the client is about to rename (one plan per file;
    a plan touching a note another plan touches too is left out, with a warning)."""
    files: list[FileEdits] = []
    for rename_ in params.files:
        planned = _planned_for(session, rename_.old_uri, rename_.new_uri)
        if planned is None:
            continue
        touched = {f.uri for f in files}
        if any(f.uri in touched for f in planned):
            log.warning(
                "%s: renamed with another file it links to; its links not updated", rename_.old_uri
            )
            continue
        files.extend(planned)
    if not files:
        return None
    return workspace_edit(session.client, files)


def _planned_for(session: Session, old_uri: str, new_uri: str) -> list[FileEdits] | None:
    old_fs, new_fs = to_fs_path(old_uri), to_fs_path(new_uri)
    if old_fs is None or new_fs is None:
        return None
    located = session.vaults.locate(old_uri)
    if located is None:
        return None
    folder, old = located
    new = folder.relative(new_fs)
    live = folder.ready(WAIT_FOR_INDEX)
    if live is None or new is None:
        return None
    with live.lock:
        known = any(f.path == old for f in live.vault.files)
    if not known:
        if Path(old_fs).is_dir():
            log.warning("%s: a folder; links to the files in it are not updated", old)
        return None
    try:
        return _file_edits(session, folder, _plan(session, folder, old, new))
    except JsonRpcException as exc:
        session.warn(f"vaultsync: links to {old} not updated: {exc.message}")
        return None


def _plan(session: Session, folder: Folder, old: str, new: str) -> MovePlan:
    live = folder.live
    assert live is not None
    for buffer in session.buffers.of(folder):
        session.updates.absorb(buffer)  # the plan reads buffers as the live vault has them

    def read(vault: Vault, entry: NoteEntry) -> NoteText:
        buffer = session.buffers.at(folder, entry.path)
        if buffer is not None and buffer.applied_text is not None:
            text = buffer.applied_text
            return NoteText(text, entry.bom, writer.digest(writer.encode(text, entry.bom)))
        return read_note(folder.location(entry.path), vault.config.max_file_size, vault.root)

    with live.lock:
        try:
            return plan_move(live.vault, old, new, read)
        except MoveError as exc:
            raise _refuse(str(exc)) from None


def _file_edits(session: Session, folder: Folder, plan: MovePlan) -> list[FileEdits]:
    """Each changed note's edits, against the text the plan read (its buffer's, if open)."""
    files = []
    for change in sorted(plan.changes, key=lambda c: c.path):
        buffer = session.buffers.at(folder, change.path)
        version = buffer.applied if buffer is not None else None
        edits: list[Edit] = change.edits
        files.append(
            FileEdits(folder.uri(change.path), version, text_edits(Text(change.before), edits))
        )
    return files
