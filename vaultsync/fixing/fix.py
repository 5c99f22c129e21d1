"""The fix loop: apply the selected diagnostics' edits, re-check, repeat until nothing changes.

Each pass groups fix edits per note, holds back fixes that overlap one already taken (they
are re-derived on the next pass from the new text) and applies the rest, from the text as
read, in memory. Only changed notes are re-parsed; the index is rebuilt from the unchanged
entries plus those. Once a pass changes nothing, every changed note is written once through
`writer`, against the digest read at the start: a crash leaves each file old or fully fixed,
and a file edited during the run is skipped, never overwritten (§10).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from vaultsync.core.model import Diagnostic, Edit, Fix, FixKind, apply_edits
from vaultsync.core.text import fold, naming_style, strip_md
from vaultsync.io import writer
from vaultsync.io.files import (
    ATTACHMENT_EXTENSIONS,
    NoteText,
    UnreadableFile,
    VaultFile,
    _ignore_spec,
    extension,
    read_note,
    refused_in_name,
)
from vaultsync.lint import engine
from vaultsync.parse.scanner import parse
from vaultsync.rules import Selection
from vaultsync.vault import linkmaps, loaded, sections
from vaultsync.vault.index import NoteEntry, majority_style
from vaultsync.vault.linkmaps import Tracked
from vaultsync.vault.loaded import Vault
from vaultsync.vault.memos import Memo

if TYPE_CHECKING:
    from pathspec import PathSpec

MAX_PASSES = 10
# Runs of the fix loop, each holding back the notes the ones before found in trouble.
MAX_ATTEMPTS = 4
FORCE_CODES = frozenset({"S004"})  # unsafe fixes applied only with --force
CREATE_CODE = "L001"
# Generated sections (backlinks, index) describe the rest of the vault: they are rewritten
# in a pass of their own once the other fixes have settled, not recomputed after each.
SECTION_PREFIX = "S"
# A pass that changed more than this share of the notes (1/N) checks the vault whole
# again: bringing the link maps and spelling counts up to date note by note costs more
# than building them afresh (10,000 notes, 9,772 changed: 7.7 s against 0.5 s).
_INCREMENTAL_SHARE = 10


@dataclass(frozen=True, slots=True)
class FixOptions:
    unsafe: bool = False
    force: bool = False  # also rewrite hand-edited sections (S004)
    create_missing: bool = False  # stub notes for unresolved targets (L001)
    dry_run: bool = False  # compute everything, write nothing (`--diff`)
    max_passes: int = MAX_PASSES


@dataclass(slots=True)
class FileChange:
    path: str
    before: str | None  # None: the file is new (a stub)
    after: str
    bom: bool
    fixed: Counter[str] = field(default_factory=Counter)
    digest: str = ""  # sha256 of the bytes read, for compare-and-swap at write time


@dataclass(slots=True)
class FixResult:
    vault: Vault  # the vault as it is after the fixes
    diagnostics: list[Diagnostic]  # what remains
    changes: dict[str, FileChange]  # notes whose text changed, by path
    skipped: dict[str, str]  # path -> why it was not written
    converged: bool = True
    still_changing: list[str] = field(default_factory=list)  # set when not converged
    passes: int = 0
    # The notes the fixes' edits may have changed the diagnostics of (`linkmaps.edit`),
    # fixed or not; None: any note's (a pass had to check the vault whole).
    touched: set[str] | None = None
    # `vault` with its link maps and spelling counts, for a fix that goes on from it.
    tracked: Tracked | None = field(default=None, repr=False)

    @property
    def fixed(self) -> Counter[str]:
        return fixed_codes(self.changes)


def fixed_codes(changes: dict[str, FileChange]) -> Counter[str]:
    """How many problems of each code the `changes` fixed, over all their notes."""
    total: Counter[str] = Counter()
    for change in changes.values():
        total.update(change.fixed)
    return total


def wanted(fix: Fix | None, code: str, options: FixOptions) -> bool:
    if fix is None or not fix.edits:
        return False
    if code in FORCE_CODES:
        return options.force
    if fix.applicability is FixKind.SAFE:
        return True
    return fix.applicability is FixKind.UNSAFE and options.unsafe


def _overlap(a: Edit, b: Edit) -> bool:
    return a.span.start < b.span.end and b.span.start < a.span.end


def _conflict(s1: int, e1: int, s2: int, e2: int) -> bool:
    """May edits [s1, e1) and [s2, e2) of two different fixes not share a pass?"""
    if s1 < e2 and s2 < e1:
        return True
    # An insertion at the edge of (or at the same place as) another edit has no defined
    # order; keep it for the next pass.
    return (s1 == e1 and s2 <= s1 <= e2) or (s2 == e2 and s1 <= s2 <= e1)


def _first_start(diag: Diagnostic) -> tuple[int, str]:
    assert diag.fix is not None
    return min(e.span.start for e in diag.fix.edits), diag.code


def select_fixes(diagnostics: Iterable[Diagnostic]) -> tuple[list[Edit], Counter[str], int]:
    """Non-overlapping edits of one note's fixes, the codes they fix, and how many wait."""
    taken: list[tuple[int, int]] = []  # (start, end) of the edits taken, sorted
    edits_taken: list[Edit] = []
    seen: set[tuple[Edit, ...]] = set()
    counts: Counter[str] = Counter()
    held = 0

    def clashes(edit: Edit) -> bool:
        # Taken edits do not overlap, so sorted by start they are sorted by end too: only
        # the nearest ones can clash with a new edit.
        s, e = edit.span.start, edit.span.end
        i = bisect_left(taken, (s, e))
        return any(_conflict(s, e, *taken[j]) for j in range(max(0, i - 2), min(len(taken), i + 2)))

    for diag in sorted((d for d in diagnostics if d.fix is not None), key=_first_start):
        assert diag.fix is not None
        edits = tuple(sorted(diag.fix.edits, key=lambda e: (e.span.start, e.span.end)))
        if edits in seen:
            counts[diag.code] += 1  # the same edit, already taken, fixes this one too
            continue
        if any(_overlap(a, b) for a, b in pairwise(edits)) or any(clashes(e) for e in edits):
            held += 1
            continue
        seen.add(edits)
        for edit in edits:
            insort(taken, (edit.span.start, edit.span.end))
        edits_taken.extend(edits)
        counts[diag.code] += 1
    return edits_taken, counts, held


