"""What the notes' links mean to the rest of the vault, kept current across edits of
notes' contents, and the one rule of which notes such an edit makes stale.

Three paths check again only what an edit touched: a check after a few edits (starting
from the snapshot a whole check left, lint/delta.py), the fix loop's passes after the
first (fixing/fix.py), and the daemon after a save (daemon/live.py). They keep the same
maps (`LinkMaps`) and ask the same question (`LinkMaps.edit`): with the file set, the
names, the aliases and the canonical spellings unchanged, a note's new contents change

- its own diagnostics;
- the backlinks sections of the notes it started or stopped linking to (§6);
- the diagnostics of the notes whose links point into its headings or blocks;
- every index block (a block may list any note by its tags or properties).

Anything else (a file added, removed or renamed, an alias or a canonical spelling
changed) can change any note's diagnostics: callers check the vault whole then.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter
from typing import Any

from vaultsync.vault import loaded, sections, templates
from vaultsync.vault.index import NoteEntry
from vaultsync.vault.loaded import Vault
from vaultsync.vault.spellings import VariantTracker

_SUBPATH = attrgetter("subpath")
_LINKPATH = attrgetter("linkpath")


@dataclass(slots=True)
class Reach:
    """Where one note's own links (outside generated sections) lead."""

    counted: frozenset[str]  # the notes it counts as a backlink for (`counted_targets`)
    into: frozenset[str]  # other notes it links into by heading or block


_NOWHERE = Reach(frozenset(), frozenset())


def reach(vault: Vault, entry: NoteEntry) -> Reach:
    """Where `entry`'s links lead in `vault` (whose index resolves them: resolution reads
    only names, so an entry of a note as it was before an edit is judged the same way)."""
    parsed = entry.parsed
    if parsed is None or not parsed.links:
        return _NOWHERE
    path = entry.path
    links = sections.outside_sections(parsed)
    own = sections.OwnLinks(links, vault.index.resolve_all(map(_LINKPATH, links), path))
    counted: frozenset[str] = frozenset()
    if not sections.backlinks_excluded(vault)(path):
        counted = frozenset(sections.counted_targets(path, own, vault.notes))
    if entry.excluded:  # never checked: nothing of its own goes stale
        return Reach(counted, frozenset())
    return Reach(counted, frozenset(_into(path, own)))


def _into(path: str, own: sections.OwnLinks) -> Iterator[str]:
    """The other notes `path`'s own links point into by heading or block."""
    # Only links with a subpath depend on the target's contents; `compress` skips the
    # others at C speed.
    for resolution in compress(own.resolved, map(_SUBPATH, own.links)):
        if resolution.path is not None and resolution.path != path:
            yield resolution.path


def linkers_of(vault: Vault, paths: Iterable[str]) -> dict[str, set[str]]:
    """Note path -> the notes among `paths` whose links point into its headings or
    blocks (`LinkMaps.linkers`, for part of a vault: one half of a check in halves)."""
    own = sections.own_links(vault)
    linkers: dict[str, set[str]] = {}
    for path in paths:
        entry = vault.notes[path]
        if entry.excluded or entry.parsed is None:
            continue  # never checked: nothing of theirs goes stale
        for target in _into(path, own[path]):
            linkers.setdefault(target, set()).add(path)
    return linkers


