"""Link rules L001-L009: every link is resolved once, the most specific problem wins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vaultsync.config import templates
from vaultsync.core.model import Diagnostic, Edit, Fix, FixKind, Link, Severity
from vaultsync.core.text import fold, nfc, shortened, strip_md
from vaultsync.io.files import ATTACHMENT_EXTENSIONS, extension, is_note_path
from vaultsync.parse import linktext
from vaultsync.rules import Rule, checker, define
from vaultsync.vault import sections

if TYPE_CHECKING:
    from vaultsync.lint.engine import Context, Vault
    from vaultsync.vault.index import NoteEntry, Resolution, VaultIndex

BROKEN_LINK = define(
    "L001",
    "broken-link",
    Severity.WARNING,
    FixKind.UNSAFE,
    """A link points at a note that does not exist.

Why: Obsidian shows the link as unresolved and it leads nowhere outside the
app. vaultsync resolves links exactly as Obsidian does: an exact vault path
(case-insensitive, `.md` optional), `./` and `../` relative to the note, then
any file whose path ends with the target, preferring the note's own folder and
then the shortest path.

Example: `[[Roadmap 2025]]` when no `Roadmap 2025.md` exists.

Fix (unsafe): `vaultsync fix --create-missing` creates a stub note for each
unresolved target, named in the vault's naming style.
""",
)
LINK_VARIANT = define(
    "L002",
    "link-variant",
    Severity.WARNING,
    FixKind.SAFE,
    """An unresolved link spells a note name another way.

Why: Obsidian matches names case-insensitively but never treats `_` or `-` as
spaces, so `[[open_source_ai_models]]` does not reach `Open Source AI
Models.md`, and the same idea ends up as several unresolved notes. Two targets
are variants when they are equal after Unicode NFC, case folding and folding
runs of spaces, `_` and `-` to one space. The canonical spelling is the one in
`[links.canonical]`, else an existing note's name, else the spelling in the
vault's majority naming style used most often.

Example: `[[open_source_ai_models | AI models]]` next to
`[[Open Source AI Models]]`.

Fix (safe): rewrite only the target, keeping display text and subpath:
`[[Open Source AI Models | AI models]]`.
""",
)
BROKEN_HEADING = define(
    "L003",
    "broken-heading",
    Severity.WARNING,
    FixKind.NONE,
    """A link's `#Heading` does not match a heading of the target note.

Why: Obsidian opens the note at the top instead of the section. Headings match
after folding punctuation to spaces, collapsing spaces and ignoring case;
`#H1#H2` walks nested headings.

Example: `[[Setup#Instalation]]` when the note has `## Installation`.

Fix: none; correct the heading or the link by hand.
""",
)
BROKEN_BLOCK_REF = define(
    "L004",
    "broken-block-ref",
    Severity.WARNING,
    FixKind.NONE,
    """A link's `#^id` names no block id in the target note.

Why: the embed or link shows nothing useful. Block ids are ` ^id` at the end
of a paragraph or list line, or on a line of their own after a table or quote.

Example: `![[Meeting#^decisions]]` when `^decisions` was deleted.

Fix: none; restore the block id or change the link.
""",
)
AMBIGUOUS_LINK = define(
    "L005",
    "ambiguous-link",
    Severity.WARNING,
    FixKind.UNSAFE,
    """Several files match a link equally well.

Why: when two candidates tie on the length of their path (`aa/Tie.md` and
`bb/Tie.md`), Obsidian's choice is unstable: the link may open either note.
vaultsync analyses the lexically first one so the other checks can go on.

Example: `[[Tie]]` with `aa/Tie.md` and `bb/Tie.md` in the vault.

Fix (unsafe): qualify the link with the full path of the note chosen,
`[[aa/Tie]]`; review that it is the one you meant.
""",
)
ALIAS_LINK = define(
    "L006",
    "alias-link",
    Severity.INFO,
    FixKind.SAFE,
    """A link targets a note's alias, which Obsidian does not resolve.

