"""Generated-section rules S001-S005 (§6): backlinks and index blocks kept up to date."""

from __future__ import annotations

from collections.abc import Iterator

from vaultsync.core.model import Diagnostic, Edit, Fix, FixKind, LazyFix
from vaultsync.parse.markers import body_hash, has_markers
from vaultsync.rules import Rule
from vaultsync.rules.codes import (
    BROKEN_MARKERS,
    EDITED_SECTION,
    STALE_BACKLINKS,
    STALE_INDEX,
    UNPLACEABLE_SECTION,
)
from vaultsync.rules.context import Context
from vaultsync.vault import sections, templates
from vaultsync.vault.index import NoteEntry

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
