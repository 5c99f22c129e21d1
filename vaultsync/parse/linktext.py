"""Markdown link destinations: the one encoder and the one decoder (R40, R42).

Obsidian percent-decodes a destination before resolving it, and a bare destination
(`[x](My%20Note.md)`) ends at whitespace or at a `)` that closes nothing, so a vault
path must be encoded before it is written into one. Obsidian itself encodes only
spaces and then cannot read back a name holding `#` (R42); here every character that
would change how the link reads is encoded, and nothing else, so the destination stays
readable: `Note (a).md` becomes `Note%20(a).md`, `Note (a.md` becomes `Note%20%28a.md`.

Every writer of a markdown link (the link fixes, `mv`, the daemon's rename follower,
generated sections) goes through `encode_destination`; the parser reads destinations
with `decode_destination`. tests/parse/test_linktext.py checks that the two agree for any name.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from vaultsync.core.model import Edit, Link, LinkKind, Span
from vaultsync.io.files import is_note_path

# Percent-encoded in both forms: `%` (it starts an escape), `#` (it starts a subpath),
# `<` and `>` (they delimit the `<…>` form), `\` (CommonMark reads it as an escape) and
# `:` (a name such as `http:x` would read as a URL, R41).
_ALWAYS = frozenset("%#<>\\:")
# A bare destination also ends at whitespace; parentheses are handled on their own.
_BALANCED = re.compile(r"[^()]*(?:\([^()]*\)[^()]*)*")


def _escape(char: str) -> str:
    return quote(char, safe="")


def _needs_escape(char: str, angle: bool) -> bool:
    if char in _ALWAYS:
        return True
    code = ord(char)
    if code < 0x20 or code == 0x7F:
        return True  # control characters (a line break would split the link)
    return not angle and char.isspace()  # Unicode whitespace ends a bare destination


def encode_destination(path: str, angle: bool = False) -> str:
    """`path` as a markdown link destination that reads back as exactly `path`.

    `angle`: for the `<…>` form, where spaces and parentheses may stay as they are.
    In a bare destination, parentheses stay readable when they pair up one level deep
    (as a bare destination allows); otherwise all of them are encoded.
    """
    encoded = "".join(_escape(c) if _needs_escape(c, angle) else c for c in path)
    if angle or ("(" not in encoded and ")" not in encoded) or _BALANCED.fullmatch(encoded):
        return encoded
    return encoded.replace("(", "%28").replace(")", "%29")


# What a written destination (or its `#subpath`) names: percent-decoded, UTF-8. The
# stdlib function itself, not a wrapper: the parser calls it for every markdown link.
decode_destination = unquote


def encode_target(link: Link, new: str) -> str:
    """How the target `new` is written in `link`'s own syntax."""
    if link.kind is not LinkKind.MARKDOWN:
        return new
    if is_note_path(link.target) and not is_note_path(new):
        new += ".md"  # other Markdown tools need the extension Obsidian lets you leave out
    return encode_destination(new, link.angle)


# Links whose written target is what a reader sees when they have no display text. A
# markdown link always shows its label; an embed shows what it embeds (and for an image
# the text after `|` would become its alt text or size).
_SHOWS_TARGET = frozenset({LinkKind.WIKILINK, LinkKind.PROPERTY})


def retarget(link: Link, new: str, keep_display: bool) -> tuple[Edit, ...]:
    """The edits making `link` name `new`, its display text and anchor untouched.

    The one way every link-rewriting fix (L002, L005, L006, L009), `mv` and the daemon's
    rename follower rewrite a link. With `keep_display` a link that showed its own target
    keeps showing it: `[[formulas]]` -> `[[Formulas|formulas]]` (`\\|` in a table row, R4).
    """
    target = Edit(link.target_span, encode_target(link, new))
    if not keep_display or link.display is not None or link.kind not in _SHOWS_TARGET:
        return (target,)
    if new == link.target:
        return (target,)
    span = link.span
    at, column = span.end - 2, span.end_column - 2  # just before `]]`
    before_close = Span(at, at, span.end_line, column, span.end_line, column)
    return (target, Edit(before_close, ("\\|" if link.table else "|") + link.target))
