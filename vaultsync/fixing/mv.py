"""`vaultsync mv`: rename or move a vault file and keep every link to it resolving (§5).

The plan is computed in full before anything is written: every link of every
note is resolved in the vault as it is and in the vault as it will be; a link
whose target would change is rewritten, in its own style, to reach the same file
again. The rewritten notes are re-parsed and every link checked once more, so a
name that cannot be written in some link syntax stops the move instead of
breaking a link.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vaultsync.core.errors import UsageError
from vaultsync.core.model import Edit, Link, apply_edits
from vaultsync.core.text import fold, nfc, strip_md
from vaultsync.io import writer
from vaultsync.io.files import (
    ATTACHMENT_EXTENSIONS,
    NoteText,
    UnreadableFile,
    extension,
    is_note_path,
    read_note,
    refused_in_name,
)
from vaultsync.parse import linktext
from vaultsync.parse.markers import begin_marker, body_hash
from vaultsync.parse.scanner import parse
from vaultsync.vault import sections
from vaultsync.vault.index import NoteEntry, VaultIndex
from vaultsync.vault.loaded import Vault

# Reads a note's text for a move: (vault, entry) -> its text (UnreadableFile if it cannot).
Reader = Callable[[Vault, NoteEntry], NoteText]


class MoveError(UsageError):
    """The move cannot be done safely; nothing was changed."""


@dataclass(slots=True)
class NoteChange:
    path: str  # where the note is before the move
    new_path: str  # where it is after (differs only for the moved note)
    before: str
    after: str
    bom: bool
    digest: str  # of the bytes read, for compare-and-swap
    links: int  # links rewritten
    edits: list[Edit] = field(default_factory=list)  # what turns `before` into `after`


@dataclass(slots=True)
class MovePlan:
    old: str
    new: str
    changes: list[NoteChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def links(self) -> int:
        return sum(c.links for c in self.changes)


def check_destination(vault: Vault, old: str, new: str) -> None:
    """Refuse moves that would overwrite a file, change a file's kind, or leave the vault."""
    if not any(f.path == old for f in vault.files):
        raise MoveError(f"{old}: not a note or attachment of the vault")
    parts = new.split("/")
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        raise MoveError(f"{new}: not a plain path inside the vault (no dot-folders)")
    if is_note_path(old) != is_note_path(new):
        raise MoveError(f"{new}: a note must keep the .md extension, an attachment cannot take it")
    if (
        not is_note_path(new)
        and not vault.config.all_files
        and extension(new) not in ATTACHMENT_EXTENSIONS
    ):
        raise MoveError(f"{new}: Obsidian would not list a file with this extension")
    if new == old:
        raise MoveError(f"{new}: is where the file already is")
    for i, part in enumerate(parts):
        # The new name, and any folder the move would create: folders that exist already
        # were named by the user, and a note may be moved into them.
        if i < len(parts) - 1 and (vault.root / "/".join(parts[: i + 1])).is_dir():
            continue
        bad = refused_in_name(part)
        if bad is not None:
            raise MoveError(
                f"{new}: Obsidian does not allow {bad} in a file or folder name; nothing moved"
            )
    same_file = fold(new) == fold(old)  # a case-only rename
    if not same_file and (
        (vault.root / new).exists()
        or (vault.root / new).is_symlink()
        or vault.index.exact(new) is not None
    ):
        raise MoveError(f"{new}: already exists, not overwritten")


def _moved_index(vault: Vault, old: str, new: str) -> VaultIndex:
    files = [dataclasses.replace(f, path=new) if f.path == old else f for f in vault.files]
    notes = {
        (new if path == old else path): (
            dataclasses.replace(entry, path=new) if path == old else entry
        )
        for path, entry in vault.notes.items()
    }
    return VaultIndex(files, notes)


def _with_md(text: str, keep: bool) -> str:
    return text + ".md" if keep else text


def link_text(index: VaultIndex, link: Link, target: str, source: str) -> str:
    """How `link` should name `target` from `source`, in the style it was written."""
    written = link.linkpath
    is_note = is_note_path(target)
    keep_md = is_note and written.lower().endswith(".md")
    bare = strip_md(target) if is_note else target
    if written.startswith(("./", "../")):
        folder = source.rsplit("/", 1)[0] if "/" in source else ""
        relative = posixpath.relpath(bare, folder or ".")
        if not relative.startswith("../"):
            relative = "./" + relative  # without it, the text would not be relative
        return _with_md(relative, keep_md)
    if written.startswith("/"):
        return "/" + _with_md(bare, keep_md)
    if "/" in written:
        return _with_md(bare, keep_md)
    shortest = _with_md(index.link_text(target, source), keep_md)
    found = index.resolve(shortest, source)
    if found.path == target and not found.ambiguous:
        return shortest
    return _with_md(bare, keep_md)  # a full vault path always resolves exactly


def _spelled_like(written: str, target: str) -> bool:
    """Does a link still spell the moved file's name exactly (`[[a]]` after `a` -> `A`)?"""
    if written.startswith(("./", "../")):
        return True  # a relative link names a place; resolution alone decides
    written = written.lstrip("/")
    spelled = target if written.lower().endswith(".md") or not is_note_path(target) else target[:-3]
    return spelled == written or spelled.endswith("/" + written)