class _Session:
    """The working state of one `fix` run: texts read so far and the current vault."""

    def __init__(self, vault: Vault, options: FixOptions) -> None:
        self.vault = vault
        self.options = options
        self.texts: dict[str, NoteText] = {}
        self.changes: dict[str, FileChange] = {}
        self.skipped: dict[str, str] = {}
        self.added: dict[str, set[str]] = {}  # path -> kinds of the sections this pass adds
        self.created: set[str] = set()  # folded paths of stubs made or attempted
        self.spec: tuple[PathSpec[Any] | None] | None = None  # exclude globs, once needed
        # Notes whose name on disk is not NFC are opened and written by that name.
        self.locations = {f.path: f.location for f in vault.files if f.disk_path}

    def text_of(self, entry: NoteEntry) -> NoteText:
        """The note's text as the engine parsed it; a file changed since is skipped."""
        known = self.texts.get(entry.path)
        if known is not None:
            return known
        try:
            location = self.locations.get(entry.path, entry.path)
            note = read_note(
                self.vault.root / location, self.vault.config.max_file_size, self.vault.root
            )
        except UnreadableFile as exc:
            raise writer.WriteSkipped(f"{entry.path}: {exc}") from None
        if note.digest != entry.digest:
            raise writer.WriteSkipped(f"{entry.path}: changed since it was read, not written")
        self.texts[entry.path] = note
        return note

    def rewrite(self, path: str, diagnostics: list[Diagnostic]) -> str | None:
        """Apply one pass of fixes to a note in memory; its new text, or None if unchanged."""
        entry = self.vault.notes[path]
        edits, counts, _held = select_fixes(diagnostics)
        if not edits:
            return None
        try:
            note = self.text_of(entry)
        except writer.WriteSkipped as exc:
            self.skipped[path] = str(exc)
            return None
        new_text = apply_edits(note.text, edits)
        if new_text == note.text:
            return None
        change = self.changes.get(path)
        if change is None:
            change = self.changes[path] = FileChange(path, note.text, new_text, note.bom)
            change.digest = note.digest
        change.after = new_text
        change.fixed.update(counts)
        kinds = sections.added_kinds(edits)
        if kinds:
            self.added[path] = kinds
        digest = writer.digest(writer.encode(new_text, note.bom))
        self.texts[path] = NoteText(new_text, note.bom, digest)
        return new_text

    def commit(self) -> None:
        """Write every changed note once, against the digest read at the start (CAS)."""
        changed = [c for c in self.changes.values() if c.before != c.after]
        for change in changed:
            if change.before is None:
                try:
                    writer.create_note(self.vault.root, change.path, change.after)
                except writer.WriteSkipped as exc:
                    self.skipped[change.path] = str(exc)
        edits = [c for c in changed if c.before is not None]
        results = writer.write_notes(
            self.vault.root,
            [
                writer.NoteWrite(self.locations.get(c.path, c.path), c.after, c.bom, c.digest)
                for c in edits
            ],
        )
        for change, result in zip(edits, results, strict=True):
            if isinstance(result, writer.WriteSkipped):
                self.skipped[change.path] = str(result)
        for path in self.skipped:
            self.changes.pop(path, None)

    def stub_path(self, diag: Diagnostic) -> str | None:
        """Where a stub for the L001 target of `diag` goes, or None when none should be made."""
        entry = self.vault.notes[diag.path]
        assert entry.parsed is not None
        link = next((k for k in entry.parsed.links if k.span == diag.span), None)
        if link is None or not link.linkpath:
            return None
        target = link.linkpath
        if extension(target) in ATTACHMENT_EXTENSIONS:
            return None
        if target.startswith(("./", "../", "/")):
            folder = entry.folder if target.startswith(".") else ""
            parts = folder.split("/") if folder else []
            for segment in target.split("/"):
                if segment == "..":
                    if not parts:
                        return None
                    parts.pop()
                elif segment not in ("", "."):
                    parts.append(segment)
            rel = "/".join(parts)
        else:
            stubs = self.vault.config.stubs.folder.strip("/")
            # A bare name takes the vault's naming style (the link then gets L002 and is
            # respelled); a path is kept as written so that it resolves by its suffix.
            styled = target if "/" in target else _styled(target, self.vault)
            rel = f"{stubs}/{styled}" if stubs else styled
        name = rel.rsplit("/", 1)[-1]
        if not name or name.startswith(".") or any(map(refused_in_name, rel.split("/"))):
            return None  # a name Obsidian refuses gets no stub
        return rel if rel.lower().endswith(".md") else rel + ".md"

    def create_stub(self, rel: str) -> VaultFile | None:
        if fold(rel) in self.created:
            return None
        self.created.add(fold(rel))
        text = f"# {strip_md(rel.rsplit('/', 1)[-1])}\n"
        if self.vault.index.exact(rel) is not None or (self.vault.root / rel).exists():
            self.skipped[rel] = f"{rel}: already exists, not overwritten"
            return None
        digest = writer.digest(writer.encode(text, False))
        self.changes[rel] = FileChange(rel, None, text, False)
        self.texts[rel] = NoteText(text, False, digest)
        if self.spec is None:
            self.spec = (_ignore_spec(self.vault.root, self.vault.config),)
        excluded = self.spec[0] is not None and self.spec[0].match_file(rel)
        return VaultFile(rel, True, excluded)


