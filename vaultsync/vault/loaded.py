"""The loaded vault: its files, parsed notes, index and variants, built in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from vaultsync.config.settings import Config
from vaultsync.io.files import UnreadableFile, VaultFile, read_note
from vaultsync.parse.scanner import parse
from vaultsync.vault.index import NoteEntry, Variants, VaultIndex, count_linkpaths, find_variants
from vaultsync.vault.memos import Memos

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Vault:
    root: Path
    config: Config
    files: list[VaultFile]
    notes: dict[str, NoteEntry]
    index: VaultIndex
    variants: Variants
    # Vault-wide derived data computed once per load (e.g. the backlink map), each under
    # a `Memo` of the module that owns it; checkers of single notes read it instead of
    # redoing it.
    memos: Memos = field(default_factory=Memos)


def read_entry(root: Path, file: VaultFile, max_size: int) -> NoteEntry:
    """Read and parse one note; an unreadable one becomes an entry with an error."""
    try:
        note = read_note(root / file.location, max_size, root)
    except UnreadableFile as exc:
        return NoteEntry(file.path, None, error=str(exc), excluded=file.excluded)
    return NoteEntry(
        file.path,
        parse(note.text),
        excluded=file.excluded or note.symlink,
        bom=note.bom,
        digest=note.digest,
    )


def build(
    root: Path,
    config: Config,
    files: list[VaultFile],
    notes: dict[str, NoteEntry],
    *,
    index: VaultIndex | None = None,
    variants: Variants | None = None,
) -> Vault:
    """The loaded vault: every path that checks a vault (plain, halves, incremental, the
    daemon) makes its `Vault` here.

    `index`: an index of these files and notes the caller holds already (kept across an
    edit that changed no name, or one half's file index given the whole vault's notes);
    None: built here. `variants`: the canonical spellings as the caller counted them (the
    daemon's and a snapshot's VariantTracker, the two halves' merged counts); None:
    counted here from every note's links.
    """
    if index is None:
        index = VaultIndex(files, notes)
    if variants is None:
        all_links = chain.from_iterable(e.parsed.links for e in notes.values() if e.parsed)
        variants = find_variants(notes, count_linkpaths(all_links), config.links.canonical)
    return Vault(root, config, files, notes, index, variants)


def edited(vault: Vault, notes: dict[str, NoteEntry], changed: Iterable[str]) -> Vault:
    """The vault after the notes in `changed` were edited in their contents only (same
    files, names, aliases and canonical spellings): its index and the memos that survive
    such an edit are carried over; `vault` itself is left as it was."""
    changed = list(changed)
    index = vault.index.edited(notes, changed)
    return Vault(
        vault.root,
        vault.config,
        vault.files,
        notes,
        index,
        vault.variants,
        vault.memos.surviving_edit(),
    )