@dataclass(slots=True)
class LinkMaps:
    """The vault-wide maps an edit is judged by."""

    backlinks: dict[str, frozenset[str]]  # note -> the notes counted as its backlinks
    linkers: dict[str, frozenset[str]]  # note -> notes linking into its headings or blocks
    holders: frozenset[str]  # notes holding index blocks
    held: int  # notes holding a backlinks section (`sections.counts_as_holder`)

    @classmethod
    def of_vault(cls, vault: Vault, linkers: Mapping[str, Iterable[str]] | None = None) -> LinkMaps:
        """The maps of a loaded vault. `linkers`: worked out already (a vault checked in
        halves, where each half did its own notes' and no note holds index blocks)."""
        notes = vault.notes
        holders: frozenset[str] = frozenset()
        if linkers is None:
            linkers = linkers_of(vault, notes)
            holders = frozenset(p for p, e in notes.items() if sections.holds_blocks(e.parsed))
        return cls(
            dict(sections.backlink_map(vault)),
            {target: frozenset(sources) for target, sources in linkers.items()},
            holders,
            sections.backlinks_held(vault),
        )

    def state(self) -> dict[str, Any]:
        """The maps as plain data, for a snapshot (`restore` reads it back)."""
        return {
            "backlinks": {target: tuple(sources) for target, sources in self.backlinks.items()},
            "linkers": {target: tuple(sources) for target, sources in self.linkers.items()},
            "holders": sorted(self.holders),
            "held": self.held,
        }

    @classmethod
    def restore(cls, state: Mapping[str, Any]) -> LinkMaps:
        return cls(
            {target: frozenset(sources) for target, sources in state["backlinks"].items()},
            {target: frozenset(sources) for target, sources in state["linkers"].items()},
            frozenset(state["holders"]),
            int(state["held"]),
        )

    def copy(self) -> LinkMaps:
        # The maps' values are frozensets, replaced and never changed: a shallow copy of
        # each dict is a copy.
        return LinkMaps(dict(self.backlinks), dict(self.linkers), self.holders, self.held)

    def seed(self, vault: Vault) -> None:
        """Give `vault` the backlink map and count these maps hold, so that no rule
        builds them again from every note."""
        sections.seed_backlink_map(vault, self.backlinks)
        sections.seed_backlinks_held(vault, self.held)

    def edit(
        self,
        vault: Vault,
        old: Sequence[NoteEntry],
        new: Sequence[NoteEntry],
        sections_of: set[str] | None = None,
    ) -> set[str] | None:
        """Account for notes whose contents changed (`old[i]` became `new[i]`; same
        files, names, aliases and canonical spellings), and seed `vault`, the vault
        after the edit, with the maps.

        Returns the notes whose diagnostics may have changed, or None when every note's
        may have: the vault's first backlinks section appeared or its last went, while
        whether sections are kept hangs on that (`[backlinks] enabled` unset, §6).
        `sections_of`: given, it gets the notes that gained or lost one of the edited
        notes as a backlink (whose backlinks sections the edit changed).
        """
        stale = {entry.path for entry in new} | set(self.holders)
        held_before = self.held
        skip = templates.of_vault(vault)
        holders = set(self.holders)
        for before, after in zip(old, new, strict=True):
            path = after.path
            was, now = reach(vault, before), reach(vault, after)
            for target in was.counted - now.counted:
                self._remove(self.backlinks, target, path)
            for target in now.counted - was.counted:
                self.backlinks[target] = self.backlinks.get(target, frozenset()) | {path}
            gained_or_lost = was.counted ^ now.counted
            stale |= gained_or_lost  # their backlinks sections
            if sections_of is not None:
                sections_of |= gained_or_lost
            for target in was.into - now.into:
                self._remove(self.linkers, target, path)
            for target in now.into - was.into:
                self.linkers[target] = self.linkers.get(target, frozenset()) | {path}
            stale |= self.linkers.get(path, frozenset())  # their links into its headings
            self.held += sections.counts_as_holder(path, after, skip)
            self.held -= sections.counts_as_holder(path, before, skip)
            holders.discard(path)
            if sections.holds_blocks(after.parsed):
                holders.add(path)
        self.holders = frozenset(holders)
        stale |= holders
        self.seed(vault)
        if vault.config.backlinks.enabled is None and (self.held > 0) != (held_before > 0):
            return None
        return stale

    @staticmethod
    def _remove(mapping: dict[str, frozenset[str]], target: str, path: str) -> None:
        remaining = mapping.get(target, frozenset()) - {path}
        if remaining:
            mapping[target] = remaining
        else:
            mapping.pop(target, None)


@dataclass(slots=True)
class Tracked:
    """A loaded vault with what judging an edit of it takes: its link maps and the counts
    behind its canonical spellings (`edit` uses both up)."""

    vault: Vault
    maps: LinkMaps
    tracker: VariantTracker

    @classmethod
    def of_vault(cls, vault: Vault) -> Tracked:
        config = vault.config
        tracker = VariantTracker.of_vault(vault.notes, vault.variants, config.links.canonical)
        return cls(vault, LinkMaps.of_vault(vault), tracker)


def edit(
    tracked: Tracked, changed: Mapping[str, NoteEntry]
) -> tuple[Tracked, set[str] | None] | None:
    """The vault after the notes in `changed` (path -> new entry, each a note of the
    vault) were edited, with its maps and counts brought up to date (`tracked`'s are used
    up), and the notes whose diagnostics may have changed (None: any note's).

    None when the edit changed what the index is made of (an alias): the caller builds
    the vault afresh."""
    vault = tracked.vault
    old = [vault.notes[path] for path in changed]
    new = list(changed.values())
    if any(before.aliases != after.aliases for before, after in zip(old, new, strict=True)):
        return None
    notes = dict(vault.notes)
    notes.update(changed)
    after = loaded.edited(vault, notes, changed)
    everything = tracked.tracker.replace(old, new)  # a canonical spelling changed
    if everything:
        after = loaded.build(
            after.root,
            after.config,
            after.files,
            notes,
            index=after.index,
            variants=tracked.tracker.variants(),
        )
    stale = tracked.maps.edit(after, old, new)
    return Tracked(after, tracked.maps, tracked.tracker), None if everything else stale