def _styled(name: str, vault: Vault) -> str:
    """A stub's name in the vault's majority naming style (separators only; case is kept)."""
    style = _majority(vault)
    current = naming_style(name)
    if current is None or current == style:
        return name
    separator = {"spaced": " ", "snake": "_", "kebab": "-"}[style]
    return separator.join(name.replace("_", " ").replace("-", " ").split())


# The vault's naming style depends on the names only: an edit of contents leaves it valid.
_NAMING_STYLE: Memo[str] = Memo("fix.naming-style", True)


def _majority(vault: Vault) -> str:
    return vault.memos.get_or_make(
        _NAMING_STYLE, lambda: majority_style(e.name for e in vault.notes.values())
    )


def fix_vault(
    vault: Vault,
    selection: Selection,
    only: Iterable[str] | None = None,
    options: FixOptions | None = None,
    texts: Mapping[str, NoteText] | None = None,
    tracked: Tracked | None = None,
    checked: list[Diagnostic] | None = None,
) -> FixResult:
    """Fix `vault` (or the notes in `only`) until a re-check finds nothing more to apply.

    One odd note never blocks the rest (issue 17): a note whose fixes do not settle (still
    changing after `max_passes`, or a section added where the note's own syntax swallows
    it) is left as it was and reported in `skipped`, and the fix runs again from the
    vault as read with that note held back, so every other note is fixed against the
    note as it really is. Only if held-back notes keep appearing does the run give up
    (`converged` False, nothing written).

    `texts`: notes' texts as the vault's entries were parsed from, when they are not
    what is on disk (an editor's unsaved buffers; used with `dry_run`).
    `tracked`: `vault` with its link maps and spelling counts, when the caller has them
    (used up); otherwise they are worked out here. A pass after the first checks again
    only the notes its edits touched (`linkmaps.edit`), not the vault whole.
    `checked`: the diagnostics of `tracked`'s vault as the caller has them (a check from
    the caches), sorted; the first pass starts from them instead of checking again.
    """
    options = options or FixOptions()
    held: dict[str, str] = {}
    for _ in range(MAX_ATTEMPTS):
        # A run after one that held notes back starts from the vault as read again.
        start = tracked if tracked is not None and tracked.vault is vault else None
        found = checked if start is not None else None
        tracked = checked = None
        result, trouble = _fix(vault, selection, only, options, held, texts, start, found)
        if not trouble:
            return result
        held.update(trouble)
    result.converged = False
    result.still_changing = sorted(trouble)
    return result


