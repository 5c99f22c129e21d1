"""Completion inside `[[` (and `![[`) and `](`: notes by the shortest link that reaches
them from here, as Obsidian writes it; aliases as `[[Note|Alias]]`; then, after `#`, the
chosen note's headings and, after `#^`, its block ids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from lsprotocol import types

from vaultsync.core.text import strip_md
from vaultsync.io.files import is_note_path
from vaultsync.lsp.matching import Query
from vaultsync.lsp.session import Note, Session
from vaultsync.parse.linktext import encode_destination
from vaultsync.vault.sections import fits_wikilink

# At most this many names per answer; the answer then says it is incomplete, so the
# client asks again as the user types on.
MAX_ITEMS = 100
_SUBPATH_SPACES = re.compile(r"[#^|\[\]\s]+")


@dataclass(frozen=True, slots=True)
class _Context:
    markdown: bool  # inside `](`, else inside `[[`
    typed: str  # from the opening to the cursor
    start: int  # offset where `typed` starts
    end: int  # offset where the text to replace ends (the target's end, else the cursor)
    closed: bool  # the link is closed already (`]]` or `)` follows)


def _context(text: str, offset: int) -> _Context | None:
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    line_end = text.find("\n", offset)
    after = text[offset : len(text) if line_end < 0 else line_end]
    wiki = before.rfind("[[")
    markdown = before.rfind("](")
    if wiki >= 0 and wiki > markdown and "]]" not in before[wiki:]:
        typed = before[wiki + 2 :]
        if "|" in typed:
            return None  # the display text: nothing to complete
        stop = re.search(r"\]\]|\||\[\[", after)
        closed = stop is not None and stop.group() != "[["
        end = offset + (stop.start() if closed and stop is not None else 0)
        return _Context(False, typed, line_start + wiki + 2, end, closed)
    if markdown >= 0 and not re.search(r"[\s)]", before[markdown + 2 :]):
        typed = before[markdown + 2 :]
        stop = re.search(r"[\s)]", after)
        closed = stop is not None and stop.group() == ")"
        end = offset + (stop.start() if closed and stop is not None else 0)
        return _Context(True, typed, line_start + markdown + 2, end, closed)
    return None


def complete(session: Session, uri: str, position: types.Position) -> types.CompletionList | None:
    note = session.note(uri)
    if note is None:
        return None
    offset = note.text.offset(position)
    context = _context(note.text.text, offset)
    if context is None:
        return None
    typed = unquote(context.typed) if context.markdown else context.typed
    name, hash_, subpath = typed.partition("#")
    if hash_:
        return _in_note(session, note, context, name, subpath)
    return _names(note, context, typed)


def _edit(note: Note, context: _Context, start: int, text: str) -> types.TextEdit:
    closing = "" if context.closed else (")" if context.markdown else "]]")
    return types.TextEdit(
        range=types.Range(start=note.text.at(start), end=note.text.at(context.end)),
        new_text=text + closing,
    )


def _names(note: Note, context: _Context, typed: str) -> types.CompletionList:
    query = Query(typed)
    found: list[tuple[int, str, types.CompletionItem]] = []
    with note.live.lock:
        vault = note.live.vault
        index = vault.index
        for file in vault.files:
            path = file.path
            text = index.link_text(path, note.path)
            is_note = is_note_path(path)
            label = text + ".md" if context.markdown and is_note else text
            if not context.markdown and not fits_wikilink(text):
                continue  # no wikilink can name it
            rank = query.rank(label)
            if rank is None and query.rank(path) is None:
                continue
            insert = encode_destination(label) if context.markdown else label
            item = types.CompletionItem(
                label=label,
                kind=types.CompletionItemKind.File,
                detail=path,
                filter_text=label,
                text_edit=_edit(note, context, context.start, insert),
            )
            found.append((rank if rank is not None else 4, label.casefold(), item))
            entry = vault.notes.get(path)
            if context.markdown or entry is None:
                continue
            for alias in entry.aliases:
                alias_rank = query.rank(alias)
                if alias_rank is None or not fits_wikilink(alias):
                    continue
                item = types.CompletionItem(
                    label=alias,
                    kind=types.CompletionItemKind.Reference,
                    detail=f"alias of {strip_md(path)}",
                    filter_text=alias,
                    text_edit=_edit(note, context, context.start, f"{text}|{alias}"),
                )
                found.append((alias_rank, alias.casefold(), item))
    found.sort(key=lambda f: (f[0], len(f[1]), f[1]))
    items = [item for _, _, item in found[:MAX_ITEMS]]
    for i, item in enumerate(items):
        item.sort_text = f"{i:05d}"
    return types.CompletionList(is_incomplete=len(found) > MAX_ITEMS, items=items)


def _in_note(
    session: Session, note: Note, context: _Context, name: str, subpath: str
) -> types.CompletionList | None:
    """Headings (after `#`) or block ids (after `#^`) of the note `name` leads to."""
    with note.live.lock:
        path = note.live.vault.index.resolve(name.strip(), note.path).path
    if path is None or not is_note_path(path):
        return None
    target = session.other(note, path)
    if target is None:
        return None
    start = context.start + context.typed.find("#") + 1  # just after the first `#`
    items: list[types.CompletionItem] = []
    if subpath.startswith("^"):
        for block in target.parsed.blocks:
            items.append(
                types.CompletionItem(
                    label=block.id,
                    kind=types.CompletionItemKind.Reference,
                    detail=f"^{block.id} in {strip_md(path)}",
                    filter_text="^" + block.id,
                    text_edit=_edit(note, context, start, "^" + block.id),
                )
            )
    else:
        for heading in target.parsed.headings:
            # Written as Obsidian writes a heading link: what cannot stand in one, a space.
            text = " ".join(_SUBPATH_SPACES.split(heading.text)).strip()
            insert = encode_destination(text) if context.markdown else text
            items.append(
                types.CompletionItem(
                    label=text,
                    kind=types.CompletionItemKind.Reference,
                    detail="#" * heading.level + " in " + strip_md(path),
                    filter_text=text,
                    text_edit=_edit(note, context, start, insert),
                )
            )
    for i, item in enumerate(items):
        item.sort_text = f"{i:05d}"
    return types.CompletionList(is_incomplete=False, items=items)
