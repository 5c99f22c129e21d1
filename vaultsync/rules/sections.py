"""Generated-section rules S001-S005 (§6): backlinks and index blocks kept up to date."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from vaultsync.config import templates
from vaultsync.core.model import Diagnostic, Edit, Fix, FixKind, LazyFix, Severity
from vaultsync.parse.markers import body_hash, has_markers
from vaultsync.rules import Rule, checker, define
from vaultsync.vault import sections

if TYPE_CHECKING:
    from vaultsync.lint.engine import Context
    from vaultsync.vault.index import NoteEntry

STALE_BACKLINKS = define(
    "S001",
    "stale-backlinks",
    Severity.WARNING,
    FixKind.SAFE,
    """A note's backlinks section is missing, out of date, or has no backlinks left.

Why: once backlinks sections are on, vaultsync keeps, at the end of every note
that other notes link to, a section listing those notes, so the connections are
visible outside Obsidian too (on GitHub, in a static site, in any editor). They
are opt-in: `[backlinks] enabled = true` in `.vaultsync.toml` (`vaultsync init`
asks), or a vault that already holds one. A section sits between HTML comment
markers, hidden in reading view:

    <!-- vaultsync:begin backlinks hash=3f2a91c0 -->
    ## Backlinks
    - [[Comparative analysis of AI models]]
    - [[folder/Other note|Other note]]
    <!-- vaultsync:end backlinks -->

Entries are unique, sorted by name, and use the shortest link that resolves.
Wikilinks, embeds, markdown links and property links count; self-links and
links inside generated sections do not. Configure with `[backlinks]`
(`enabled`, `heading`, `exclude` globs: matched notes get no section and are
not listed). Templates never get one.

Fix (safe): rewrite the section, append it after a blank line, or remove it
when no note links here any more. Nothing outside the markers changes.
""",
)
STALE_INDEX = define(
    "S002",
    "stale-index",
    Severity.WARNING,
    FixKind.SAFE,
    """An index block no longer lists what its query matches.

Why: an index block is a list vaultsync maintains from a query in its opening
marker:

    <!-- vaultsync:begin index folder="videos" tag="ai" sort="title" -->
    <!-- vaultsync:end index -->

Options: `folder` (with `recursive`), `tag` (nested tags match), any other
`property=value` (or a bare `property`: it is set), `sort` (`name`, `title`,
`mtime`, or a property) and `group` (`folder` or `tag`). The kind
`unresolved` lists unresolved link targets with their reference counts.

Blocks are filled wherever a note holds one (opening it is the opt-in), unless
`[index] enabled = false`; never in a template.

Fix (safe): rewrite the block's body and hash. Nothing outside the markers
changes. `sort="mtime"` depends on file times, which differ between machines.
""",
)
BROKEN_MARKERS = define(
    "S003",
    "broken-markers",
    Severity.ERROR,
    FixKind.NONE,
    """A generated section's markers are missing, doubled, nested or unreadable.

Why: vaultsync cannot tell which text belongs to a section, so it might
overwrite your words. While a note has this problem, vaultsync does not write
it at all: no section and no other fix touches it.

Example: `<!-- vaultsync:begin backlinks -->` with no matching
`<!-- vaultsync:end backlinks -->`, two backlinks sections, an unknown kind,
or an option such as `group="date"` that does not exist.

Fix: none; repair or delete the markers by hand.
""",
)
EDITED_SECTION = define(
    "S004",
    "edited-section",
    Severity.WARNING,
    FixKind.UNSAFE,
    """A generated section was edited by hand.

Why: the body between the markers no longer matches the hash vaultsync
recorded when it wrote it. Hand edits are never overwritten silently, so the
section is left as it is and no longer kept up to date.

Fix (unsafe): `vaultsync fix --force` rewrites it (your edit inside the
markers is lost). To keep your text, move it outside the markers.
""",
)

UNPLACEABLE_SECTION = define(
    "S005",
    "unplaceable-section",
    Severity.WARNING,
    FixKind.NONE,
    """A note should get a backlinks section, but its end is inside something still open.

Why: the section goes at the end of the note, and this note ends inside a code
fence, an HTML comment (`<!--`), a `%%` comment or `$$` math that is never
closed. Whatever is appended there becomes part of it: code or a comment in
Obsidian, and not a section vaultsync could find again. So vaultsync writes no
section into this note; the rest of the vault is fixed as usual.

Example: a fence opened inside a list item and "closed" at the margin, which
by CommonMark ends the list item and opens a second fence that runs to the end:

    - step one
      ```bash
      make
    ```

