"""The daemon's in-memory vault, kept current one changed file at a time (§9, §11).

A save re-parses only the saved note; the index is rebuilt only when the set of files
changes (create, delete, rename: rare), and link variants are kept by counting spellings
so a save costs what it touched, not the size of the vault.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path

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
from vaultsync.vault import loaded, sections, templates
from vaultsync.vault.index import NoteEntry, VaultIndex
from vaultsync.vault.spellings import VariantTracker

_PATH = attrgetter("path")
_LINKPATH = attrgetter("linkpath")


def _targets(
    index: VaultIndex, entry: NoteEntry, notes: dict[str, NoteEntry], counted: bool
) -> tuple[frozenset[str], frozenset[str]]:
    """Files the entry links to, and the notes among them that count as its backlinks
    (`sections.counted_targets`, the one definition; `counted`: the note's links count
    at all, not matched by `backlinks.exclude`)."""
    parsed = entry.parsed
    if parsed is None:
        return frozenset(), frozenset()
    path = entry.path
    resolved = index.resolve_all(map(_LINKPATH, parsed.links), path)
    every: frozenset[str] = frozenset(map(_PATH, resolved)) - {None, path}
    if not counted:
        return every, frozenset()
    own = sections.own_links_from(parsed, resolved)
    return every, frozenset(sections.counted_targets(path, own, notes))


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
    """A Vault plus the maps the daemon keeps current; every access holds `lock`."""

    def __init__(
        self, root: Path, config: Config, selection: Selection, use_cache: bool = True
    ) -> None:
        self.root = root
        self.config = config
        self.selection = selection  # what the API reports: the config's select/ignore
        self.lock = threading.RLock()
        self.vault = engine.load(root, config, use_cache=use_cache)
        self.tracker = VariantTracker(self.vault.notes, config.links.canonical)
        self._variants = self.tracker.variants()
        self.generation = 0
        self._diagnostics: dict[str, list[Diagnostic]] = {}
        self._outgoing: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._incoming: dict[str, set[str]] = defaultdict(set)
        self._backlinks: dict[str, frozenset[str]] = {}
        self._holders: set[str] = set()
        self._held: set[str] = set()  # notes holding a backlinks section (§6)
        self._backlinks_excluded = sections.excluded_by(config.backlinks.exclude)
        self._locations: dict[str, str] = {}
        self._files: dict[str, VaultFile] = {}
        self._map_links()

    # --- derived maps -------------------------------------------------------------------

    def _map_links(self) -> None:
        self._files = {f.path: f for f in self.vault.files}
        self._locations = {f.path: f.location for f in self.vault.files if f.disk_path}
        # Fresh maps rather than cleared ones: a caller may still hold the previous ones.
        self._outgoing = {}
        self._incoming = defaultdict(set)
        self._backlinks = {}
        self._holders = set()
        self._held = set()
        for entry in self.vault.notes.values():
            self._map_note(entry)
        self._seed_cache()

    def _map_note(self, entry: NoteEntry) -> None:
        path = entry.path
        counted = not self._backlinks_excluded(path)
        every, backlinks = _targets(self.vault.index, entry, self.vault.notes, counted)
        self._outgoing[path] = (every, every if backlinks == every else backlinks)
        for target in every:
            self._incoming[target].add(path)
        for target in backlinks:
            self._backlinks[target] = self._backlinks.get(target, frozenset()) | {path}
        if sections.holds_blocks(entry.parsed):
            self._holders.add(path)
        if sections.counts_as_holder(path, entry, templates.of_vault(self.vault)):
            self._held.add(path)

    def _unmap_note(self, path: str) -> frozenset[str]:
        """Forget a note's links; the files it linked to."""
        every, backlinks = self._outgoing.pop(path, (frozenset(), frozenset()))
        for target in every:
            sources = self._incoming.get(target)
            if sources is not None:
                sources.discard(path)
                if not sources:
                    del self._incoming[target]
        for target in backlinks:
            remaining = self._backlinks.get(target, frozenset()) - {path}
            if remaining:
                self._backlinks[target] = remaining
            else:
                self._backlinks.pop(target, None)
        self._holders.discard(path)
        self._held.discard(path)
        return every

    def _seed_cache(self) -> None:
        # The sections module computes the backlink map once per Vault from every link in
        # the vault; the daemon keeps the same map current and hands it over instead.
        # The map is shared, not copied: it is only read there, and replaced per target here.
        sections.seed_backlink_map(self.vault, self._backlinks)
        sections.seed_backlinks_held(self.vault, len(self._held))

    def _backlinks_on(self) -> bool:
        """sections.backlinks_enabled, from the daemon's own count."""
        setting = self.config.backlinks.enabled
        return bool(self._held) if setting is None else setting

    def incoming_map(self) -> dict[str, set[str]]:
        """The current map of incoming links (replaced, not cleared, on a rebuild)."""
        return self._incoming

    def incoming(self, path: str) -> list[str]:
        """Notes with a link resolving to `path`, sorted."""
        with self.lock:
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
            self._map_links()
            self._diagnostics.clear()
            update.affected = {p for p, e in notes.items() if not e.excluded}
            return update
        # Sections depend on who links where (links inside sections do not count), on
        # names and on the file set; a content change alters only the first.
        affected = set(update.changed) | self._holders
        stale = set(update.changed)
        was_on = self._backlinks_on()
        for path in update.changed:
            linkers = self._incoming.get(path, set())
            before = self._outgoing.get(path, (frozenset(), frozenset()))[1]
            self._unmap_note(path)
            self._map_note(notes[path])
            affected |= before ^ self._outgoing[path][1]  # notes that gained or lost it
            stale |= linkers  # their links into this note (headings, blocks) may break
        self._seed_cache()
        affected |= self._holders
        if self._backlinks_on() != was_on:
            # The vault's first backlinks section appeared, or its last went: whether
            # any note should have one changed with it (§6).
            self._diagnostics.clear()
            affected = set(notes)
        stale |= affected
        for path in stale:
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