Why: aliases feed Obsidian's link suggester and unlinked mentions, but a
hand-typed `[[AI]]` stays unresolved even when a note lists `AI` in its
`aliases`. Obsidian itself writes `[[Artificial Intelligence|AI]]`.

Example: `[[AI]]` with `aliases: [AI]` in `Artificial Intelligence.md`.

Fix (safe): `[[Artificial Intelligence|AI]]`, keeping what the reader sees.
""",
)
MISSING_ATTACHMENT = define(
    "L007",
    "missing-attachment",
    Severity.WARNING,
    FixKind.NONE,
    """A link or embed points at an attachment that is not in the vault.

Why: the embed renders as a broken placeholder. Attachments are the files
Obsidian lists besides notes: images, PDFs, audio, video, canvas and base files.

Example: `![[diagram.png]]` after the image was moved out of the vault.

Fix: none; restore the file or correct the link (`vaultsync mv` keeps links
right when you move files).
""",
)
LINK_OUTSIDE_VAULT = define(
    "L008",
    "link-outside-vault",
    Severity.ERROR,
    FixKind.NONE,
    """A relative link climbs above the vault root.

Why: Obsidian cannot open anything outside the vault, and a published or
synced copy of the vault will not have it. vaultsync never reads through such
a link.

Example: `[notes](../../other-vault/Note.md)` from a note at the root.

Fix: none; copy the file into the vault or link to it with a URL.
""",
)
INCONSISTENT_CASE = define(
    "L009",
    "inconsistent-case",
    Severity.INFO,
    FixKind.SAFE,
    """A link resolves, but its spelling differs from the file's name in case.

Why: Obsidian matches case-insensitively, but other tools (static-site
publishers, GitHub, case-sensitive file systems) do not, and mixed spellings
make search and refactoring harder. It is a spelling preference, so it is not
in the default rule set: select it (`--select L009`, or `select` in the
config) to use it.

Example: `[[project plan]]` for `Project Plan.md`.

