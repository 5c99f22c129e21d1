"""Hover on a link: the start of the note it leads to, or the heading's section, or the
block; an attachment's path (an image, shown)."""

from __future__ import annotations

from urllib.parse import quote

from lsprotocol import types

from vaultsync.io.files import extension
from vaultsync.lsp.cursor import Target, linked_from
from vaultsync.lsp.session import Session

MAX_LINES = 20
MAX_CHARS = 2000
_IMAGES = frozenset({"avif", "bmp", "gif", "jpeg", "jpg", "png", "svg", "webp"})


def hover(session: Session, uri: str, position: types.Position) -> types.Hover | None:
    found = linked_from(session, uri, position)
    if found is None:
        return None
    note, link, target = found
    if target.note is None:
        body = f"`{target.path}`"
        if extension(target.path) in _IMAGES:
            file_uri = note.folder.uri(target.path)
            body += f"\n\n![{quote(target.path)}]({file_uri})"
    else:
        body = f"**{target.path}**\n\n---\n\n{excerpt(target)}"
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=body),
        range=note.text.range(link.span),
    )


def excerpt(target: Target) -> str:
    """The heading's section, the block's paragraph, or the note's first lines."""
    assert target.note is not None
    text, parsed = target.note.text.text, target.note.parsed
    if target.heading is not None:
        heading = parsed.headings[target.heading]
        start = heading.span.start
        after = parsed.headings[target.heading + 1 :]
        end = next((h.span.start for h in after if h.level <= heading.level), len(text))
    elif target.block is not None:
        block = parsed.blocks[target.block].span
        start = text.rfind("\n\n", 0, block.start)
        start = 0 if start < 0 else start + 2
        end = block.end
    else:
        start = parsed.frontmatter.span.end if parsed.frontmatter is not None else 0
        end = len(text)
    return _cut(text[start:end].strip("\r\n"))


def _cut(text: str) -> str:
    lines = text.splitlines()
    cut = "\n".join(lines[:MAX_LINES])[:MAX_CHARS]
    return cut if cut == "\n".join(lines) else cut + "\n\n…"