def _fix(
    vault: Vault,
    selection: Selection,
    only: Iterable[str] | None,
    options: FixOptions,
    held: dict[str, str],
    texts: Mapping[str, NoteText] | None,
    tracked: Tracked | None,
    checked: list[Diagnostic] | None,
) -> tuple[FixResult, dict[str, str]]:
    """One run of the fix loop with the notes in `held` (path -> why) left alone.

    Returns the result (written unless dry run, when nothing is in trouble) and the notes
    found in trouble (path -> why), for which nothing was written.
    """
    wanted_paths = None if only is None else set(only)
    session = _Session(vault, options)
    session.skipped.update(held)
    session.texts.update(texts or {})
    if checked is None:
        diagnostics = engine.check(vault, selection, wanted_paths)
    elif wanted_paths is None:
        diagnostics = list(checked)
    else:
        diagnostics = [d for d in checked if d.path in wanted_paths]
    touched: set[str] | None = set()
    last_changed: list[str] = []
    for passes in range(1, options.max_passes + 1):
        per_file: dict[str, list[Diagnostic]] = {}
        stubs: dict[str, list[Diagnostic]] = {}
        sections_due: dict[str, list[Diagnostic]] = {}
        for diag in diagnostics:
            if diag.path in session.skipped:
                continue
            if wanted(diag.fix, diag.code, options):
                group = sections_due if diag.code.startswith(SECTION_PREFIX) else per_file
                group.setdefault(diag.path, []).append(diag)
            elif options.create_missing and diag.code == CREATE_CODE:
                rel = session.stub_path(diag)
                if rel is not None:
                    stubs.setdefault(rel, []).append(diag)
        if not per_file and not stubs:
            per_file = sections_due  # the rest of the vault has settled: now its sections
        notes = dict(session.vault.notes)
        files = session.vault.files
        last_changed = []
        rewritten: dict[str, str] = {}
        session.added.clear()
        for path, diags in per_file.items():
            new_text = session.rewrite(path, diags)
            if new_text is not None:
                rewritten[path] = new_text
        # Parsed together: a whole vault's worth of rewrites is parsed on every core.
        reparsed = engine.parse_texts(list(rewritten.values()))
        lost = {
            path: f"{path}: a section added at its end would not be readable there; left "
            "as it was (this is a bug in vaultsync, please report it)"
            for path, parsed in zip(rewritten, reparsed, strict=True)
            if path in session.added and not sections.reads_back(parsed, session.added[path])
        }
        if lost:
            return _result(session, diagnostics, passes, False, touched, tracked), lost
        for path, parsed in zip(rewritten, reparsed, strict=True):
            before = notes[path]  # a plain entry, even where this one's parse was deferred
            notes[path] = NoteEntry(
                path,
                parsed,
                excluded=before.excluded,
                bom=before.bom,
                digest=session.texts[path].digest,
            )
            last_changed.append(path)
        new_files: list[VaultFile] = []
        for rel, diags in stubs.items():
            made = session.create_stub(rel)
            if made is None:
                continue
            new_files.append(made)
            text = session.texts[rel]
            notes[rel] = NoteEntry(
                rel, parse(text.text), excluded=made.excluded, digest=text.digest
            )
            session.changes[rel].fixed[CREATE_CODE] += len(diags)
            last_changed.append(rel)
            if wanted_paths is not None:
                wanted_paths.add(rel)  # its generated sections are part of this fix
        if not last_changed:
            if not options.dry_run:
                session.commit()
            return _result(session, diagnostics, passes, True, touched, tracked), {}
        if new_files:
            files = sorted([*files, *new_files], key=lambda f: f.path)
        changed = {path: notes[path] for path in last_changed}
        session.vault, tracked, stale = _edited(session.vault, files, notes, changed, tracked)
        if stale is None:  # any note's diagnostics may have changed
            diagnostics = engine.check(session.vault, selection, wanted_paths)
            touched = None
            continue
        if touched is not None:
            touched |= stale
        if wanted_paths is not None:
            stale &= wanted_paths
        diagnostics = [d for d in diagnostics if d.path not in stale]
        diagnostics += engine.check(session.vault, selection, stale)
        diagnostics.sort(key=Diagnostic.sort_key)
    # Still changing after the last pass: a rule's fix does not converge on these notes,
    # and text that keeps changing may be growing without bound. Nothing is written.
    flagged = {d.path for d in diagnostics}
    still = sorted(p for p in last_changed if p in flagged) or sorted(last_changed)
    trouble = {
        path: f"{path}: its fixes did not converge after {options.max_passes} passes; left "
        "as it was (this is a bug in vaultsync, please report it)"
        for path in still
    }
    return _result(session, diagnostics, options.max_passes, False, touched, tracked), trouble