Fix (safe): respell the target exactly like the file, `[[Project Plan]]`;
with `[links] keep-display = true` the reader still sees what was written:
`[[Project Plan|project plan]]`.
""",
    default=False,
)


def retarget(link: Link, new: str, keep_reader_text: bool) -> Fix:
    """Replace only the target text; with `keep_reader_text` (L006 always, L002 and L009
    under `[links] keep-display`), a link that showed its target keeps showing it."""
    return Fix(FixKind.SAFE, linktext.retarget(link, new, keep_reader_text))


@checker
def check_links(ctx: Context, note: NoteEntry) -> Iterator[Diagnostic]:
    assert note.parsed is not None
    vault = ctx.vault
    source = note.path
    # Links vaultsync generated (backlinks, index, unresolved lists) are kept right by
    # S001/S002; reporting them too would double every unresolved target and let L-fixes
    # edit a section body, which would then read as a hand edit (S004).
    if vault.notes.get(source) is note:  # computed once per vault, shared with the backlinks
        links, resolved = sections.own_links(vault)[source]
    else:
        links = sections.outside_sections(note.parsed)
        resolved = vault.index.resolve_all([link.linkpath for link in links], source)
    spellings = _spellings(ctx)
    index = vault.index
    # Links in `%%` comments count for resolution, the graph and backlinks (Obsidian
    # indexes them, R14), but a commented-out line is the user's "not now": no reports.
    quiet_comments = not vault.config.links.check_comments
    # A template's `[[{{date}}]]` or `[[<% tp.file.title %>#Tasks]]` is filled when the
    # template is used; its other links are reported: each note made from it copies them.
    template = templates.is_template(vault, source)
    for link, resolution in zip(links, resolved, strict=True):
        if link.comment and quiet_comments:
            continue
        linkpath = link.linkpath
        path = resolution.path
        if template and (
            templates.is_placeholder(link.target) or templates.is_placeholder(link.subpath)
        ):
            continue
        if path is None:
            yield from _unresolved(ctx, note, link, resolution)
        elif (
            resolution.candidates
            or (linkpath and spellings[linkpath, path] is not None)
            or (link.subpath and not _subpath_found(index, path, link.subpath))
        ):
            yield from _resolved(ctx, note, link, resolution)
        # else the common case: one file, spelled like it, its subpath found: nothing to report


def _data(link: Link, resolved: str | None, **extra: object) -> dict[str, object]:
    return {"target": link.target, "resolved": resolved, **extra}


def _unresolved(
    ctx: Context, note: NoteEntry, link: Link, resolution: Resolution
) -> Iterator[Diagnostic]:
    if resolution.outside:
        yield from ctx.emit(
            LINK_OUTSIDE_VAULT,
            note,
            link.span,
            f'Link "{shortened(link.target)}" points outside the vault',
            _data(link, None),
        )
        return
    verdict = _verdicts(ctx)[link.linkpath]
    rule = verdict.rule
    if rule is ALIAS_LINK:
        owner = verdict.note
        assert owner is not None
        text = ctx.vault.index.link_text(owner, note.path)
        yield from ctx.emit(
            ALIAS_LINK,
            note,
            link.span,
            f'Link "{shortened(link.target)}" names an alias of "{owner}"; '
            "Obsidian does not resolve aliases",
            _data(link, None, note=owner),
            retarget(link, text, keep_reader_text=True),
        )
    elif rule is LINK_VARIANT:
        canonical = verdict.canonical
        assert canonical is not None
        # When the canonical spelling is a note's name, write the shortest link that
        # reaches that note (`folder/Name` if the bare name would be ambiguous).
        named = verdict.note
        text = canonical if named is None else ctx.vault.index.link_text(named, note.path)
        yield from ctx.emit(
            LINK_VARIANT,
            note,
            link.span,
            f'Link "{shortened(link.target)}" is a variant of "{shortened(canonical)}"',
            _data(link, None, canonical=canonical),
            retarget(link, text, keep_reader_text=ctx.vault.config.links.keep_display),
        )
    elif rule is MISSING_ATTACHMENT:
        yield from ctx.emit(
            MISSING_ATTACHMENT,
            note,
            link.span,
            f'Missing attachment "{shortened(link.target)}"',
            _data(link, None),
        )
    else:
        yield from ctx.emit(
            BROKEN_LINK,
            note,
            link.span,
            f'Broken link: no note or file matches "{shortened(link.target)}"',
            _data(link, None),
        )


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What an unresolved link path is (inside the vault), whichever note links by it."""

    rule: Rule  # L006, L002, L007 or L001
    note: str | None = None  # L006: the note with the alias; L002: the one named canonically
    canonical: str | None = None  # L002


_VERDICTS_CACHE = "links.unresolved"


class _Verdicts(dict[str, _Verdict]):
    """Per vault: unresolved link path -> its verdict, judged on first use (`__missing__`).

    Depends on the file names, aliases and variants, which a vault never changes.
    """

    def __init__(self, vault: Vault) -> None:
        super().__init__()
        self.vault = vault

    def __missing__(self, target: str) -> _Verdict:
        self[target] = verdict = self._judge(target)
        return verdict

    def _judge(self, target: str) -> _Verdict:
        index = self.vault.index
        owners = index.alias_owners(target)
        if owners:
            return _Verdict(ALIAS_LINK, owners[0])
        canonical = self.vault.variants.canonical_for(target)
        # A spelling that differs only by `.md` is the canonical one (its fix would change nothing).
        if canonical is not None and canonical not in (target, strip_md(target)):
            return _Verdict(LINK_VARIANT, index.note_named(canonical), canonical)
        if extension(target) in ATTACHMENT_EXTENSIONS:
            return _Verdict(MISSING_ATTACHMENT)
        return _Verdict(BROKEN_LINK)


def _verdicts(ctx: Context) -> _Verdicts:
    cache = ctx.vault.cache
    memo: _Verdicts | None = cache.get(_VERDICTS_CACHE)
    if memo is None:
        memo = cache[_VERDICTS_CACHE] = _Verdicts(ctx.vault)
    return memo


