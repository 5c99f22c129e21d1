"""Workspace edits in the form the client takes: versioned document changes where it
can (an edit computed for an older buffer is then refused, not misapplied), else a plain
map of edits per file."""

from __future__ import annotations

from dataclasses import dataclass, field

from lsprotocol import types

from vaultsync.core.model import Edit
from vaultsync.lsp.positions import Text


@dataclass(slots=True)
class FileEdits:
    uri: str
    version: int | None  # the buffer's version the edits are for; None: the file on disk
    edits: list[types.TextEdit] = field(default_factory=list)


def text_edits(text: Text, edits: list[Edit]) -> list[types.TextEdit]:
    return [
        types.TextEdit(
            range=types.Range(start=text.at(e.span.start), end=text.at(e.span.end)),
            new_text=e.new_text,
        )
        for e in sorted(edits, key=lambda e: (e.span.start, e.span.end))
    ]


def smallest_edit(text: Text, before: str, after: str) -> types.TextEdit:
    """One edit turning `before` (the text of `text`) into `after`: the part between what
    they share at both ends, so the rest of the buffer (and the cursor) stays put."""
    start = 0
    limit = min(len(before), len(after))
    while start < limit and before[start] == after[start]:
        start += 1
    end = 0
    while end < limit - start and before[-1 - end] == after[-1 - end]:
        end += 1
    return types.TextEdit(
        range=types.Range(start=text.at(start), end=text.at(len(before) - end)),
        new_text=after[start : len(after) - end],
    )


def supports_document_changes(client: types.ClientCapabilities) -> bool:
    edit = client.workspace.workspace_edit if client.workspace is not None else None
    return bool(edit is not None and edit.document_changes)


def supports_renames(client: types.ClientCapabilities) -> bool:
    edit = client.workspace.workspace_edit if client.workspace is not None else None
    operations = edit.resource_operations if edit is not None else None
    return supports_document_changes(client) and types.ResourceOperationKind.Rename in (
        operations or []
    )


def workspace_edit(
    client: types.ClientCapabilities,
    files: list[FileEdits],
    renames: list[tuple[str, str]] | None = None,
) -> types.WorkspaceEdit:
    """The edits, then the file renames (old URI -> new URI; only where supported)."""
    if not supports_document_changes(client):
        assert not renames
        return types.WorkspaceEdit(changes={f.uri: f.edits for f in files if f.edits})
    changes: list[types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile]
    changes = [
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(
                uri=f.uri, version=f.version
            ),
            edits=list(f.edits),
        )
        for f in files
        if f.edits
    ]
    changes.extend(types.RenameFile(old_uri=old, new_uri=new) for old, new in renames or [])
    return types.WorkspaceEdit(document_changes=changes)
