"""Code actions: each fixable problem's fix (safe ones as preferred quick fixes, unsafe
ones labelled), and "fix all safe problems in this note", which is `vaultsync fix NOTE`
run on the buffer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types

from vaultsync.core.model import Diagnostic, FixKind
from vaultsync.fixing.fix import FORCE_CODES, FixOptions, fix_vault, wanted
from vaultsync.io import writer
from vaultsync.io.files import NoteText
from vaultsync.lsp.diagnostics import same, to_lsp
from vaultsync.lsp.edits import FileEdits, smallest_edit, text_edits, workspace_edit
from vaultsync.lsp.session import Note, Session

FIX_ALL_KIND = "source.fixAll.vaultsync"
FIX_ALL_TITLE = "Fix all safe problems in this note (vaultsync)"
_SAFE = FixOptions()


def _wants(only: list[str] | None, kind: str) -> bool:
    """Does the client ask for actions of `kind` (kinds are hierarchical: `source` asks
    for `source.fixAll.vaultsync`)?"""
    return only is None or any(kind == k or kind.startswith(k + ".") for k in only)


def code_actions(session: Session, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    note = session.note(params.text_document.uri)
    if note is None:
        return None
    only = [str(k) for k in params.context.only] if params.context.only else None
    start = note.text.offset(params.range.start)
    end = note.text.offset(params.range.end)
    with note.live.lock:
        if not _current(note):
            return None  # the buffer moved on; the client asks again
        diagnostics = note.live.diagnostics([note.path])
    actions: list[types.CodeAction] = []
    if _wants(only, types.CodeActionKind.QuickFix):
        for diagnostic in diagnostics:
            fix = diagnostic.fix
            if fix is None or not fix.edits:
                continue
            span = diagnostic.span
            if span.end < start or span.start > end:
                continue
            actions.append(_quick_fix(session, note, diagnostic, params.context.diagnostics))
    if _wants(only, FIX_ALL_KIND) and any(wanted(d.fix, d.code, _SAFE) for d in diagnostics):
        action = types.CodeAction(
            title=FIX_ALL_TITLE,
            kind=FIX_ALL_KIND,
            data={"uri": note.uri, "version": note.version},
        )
        if not _resolves_edits(session.client):
            action.edit = fix_all(session, note)
        if action.edit is not None or _resolves_edits(session.client):
            actions.append(action)
    return actions


def _current(note: Note) -> bool:
    """Does the live vault hold the text this request sees (so are the fixes for it)?"""
    entry = note.live.vault.notes.get(note.path)
    if entry is None:
        return False
    return writer.digest(writer.encode(note.text.text, entry.bom)) == entry.digest


def _quick_fix(
    session: Session, note: Note, diagnostic: Diagnostic, theirs: Sequence[types.Diagnostic]
) -> types.CodeAction:
    assert diagnostic.fix is not None
    safe = diagnostic.fix.applicability is FixKind.SAFE and diagnostic.code not in FORCE_CODES
    ours = to_lsp(diagnostic, note.text)
    matching = next((d for d in theirs if same(ours, d)), ours)
    label = f"Fix {diagnostic.code}: {diagnostic.message}"
    if not safe:
        label += " (unsafe: review the change)"
    edits = FileEdits(note.uri, note.version, text_edits(note.text, list(diagnostic.fix.edits)))
    return types.CodeAction(
        title=label,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[matching],
        is_preferred=safe,
        edit=workspace_edit(session.client, [edits]),
    )


def _resolves_edits(client: types.ClientCapabilities) -> bool:
    action = client.text_document.code_action if client.text_document is not None else None
    support = action.resolve_support if action is not None else None
    return support is not None and "edit" in support.properties


def resolve(session: Session, action: types.CodeAction) -> types.CodeAction:
    data: Any = action.data
    if action.title != FIX_ALL_TITLE or not isinstance(data, dict) or "uri" not in data:
        return action
    note = session.note(str(data["uri"]))
    if note is not None and note.version == data.get("version"):
        action.edit = fix_all(session, note)
    return action


def fix_all(session: Session, note: Note) -> types.WorkspaceEdit | None:
    """The edit `vaultsync fix NOTE` (safe fixes, the config's rules) would make to the
    buffer, computed in memory with the same fix loop."""
    live = note.live
    text = note.text.text
    with live.lock:
        entry = live.vault.notes.get(note.path)
        if entry is None or entry.excluded or not _current(note):
            return None
        known = NoteText(text, entry.bom, entry.digest)
        result = fix_vault(
            live.vault,
            live.selection,
            only=[note.path],
            options=FixOptions(dry_run=True),
            texts={note.path: known},
        )
    change = result.changes.get(note.path)
    if change is None or change.before != text:
        return None
    edit = smallest_edit(note.text, text, change.after)
    return workspace_edit(session.client, [FileEdits(note.uri, note.version, [edit])])