_SPELLINGS_CACHE = "links.spellings"


class _Spellings(dict[tuple[str, str], str | None]):
    """Per vault: (link path as written, file) -> `_spelled_like_file` of the two.

    Filled on first use (`__missing__`): most links repeat a pair already judged.
    """

    def __missing__(self, key: tuple[str, str]) -> str | None:
        written, path = key
        expected = self[key] = _spelled_like_file(nfc(written), path)
        return expected


def _spellings(ctx: Context) -> _Spellings:
    cache = ctx.vault.cache
    memo: _Spellings | None = cache.get(_SPELLINGS_CACHE)
    if memo is None:
        memo = cache[_SPELLINGS_CACHE] = _Spellings()
    return memo


def _spelled_like_file(written: str, path: str) -> str | None:
    """The file's own spelling of `written` when the two differ only in case (L009).

    Compared per path component, not per character: case folding can change a
    name's length (`STRASSE` folds like `Straße`). `/`, `./` and `../` stay as written.
    """
    if "/" not in written:  # the usual bare name: the general case below, made short
        if written in ("", ".", ".."):
            return None
        name = path.rsplit("/", 1)[-1]
        if is_note_path(path) and not is_note_path(written):
            name = name[:-3]
        return None if name == written or fold(name) != fold(written) else name
    segments = written.split("/")
    named = [i for i, segment in enumerate(segments) if segment not in ("", ".", "..")]
    if not named:
        return None
    last = segments[named[-1]]
    actual = path if is_note_path(last) or not is_note_path(path) else path[:-3]
    actual_parts = actual.split("/")
    if len(actual_parts) < len(named):
        return None
    for i, part in zip(named, actual_parts[len(actual_parts) - len(named) :], strict=True):
        segments[i] = part
    expected = "/".join(segments)
    if expected == written or fold(expected) != fold(written):
        return None
    return expected


def _resolved(
    ctx: Context, note: NoteEntry, link: Link, resolution: Resolution
) -> Iterator[Diagnostic]:
    path = resolution.path
    assert path is not None
    if resolution.ambiguous:
        full = path[:-3] if path.lower().endswith(".md") else path
        yield from ctx.emit(
            AMBIGUOUS_LINK,
            note,
            link.span,
            f'Ambiguous link "{shortened(link.target)}": {len(resolution.candidates)} files match '
            f"equally ({', '.join(resolution.candidates)})",
            _data(link, path, candidates=list(resolution.candidates)),
            Fix(FixKind.UNSAFE, (Edit(link.target_span, linktext.encode_target(link, full)),)),
        )
    elif link.linkpath:
        expected = _spellings(ctx)[link.linkpath, path]
        if expected is not None:
            yield from ctx.emit(
                INCONSISTENT_CASE,
                note,
                link.span,
                f'Link "{shortened(link.target)}" is spelled unlike "{path}"',
                _data(link, path, expected=expected),
                retarget(link, expected, keep_reader_text=ctx.vault.config.links.keep_display),
            )
    sub = link.subpath
    if sub and not _subpath_found(ctx.vault.index, path, sub):
        if sub.startswith("#^"):
            yield from ctx.emit(
                BROKEN_BLOCK_REF,
                note,
                link.span,
                f'No block "{shortened(sub[1:])}" in "{path}"',
                _data(link, path, subpath=sub),
            )
        else:
            yield from ctx.emit(
                BROKEN_HEADING,
                note,
                link.span,
                f'No heading "{shortened(sub[1:])}" in "{path}"',
                _data(link, path, subpath=sub),
            )


def _subpath_found(index: VaultIndex, path: str, subpath: str) -> bool:
    """Does the `#Heading` or `#^block` exist in `path`? (Only notes are looked into.)"""
    if not path.lower().endswith(".md"):
        return True
    if subpath.startswith("#^"):
        return index.has_block(path, subpath[2:])
    return index.has_heading(path, subpath)