def _section_hash_edits(
    parsed_text: str, found: list[sections.Found], edits: list[Edit]
) -> list[Edit]:
    """Keep sections vaultsync wrote recognisable as such after their links change.

    A section whose hash matched its body before the move gets the hash of its new
    body, so the rename is not mistaken for a hand edit (S004). A section already
    edited by hand keeps its old hash and stays S004.
    """
    extra: list[Edit] = []
    for section in found:
        start, end = section.pair.body_start, section.pair.body_end
        inside = [e for e in edits if start <= e.span.start and e.span.end <= end]
        if not inside or section.edited:
            continue
        # The body's edits, moved to offsets within the body.
        moved = [
            Edit(e.span._replace(start=e.span.start - start, end=e.span.end - start), e.new_text)
            for e in inside
        ]
        body = apply_edits(parsed_text[start:end], moved)
        marker = begin_marker(section.kind, section.pair.options, body_hash(body))
        extra.append(Edit(section.pair.begin.span, marker))
    return extra


def plan_move(vault: Vault, old: str, new: str, read: Reader | None = None) -> MovePlan:
    """Everything `mv` will change, computed without writing; MoveError if it cannot.

    `read`: how a note's text is read (default: from disk); an editor passes its unsaved
    buffers, whose text the vault's entries were parsed from.
    """
    check_destination(vault, old, new)
    index = vault.index
    after = _moved_index(vault, old, new)
    plan = MovePlan(old, new)
    blocked: list[str] = []
    for path, entry in vault.notes.items():
        parsed = entry.parsed
        if parsed is None:
            continue
        source = new if path == old else path
        rewrites: list[tuple[Link, str]] = []
        for link in parsed.links:
            if not link.linkpath:
                continue  # `[[#Heading]]` is the note itself, wherever it goes
            before = index.resolve(link.linkpath, path)
            if before.path is None:
                continue
            wanted = new if before.path == old else before.path
            now = after.resolve(link.linkpath, source)
            if (
                now.path == wanted
                and (before.ambiguous or not now.ambiguous)
                and (before.path != old or _spelled_like(link.linkpath, new))
            ):
                continue
            rewrites.append((link, link_text(after, link, wanted, source)))
        if not rewrites:
            continue
        if entry.excluded:
            plan.warnings.append(
                f"{path}: excluded from vaultsync, {len(rewrites)} link(s) in it not updated"
            )
            continue
        if not sections.writable(parsed):
            blocked.append(path)
            continue
        plan.changes.append(_change(vault, entry, source, rewrites, read or _read_disk))
    if blocked:
        raise MoveError(
            f"{', '.join(blocked)}: broken vaultsync markers (S003); repair them before "
            "moving, so their links can be updated"
        )
    for change in plan.changes:
        _verify(vault, index, after, change, old, new)
    return plan


def _read_disk(vault: Vault, entry: NoteEntry) -> NoteText:
    return read_note(vault.root / entry.path, vault.config.max_file_size, vault.root)


def _change(
    vault: Vault, entry: NoteEntry, source: str, rewrites: list[tuple[Link, str]], read: Reader
) -> NoteChange:
    try:
        note = read(vault, entry)
    except UnreadableFile as exc:
        raise MoveError(f"{entry.path}: {exc}") from None
    if note.digest != entry.digest:
        raise MoveError(f"{entry.path}: changed while vaultsync was reading the vault; try again")
    assert entry.parsed is not None
    keep = vault.config.links.keep_display
    edits = [e for link, text in rewrites for e in linktext.retarget(link, text, keep)]
    found, _ = sections.inspect(entry.parsed)
    all_edits = edits + _section_hash_edits(note.text, found, edits)
    return NoteChange(
        entry.path,
        source,
        note.text,
        apply_edits(note.text, all_edits),
        note.bom,
        note.digest,
        len(rewrites),
        all_edits,
    )


def _verify(
    vault: Vault, before: VaultIndex, after: VaultIndex, change: NoteChange, old: str, new: str
) -> None:
    """Every link of the rewritten note reaches what it reached before the move."""
    old_links = vault.notes[change.path].parsed
    assert old_links is not None
    new_links = parse(change.after).links
    if len(new_links) != len(old_links.links):
        raise MoveError(f"{change.path}: the new link text cannot be written here; nothing moved")
    for was, now in zip(old_links.links, new_links, strict=True):
        target = before.resolve(was.linkpath, change.path).path
        if target is None:
            continue
        wanted = new if target == old else target
        if after.resolve(now.linkpath, change.new_path).path != wanted:
            raise MoveError(
                f"{change.path}:{was.span.line}: the link {was.target!r} cannot be rewritten "
                f"to reach {wanted}; nothing moved"
            )


def apply_move(vault: Vault, plan: MovePlan) -> dict[str, str]:
    """Move the file, then rewrite the notes; returns the notes skipped and why."""
    try:
        writer.move_file(vault.root, plan.old, plan.new)
    except writer.WriteSkipped as exc:
        raise MoveError(str(exc)) from None
    skipped: dict[str, str] = {}
    # The moved note first: its own links matter most to the user who moved it.
    for change in sorted(plan.changes, key=lambda c: (c.path != plan.old, c.path)):
        try:
            writer.write_note(
                vault.root,
                change.new_path,
                change.after,
                bom=change.bom,
                expected_digest=change.digest,
            )
        except writer.WriteSkipped as exc:
            skipped[change.new_path] = str(exc)
    return skipped


def vault_path(root: Path, given: Path) -> str:
    """The vault-relative, NFC, `/`-separated form of a path given on the command line."""
    absolute = given.resolve() if given.exists() else given.parent.resolve() / given.name
    try:
        rel = absolute.relative_to(root)
    except ValueError:
        raise MoveError(f"{given}: outside the vault at {root}") from None
    return nfc(rel.as_posix())