def _edited(
    vault: Vault,
    files: list[VaultFile],
    notes: dict[str, NoteEntry],
    changed: dict[str, NoteEntry],
    tracked: Tracked | None,
) -> tuple[Vault, Tracked | None, set[str] | None]:
    """The vault after a pass (`notes`: every entry, `changed` among them; `files`: with
    any stub made), its maps and counts when kept, and the notes whose diagnostics the
    pass may have changed (None: any note's).

    A pass that only edited notes' contents, and few of them, is judged by
    `linkmaps.edit`; one that made a file, changed an alias, or touched more than a
    tenth of the notes gets the vault built afresh."""
    if len(files) == len(vault.files) and len(changed) * _INCREMENTAL_SHARE <= len(notes):
        if tracked is None or tracked.vault is not vault:
            tracked = Tracked.of_vault(vault)
        edited = linkmaps.edit(tracked, changed)
        if edited is not None:
            tracked, stale = edited
            return tracked.vault, tracked, stale  # stale None: a canonical spelling changed
    return loaded.build(vault.root, vault.config, files, notes), None, None


def _result(
    session: _Session,
    diagnostics: list[Diagnostic],
    passes: int,
    converged: bool,
    touched: set[str] | None,
    tracked: Tracked | None,
) -> FixResult:
    changes = {p: c for p, c in sorted(session.changes.items()) if c.before != c.after}
    return FixResult(
        session.vault,
        diagnostics,
        changes,
        dict(sorted(session.skipped.items())),
        converged,
        [],
        passes,
        touched,
        tracked if tracked is not None and tracked.vault is session.vault else None,
    )
