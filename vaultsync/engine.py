"""Load a vault into an index and run the selected rules over it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from vaultsync.config import Config
from vaultsync.index import NoteEntry, Variants, VaultIndex, find_variants
from vaultsync.model import Diagnostic, Fix, Span
from vaultsync.parse import parse
from vaultsync.rules import CHECKERS, Rule, Selection, _load_families
from vaultsync.rules.files import UNREADABLE_FILE
from vaultsync.sections import writable
from vaultsync.vault import UnreadableFile, VaultFile, discover, read_note

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Vault:
    root: Path
    config: Config
    files: list[VaultFile]
    notes: dict[str, NoteEntry]
    index: VaultIndex
    variants: Variants
    # Vault-wide derived data computed once per load (e.g. the backlink map), keyed by
    # the module that owns it; checkers of single notes read it instead of redoing it.
    cache: dict[str, Any] = field(default_factory=dict)


def read_entry(root: Path, file: VaultFile, max_size: int) -> NoteEntry:
    """Read and parse one note; an unreadable one becomes an entry with an error."""
    try:
        note = read_note(root / file.location, max_size)
    except UnreadableFile as exc:
        return NoteEntry(file.path, None, error=str(exc), excluded=file.excluded)
    return NoteEntry(
        file.path,
        parse(note.text),
        excluded=file.excluded,
        bom=note.bom,
        digest=note.digest,
    )


def build(root: Path, config: Config, files: list[VaultFile], notes: dict[str, NoteEntry]) -> Vault:
    index = VaultIndex(files, notes)
    all_links = chain.from_iterable(e.parsed.links for e in notes.values() if e.parsed)
    variants = find_variants(notes, all_links, config.links.canonical)
    return Vault(root, config, files, notes, index, variants)


def load(root: Path, config: Config, progress: Progress | None = None) -> Vault:
    files = discover(root, config)
    note_files = [f for f in files if f.is_note]
    notes: dict[str, NoteEntry] = {}
    total = len(note_files)
    for i, file in enumerate(note_files, 1):
        notes[file.path] = read_entry(root, file, config.max_file_size)
        if progress is not None and i % 256 == 0:
            progress(i, total)
    return build(root, config, files, notes)


@dataclass(slots=True)
class Context:
    vault: Vault
    selection: Selection

    def emit(
        self,
        rule: Rule,
        note: NoteEntry,
        span: Span,
        message: str,
        data: dict[str, Any] | None = None,
        fix: Fix | None = None,
    ) -> Iterator[Diagnostic]:
        """A diagnostic for `rule` if it is selected, at its configured severity."""
        if rule.code in self.selection.enabled:
            yield Diagnostic(
                note.path,
                span,
                rule.code,
                message,
                self.selection.severities[rule.code],
                data or {},
                fix,
            )


_FILE_START = Span(0, 0, 1, 1, 1, 1)


def _suppressed(selection: Selection, entry: NoteEntry, diag: Diagnostic) -> bool:
    parsed = entry.parsed
    if parsed is None:
        return False
    if parsed.file_suppressions is not None and selection.matches(
        parsed.file_suppressions, diag.code
    ):
        return True
    return any(
        line == diag.span.line and selection.matches(codes, diag.code)
        for line, codes in parsed.suppressions
    )


def check_note(ctx: Context, entry: NoteEntry) -> list[Diagnostic]:
    if entry.parsed is None:
        return list(
            ctx.emit(UNREADABLE_FILE, entry, _FILE_START, f"Unreadable file: {entry.error}")
        )
    found: Iterable[Diagnostic] = chain.from_iterable(check(ctx, entry) for check in CHECKERS)
    if entry.parsed.suppressions or entry.parsed.file_suppressions is not None:
        found = (d for d in found if not _suppressed(ctx.selection, entry, d))
    if not writable(entry.parsed):
        # Broken section markers (S003): the note is never written, so nothing in it is
        # offered as fixable, whichever rules are selected.
        return [dataclasses.replace(d, fix=None) if d.fix else d for d in found]
    return list(found)


def check(
    vault: Vault, selection: Selection, only: Iterable[str] | None = None
) -> list[Diagnostic]:
    """Diagnostics for every linted note (or only those in `only`), sorted."""
    _load_families()
    ctx = Context(vault, selection)
    wanted = None if only is None else set(only)
    diagnostics: list[Diagnostic] = []
    for path, entry in vault.notes.items():
        if entry.excluded or (wanted is not None and path not in wanted):
            continue
        diagnostics.extend(check_note(ctx, entry))
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics
