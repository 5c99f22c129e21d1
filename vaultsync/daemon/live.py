"""The daemon's in-memory vault, kept current one changed file at a time (§9, §11).

A save re-parses only the saved note; the index is rebuilt only when the set of files
changes (create, delete, rename: rare), and link variants are kept by counting spellings
so a save costs what it touched, not the size of the vault.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING

from vaultsync.config.settings import Config
from vaultsync.core.model import Diagnostic, Link, ParsedNote
from vaultsync.core.text import nfc
from vaultsync.io.files import (
    NoteText,
    UnreadableFile,
    VaultFile,
    discover,
    read_note,
)
from vaultsync.lint import engine
from vaultsync.parse.scanner import parse
from vaultsync.rules import Selection, context
from vaultsync.vault import loaded
from vaultsync.vault.index import NoteEntry, VaultIndex
from vaultsync.vault.linkmaps import LinkMaps
from vaultsync.vault.spellings import VariantTracker

if TYPE_CHECKING:
    from vaultsync.lint.delta import Start

_PATH = attrgetter("path")
_LINKPATH = attrgetter("linkpath")


def _every(index: VaultIndex, entry: NoteEntry) -> frozenset[str]:
    """The files `entry`'s links (all of them, generated sections' too) resolve to."""
    parsed = entry.parsed
    if parsed is None:
        return frozenset()
    path = entry.path
    resolved = index.resolve_all(map(_LINKPATH, parsed.links), path)
    every: frozenset[str] = frozenset(map(_PATH, resolved)) - {None, path}
    return every


def _links_of(
    notes: Mapping[str, NoteEntry], index: VaultIndex
) -> tuple[dict[str, set[str]], dict[str, frozenset[str]]]:
    """(file -> the notes linking to it, note -> the files it links to) of every note:
    what the API's incoming links, the LSP and rename following read."""
    incoming: dict[str, set[str]] = defaultdict(set)
    outgoing: dict[str, frozenset[str]] = {}
    for path, entry in notes.items():
        every = outgoing[path] = _every(index, entry)
        for target in every:
            incoming[target].add(path)
    return dict(incoming), outgoing


class _LaterIncoming(Mapping[str, set[str]]):
    """The incoming links of the vault as it is now, worked out only if read (reading
    them parses, or unpacks, every note): `LiveVault.incoming_map` before a batch, when
    the live vault has not needed them yet. Only a batch that removes or renames files
    reads it, and such a batch leaves the notes and index it was taken of as they were
    (it makes new ones)."""

    def __init__(self, notes: dict[str, NoteEntry], index: VaultIndex) -> None:
        self._notes = dict(notes)
        self._index = index
        self._map: dict[str, set[str]] | None = None

    def _built(self) -> dict[str, set[str]]:
        if self._map is None:
            self._map = _links_of(self._notes, self._index)[0]
        return self._map

    def __getitem__(self, target: str) -> set[str]:
        return self._built()[target]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())


@dataclass(slots=True)
class Update:
    """What one batch of disk changes did to the live vault."""

    changed: set[str] = field(default_factory=set)  # notes re-read with new content
    added: set[str] = field(default_factory=set)  # files that appeared
    removed: set[str] = field(default_factory=set)  # files that disappeared
    affected: set[str] = field(default_factory=set)  # notes whose sections may change
    everything: bool = False  # the file set or aliases changed: all notes
    variants_changed: bool = False  # a canonical spelling changed (L002 of any note)

    @property
    def empty(self) -> bool:
        return not (self.changed or self.added or self.removed)


class LiveVault:
    """A Vault plus the maps the daemon keeps current; every access holds `lock`.

    `start`: the vault as the last whole check's snapshot and the notes changed since
    make it (lint.delta.start), its unchanged notes still rows of the parse cache; None:
    the vault is loaded (`use_cache`: from the parse cache where it can be).
    """

    def __init__(
        self,
        root: Path,
        config: Config,
        selection: Selection,
        use_cache: bool = True,
        start: Start | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.selection = selection  # what the API reports: the config's select/ignore
        self.lock = threading.RLock()
        if start is None:
            self.vault = engine.load(root, config, use_cache=use_cache)
            self.tracker = VariantTracker(self.vault.notes, config.links.canonical)
            self.maps = LinkMaps.of_vault(self.vault)
        else:
            edited = start.edited
            self.vault, self.tracker, self.maps = edited.vault, edited.tracker, edited.maps
        # The parse cache the notes not read yet come from, open while they may be read.
        self.rows = None if start is None else start.cache
        self._variants = self.tracker.variants()
        self.generation = 0
        self._diagnostics: dict[str, list[Diagnostic]] = {}
        # Every link's resolution, both ways: worked out when first needed (every note's
        # links resolved), then kept current; None until then.
        self._incoming: dict[str, set[str]] | None = None
        self._outgoing: dict[str, frozenset[str]] | None = None
        self._locations: dict[str, str] = {}
        self._files: dict[str, VaultFile] = {}
        self._map_files()
        if start is None:
            self._map_links()  # every note is parsed already: no dearer now than later

    # --- derived maps -------------------------------------------------------------------

    def _map_files(self) -> None:
        self._files = {f.path: f for f in self.vault.files}
        self._locations = {f.path: f.location for f in self.vault.files if f.disk_path}

    def _map_links(self) -> None:
        # Fresh maps rather than changed ones: a caller may still hold the previous ones.
        self._incoming, self._outgoing = _links_of(self.vault.notes, self.vault.index)

    def _remap_note(self, path: str, entry: NoteEntry) -> None:
        """Bring the incoming and outgoing links up to date with `path`'s new contents."""
        incoming, outgoing = self._incoming, self._outgoing
        if incoming is None or outgoing is None:
            return  # not worked out yet: they will be from the notes as they are then
        for target in outgoing.pop(path, frozenset()):
            sources = incoming.get(target)
            if sources is not None:
                sources.discard(path)
                if not sources:
                    del incoming[target]
        every = outgoing[path] = _every(self.vault.index, entry)
        for target in every:
            incoming.setdefault(target, set()).add(path)

    def incoming_map(self) -> Mapping[str, set[str]]:
        """The current map of incoming links (replaced, not cleared, on a rebuild)."""
        with self.lock:
            if self._incoming is not None:
                return self._incoming
            return _LaterIncoming(self.vault.notes, self.vault.index)

    def incoming(self, path: str) -> list[str]:
        """Notes with a link resolving to `path`, sorted."""
        with self.lock:
            if self._incoming is None:
                self._map_links()
            assert self._incoming is not None
            return sorted(self._incoming.get(path, ()))

    # --- reading the disk ---------------------------------------------------------------

    def _read(self, file: VaultFile, known: str | None) -> NoteEntry | None:
        """The note as on disk now; None when its bytes still have the `known` digest."""
        try:
            note = read_note(self.root / file.location, self.config.max_file_size, self.root)
        except UnreadableFile as exc:
            return NoteEntry(file.path, None, error=str(exc), excluded=file.excluded)
        if note.digest == known:
            return None  # checked before parsing: the events of our own writes cost a read
        return NoteEntry(
            file.path,
            parse(note.text),
            excluded=file.excluded or note.symlink,  # see NoteText.symlink
            bom=note.bom,
            digest=note.digest,
        )

    def location(self, path: str) -> str:
        """The name a note has on disk (differs from `path` for NFD names)."""
        with self.lock:
            file = self._locations.get(path)
        return file if file is not None else path

    def current_text(self, path: str) -> NoteText | None:
        """The note as it is on disk now, or None when it cannot be read."""
        try:
            return read_note(self.root / self.location(path), self.config.max_file_size, self.root)
        except UnreadableFile:
            return None

    # --- applying changes -----------------------------------------------------------------

    def apply(self, paths: Iterable[str], rescan: bool = False, reread: bool = False) -> Update:
        """Bring the listed paths up to date; `rescan`: also the file set (folders moved,
        appeared or vanished); `reread`: also every note's content."""
        with self.lock:
            return self._apply(set(paths), rescan or reread, reread)

    def _apply(self, paths: set[str], rescan: bool, reread: bool) -> Update:
        update = Update()
        vault = self.vault
        files = self._files
        # Paths arrive as named on disk; the index keys them in NFC (an NFD name from macOS).
        on_disk = {nfc(p): (self.root / p).is_file() for p in paths if not _hidden(p)}
        paths = set(on_disk)
        structural = rescan or any((p in files) != exists for p, exists in on_disk.items())
        if structural:
            fresh = {f.path: f for f in discover(self.root, self.config)}
            update.added = set(fresh) - set(files)
            update.removed = set(files) - set(fresh)
            files = fresh
        # A plain save replaces values only; a changed file set gets a fresh dict.
        notes = dict(vault.notes) if structural else vault.notes
        old_entries: list[NoteEntry] = []
        new_entries: list[NoteEntry] = []
        aliases_changed = False
        for path in update.removed:
            entry = notes.pop(path, None)
            if entry is not None:
                old_entries.append(entry)
        candidates = set(files) if reread else paths | update.added
        for path in sorted(candidates):
            file = files.get(path)
            if file is None or not file.is_note:
                continue
            previous = notes.get(path)
            entry = self._read(file, previous.digest if previous is not None else None)
            if entry is None:
                continue  # our own write, or a save that changed nothing
            if previous is not None:
                old_entries.append(previous)
                aliases_changed |= previous.aliases != entry.aliases
            notes[path] = entry
            new_entries.append(entry)
            update.changed.add(path)
        if update.empty:
            return update
        file_list = sorted(files.values(), key=lambda f: f.path) if structural else vault.files
        return self._commit(
            update, notes, file_list, old_entries, new_entries, structural, aliases_changed
        )

    def replace_entry(
        self, path: str, text: str, bom: bool, digest: str, parsed: ParsedNote | None = None
    ) -> Update:
        """Record a note the daemon itself just wrote (`parsed`: its text, parsed if that
        was done already), without reading it back."""
        with self.lock:
            notes = self.vault.notes  # same keys, one value replaced: no copy needed
            previous = notes.get(path)
            excluded = previous.excluded if previous is not None else False
            if parsed is None:
                parsed = parse(text)
            entry = NoteEntry(path, parsed, excluded=excluded, bom=bom, digest=digest)
            notes[path] = entry
            old = [previous] if previous is not None else []
            aliases = previous is not None and previous.aliases != entry.aliases
            update = Update(changed={path})
            return self._commit(update, notes, self.vault.files, old, [entry], False, aliases)

    def drop_derived(self) -> None:
        """Drop the per-vault data derived from note contents (each note's own links and
        their resolutions, ...): recomputed when next asked, as after any save. The daemon
        lets it go once the first pass is done, so idle it holds only what it must."""
        with self.lock:
            self._drop_derived()

    def _drop_derived(self) -> None:
        # Each memo says whether it survives an edit (vault/memos.Memo.survives_edit).
        self.vault.memos.drop_edit_dependent()

    def _commit(
        self,
        update: Update,
        notes: dict[str, NoteEntry],
        files: list[VaultFile],
        old_entries: list[NoteEntry],
        new_entries: list[NoteEntry],
        structural: bool,
        aliases_changed: bool,
    ) -> Update:
        if self.tracker.replace(old_entries, new_entries):
            update.variants_changed = True
            self._variants = self.tracker.variants()
        if not (structural or aliases_changed):
            # The index is kept: what it remembers of the changed notes' headings goes.
            self.vault.index.forget(e.path for e in old_entries)
        if structural or aliases_changed or update.variants_changed:
            # A new Vault (with no memos); the index is kept unless names changed.
            index = None if structural or aliases_changed else self.vault.index
            self.vault = loaded.build(
                self.root, self.config, files, notes, index=index, variants=self._variants
            )
        else:
            # Same files, aliases and variants: the Vault object stays (so do per-vault caches
            # that depend on those only); caches derived from note contents are dropped.
            self._drop_derived()
        self.generation += 1
        if update.variants_changed or aliases_changed:
            self._diagnostics.clear()  # L002/L006 of any note may change; redone when asked
        if structural:
            # Resolution itself may change anywhere: remap every link, revisit every note.
            update.everything = True
            self._map_files()
            self.maps = LinkMaps.of_vault(self.vault)
            if self._incoming is not None:
                self._map_links()
            self._diagnostics.clear()
            update.affected = {p for p, e in notes.items() if not e.excluded}
            return update
        # What the edit makes stale is LinkMaps' rule (the one a check after an edit
        # follows). Sections depend on who links where (links inside sections do not
        # count), on names and on the file set; a content change alters only the first:
        # the sections of the edited notes, of the notes they started or stopped linking
        # to, and index blocks.
        before = {entry.path: entry for entry in old_entries}
        edited = [entry for entry in new_entries if entry.path in before]
        holders = self.maps.holders
        sections_of: set[str] = set()
        stale = self.maps.edit(self.vault, [before[e.path] for e in edited], edited, sections_of)
        for entry in new_entries:
            self._remap_note(entry.path, entry)
        affected = set(update.changed) | holders | sections_of | self.maps.holders
        if stale is None:
            # The vault's first backlinks section appeared, or its last went: whether
            # any note should have one changed with it (§6).
            self._diagnostics.clear()
            affected = set(notes)
            stale = set()
        for path in stale | affected:
            self._diagnostics.pop(path, None)
        update.affected = {p for p in affected if p in notes and not notes[p].excluded}
        return update

    # --- diagnostics --------------------------------------------------------------------

    def check(self, selection: Selection, paths: Iterable[str]) -> list[Diagnostic]:
        """`engine.check` of a few notes, without walking the whole vault to find them."""
        ctx = context.Context(self.vault, selection)
        notes = self.vault.notes
        found: list[Diagnostic] = []
        for path in sorted(paths):
            entry = notes.get(path)
            if entry is not None and not entry.excluded:
                found.extend(engine.check_note(ctx, entry))
        found.sort(key=Diagnostic.sort_key)
        return found

    def diagnostics(self, paths: Iterable[str] | None = None) -> list[Diagnostic]:
        """Diagnostics of the given notes (all when None), cached until a change touches them."""
        selection = self.selection
        with self.lock:
            notes = self.vault.notes
            wanted = sorted(notes) if paths is None else [p for p in paths if p in notes]
            missing = [p for p in wanted if p not in self._diagnostics]
            if missing:
                found: dict[str, list[Diagnostic]] = {p: [] for p in missing}
                for d in self.check(selection, missing):
                    found[d.path].append(d)
                self._diagnostics.update(found)
            result = [d for p in wanted for d in self._diagnostics[p]]
        result.sort(key=Diagnostic.sort_key)
        return result

    def links_of(self, path: str) -> list[tuple[Link, str | None]]:
        with self.lock:
            entry = self.vault.notes.get(path)
            if entry is None or entry.parsed is None:
                return []
            index = self.vault.index
            return [(link, index.resolve(link.linkpath, path).path) for link in entry.parsed.links]


def _hidden(path: str) -> bool:
    return any(part.startswith(".") for part in path.split("/"))