Fix: none; close what the message names (or remove the stray fence), and the
next `fix` adds the section.
""",
)

_OPEN_KINDS = {"<!--": "an HTML comment (<!--)", "%%": "a %% comment", "$$": "$$ math"}


def _judge(
    ctx: Context,
    note: NoteEntry,
    rule: Rule,
    found: sections.Found,
    expected: str | None,
    what: str,
) -> Iterator[Diagnostic]:
    """Compare one existing section with what it should hold."""
    data = {"kind": found.kind}
    span = found.pair.begin.span
    if found.body == expected:
        # The usual case, up to date: one hash, and no edit built for nothing.
        if found.recorded == body_hash(found.body):
            return
        message = f"The {what} is out of date"
    elif found.edited:
        yield from ctx.emit(
            EDITED_SECTION,
            note,
            span,
            f"The {what} was edited by hand; `vaultsync fix --force` rewrites it",
            data,
            Fix(FixKind.UNSAFE, (_edit(note, found, expected),)),
        )
        return
    elif expected is None:
        message = f"The {what} remains, but no note links here any more"
    else:
        message = f"The {what} is out of date"
    yield from ctx.emit(
        rule, note, span, message, data, Fix(FixKind.SAFE, (_edit(note, found, expected),))
    )


def _edit(note: NoteEntry, found: sections.Found, expected: str | None) -> Edit:
    """The edit giving a section its expected body, or removing it (None)."""
    parsed = note.parsed
    assert parsed is not None
    if expected is None:
        return sections.remove_edit(parsed, found)
    return sections.replace_edit(found, expected)


def _missing(
    ctx: Context, note: NoteEntry, sources: frozenset[str], body: str | None = None
) -> Iterator[Diagnostic]:
    """S001 for a note that should list `sources` and has no section; `body`: the
    section's body, when already worked out."""
    parsed = note.parsed
    assert parsed is not None
    vault = ctx.vault
    count = len(sources)
    if parsed.unclosed is not None:
        mark, span = parsed.unclosed
        what = _OPEN_KINDS.get(mark, f"a code fence ({mark})")
        yield from ctx.emit(
            UNPLACEABLE_SECTION,
            note,
            span,
            f"No backlinks section ({count} {'note links' if count == 1 else 'notes link'} "
            f"here): the note ends inside {what} opened on line {span.line} and never closed",
            {"kind": sections.BACKLINKS},
        )
        return

    def edits() -> tuple[Edit, ...]:
        text = body
        if text is None:  # from `sources`: the vault's backlink map may be gone by now
            text = sections.sources_body(vault, note.path, sources, parsed.newline)
        section = sections.render(sections.BACKLINKS, "", text)
        return (sections.append_edit(parsed, section),)

    fix = LazyFix(FixKind.SAFE, edits) if ctx.lazy_fixes else Fix(FixKind.SAFE, edits())
    yield from ctx.emit(
        STALE_BACKLINKS,
        note,
        parsed.end,
        f"Missing backlinks section ({count} {'note links' if count == 1 else 'notes link'} here)",
        {"kind": sections.BACKLINKS},
        fix,
    )


@checker
def check_sections(ctx: Context, note: NoteEntry) -> Iterator[Diagnostic]:
    parsed = note.parsed
    assert parsed is not None
    vault = ctx.vault
    if templates.is_template(vault, note.path):
        # Never a generated section in a template: a marker there is for the notes made
        # from it (an index block each new note should get), not vaultsync's to fill.
        return
    enabled = ctx.selection.enabled
    wants_backlinks = sections.backlinks_enabled(vault) and (
        STALE_BACKLINKS.code in enabled
        or EDITED_SECTION.code in enabled
        or UNPLACEABLE_SECTION.code in enabled
    )
    sources = sections.backlink_sources(vault, note.path) if wants_backlinks else None
    if not has_markers(parsed):
        if sources is not None:
            yield from _missing(ctx, note, sources)
        return
    expected = (
        None
        if sources is None
        else sections.sources_body(vault, note.path, sources, parsed.newline)
    )
    found, problems = sections.inspect(parsed)
    if problems:
        for problem in problems:
            yield from ctx.emit(
                BROKEN_MARKERS,
                note,
                problem.span,
                f"Broken vaultsync markers: {problem.message}; this note is not written",
            )
        return
    if wants_backlinks:
        backlinks = next((f for f in found if f.kind == sections.BACKLINKS), None)
        if backlinks is not None:
            yield from _judge(ctx, note, STALE_BACKLINKS, backlinks, expected, "backlinks section")
        elif sources is not None:
            yield from _missing(ctx, note, sources, expected)
    if not sections.index_enabled(vault) or not (
        STALE_INDEX.code in enabled or EDITED_SECTION.code in enabled
    ):
        return
    for block in found:
        if block.kind != sections.BACKLINKS:
            body = sections.block_body(vault, note.path, block, parsed.newline)
            yield from _judge(ctx, note, STALE_INDEX, block, body, f"{block.kind} block")
