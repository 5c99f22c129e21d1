"""Link rules L001-L009: every link is resolved once, the most specific problem wins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from vaultsync.core.model import Diagnostic, Edit, Fix, FixKind, Link
from vaultsync.core.text import fold, nfc, shortened, strip_md
from vaultsync.io.files import ATTACHMENT_EXTENSIONS, extension, is_note_path
from vaultsync.parse import linktext
from vaultsync.rules import Rule
from vaultsync.rules.codes import (
    ALIAS_LINK,
    AMBIGUOUS_LINK,
    BROKEN_BLOCK_REF,
    BROKEN_HEADING,
    BROKEN_LINK,
    INCONSISTENT_CASE,
    LINK_OUTSIDE_VAULT,
    LINK_VARIANT,
    MISSING_ATTACHMENT,
)
from vaultsync.rules.context import Context
from vaultsync.vault import sections, templates
from vaultsync.vault.index import NoteEntry, Resolution, VaultIndex
from vaultsync.vault.loaded import Vault
from vaultsync.vault.memos import Memo


def retarget(link: Link, new: str, keep_reader_text: bool) -> Fix:
    """Replace only the target text; with `keep_reader_text` (L006 always, L002 and L009
    under `[links] keep-display`), a link that showed its target keeps showing it."""
    return Fix(FixKind.SAFE, linktext.retarget(link, new, keep_reader_text))


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


_VERDICTS: Memo[_Verdicts] = Memo("links.unresolved", False)


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
    vault = ctx.vault
    return vault.memos.get_or_make(_VERDICTS, lambda: _Verdicts(vault))


_SPELLINGS: Memo[_Spellings] = Memo("links.spellings", False)


class _Spellings(dict[tuple[str, str], str | None]):
    """Per vault: (link path as written, file) -> `_spelled_like_file` of the two.

    Filled on first use (`__missing__`): most links repeat a pair already judged.
    """

    def __missing__(self, key: tuple[str, str]) -> str | None:
        written, path = key
        expected = self[key] = _spelled_like_file(nfc(written), path)
        return expected


def _spellings(ctx: Context) -> _Spellings:
    return ctx.vault.memos.get_or_make(_SPELLINGS, _Spellings)


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
