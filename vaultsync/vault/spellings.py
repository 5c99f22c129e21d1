"""Canonical link spellings kept current by counting (`index.find_variants`, incrementally).

The daemon updates the counts on every save, and a snapshot of them lets a later
`check` account for a few edited notes without reading every link of the vault again.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import chain
from operator import attrgetter
from typing import Any

from vaultsync.core.text import link_key, naming_style
from vaultsync.io import statefile
from vaultsync.vault.index import (
    NoteEntry,
    Variants,
    count_linkpaths,
    majority_of,
    spellings_by_key,
)

_LINKPATH = attrgetter("linkpath")

# Counts by key, stored in buckets: each bucket is the pickled {key: {spelling: count}}
# of the keys hashing to it, so a restored tracker unpickles only the buckets of the
# keys an edit touches (all 25,000 keys of a 10,000-note vault took 20 ms).
_BUCKETS = 256
Buckets = dict[int, bytes]
# (spellings, names, styles, canonical): builtins only, safe to store.
TrackerState = tuple[Buckets, Buckets, dict[str, int], dict[str, str]]


def _bucket(key: str) -> int:
    # crc32, not hash(): str hashes differ from one process to the next.
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % _BUCKETS


def _to_buckets(plain: dict[str, dict[str, int]]) -> Buckets:
    grouped: dict[int, dict[str, dict[str, int]]] = {}
    for key, counts in plain.items():
        grouped.setdefault(_bucket(key), {})[key] = counts
    return {bucket: statefile.dumps(keys) for bucket, keys in grouped.items()}


class _Counts(dict[str, Counter[str]]):
    """Key -> counts of its spellings (or names); a key's Counter is made on first use.

    A restored tracker starts from stored buckets (see `_to_buckets`), a new one from
    plain dicts; either way an edit touches a handful of keys.
    """

    def __init__(
        self, plain: dict[str, dict[str, int]] | None = None, buckets: Buckets | None = None
    ) -> None:
        super().__init__()
        self.plain = plain if plain is not None else {}
        self.buckets = buckets if buckets is not None else {}

    def __missing__(self, key: str) -> Counter[str]:
        if self.buckets:
            self._unpack(self.buckets.pop(_bucket(key), None))
        counts = self[key] = Counter(self.plain.pop(key, {}))
        return counts

    def _unpack(self, blob: bytes | None) -> None:
        if blob is None:
            return
        try:
            keys = statefile.loads(blob, frozenset())
        except Exception as exc:  # a damaged snapshot: the caller checks the vault whole
            raise ValueError("a damaged bucket of counts") from exc
        if not isinstance(keys, dict):
            raise TypeError("not a bucket of counts")
        self.plain.update(keys)

    def _unpack_all(self) -> None:
        buckets, self.buckets = self.buckets, {}
        for blob in buckets.values():
            self._unpack(blob)

    def every_key(self) -> set[str]:
        self._unpack_all()
        return set(self) | set(self.plain)

    def as_plain(self) -> dict[str, dict[str, int]]:
        self._unpack_all()
        counted = {key: dict(+counts) for key, counts in self.items() if +counts}
        return {**self.plain, **counted}


class VariantTracker:
    """`index.find_variants`, maintained by counting instead of recomputing the vault."""

    spellings: _Counts
    names: _Counts
    styles: Counter[str]
    overrides: dict[str, str]
    style: str
    canonical: dict[str, str]

    def __init__(self, notes: Mapping[str, NoteEntry], configured: dict[str, str]) -> None:
        self._empty(configured)
        for entry in notes.values():
            self._count(entry, 1)
        self.style = self._majority()
        for key in self.spellings.every_key() | set(self.overrides):
            self._settle(key)

    def _empty(self, configured: dict[str, str]) -> None:
        self.spellings = _Counts()
        self.names = _Counts()
        self.styles = Counter()
        self.overrides = {link_key(k): v for k, v in configured.items()}
        self.canonical = {}

    @classmethod
    def of_vault(
        cls, notes: Mapping[str, NoteEntry], variants: Variants, configured: dict[str, str]
    ) -> VariantTracker:
        """The tracker `VariantTracker(notes, configured)` would be, for a vault whose
        variants were just found: `find_variants` counted the spellings and keyed each
        distinct one already, so no link is looked at again."""
        tracker = cls.__new__(cls)
        tracker._empty(configured)
        keys = variants.keys
        # find_variants' count, copied at the top level: restoring pops keys from it.
        spellings = dict(variants.spellings)
        if not spellings:  # Variants not made by find_variants: count here
            links = chain.from_iterable(e.parsed.links for e in notes.values() if e.parsed)
            spellings = spellings_by_key(count_linkpaths(links), keys)
        names: dict[str, dict[str, int]] = {}
        for entry in notes.values():
            name = entry.name
            key = keys.get(name) or link_key(name)
            counts = names.setdefault(key, {})
            counts[name] = counts.get(name, 0) + 1
            style = naming_style(name)
            if style is not None:
                tracker.styles[style] += 1
        tracker.spellings = _Counts(spellings)
        tracker.names = _Counts(names)
        tracker.style = tracker._majority()
        tracker.canonical = dict(variants.canonical)
        return tracker

    def state(self) -> TrackerState:
        """The counts and canonical spellings, as plain data."""
        return (
            _to_buckets(self.spellings.as_plain()),
            _to_buckets(self.names.as_plain()),
            dict(+self.styles),
            dict(self.canonical),
        )

    @classmethod
    def restore(cls, state: Any, configured: dict[str, str]) -> VariantTracker:
        """The tracker `state()` was taken of; ValueError/TypeError if it is not one."""
        spellings, names, styles, canonical = state
        tracker = cls.__new__(cls)
        tracker._empty(configured)
        for buckets in (spellings, names):
            if not isinstance(buckets, dict) or not all(
                isinstance(b, int) and isinstance(blob, bytes) for b, blob in buckets.items()
            ):
                raise TypeError("not a tracker's state")
        tracker.spellings = _Counts(buckets=spellings)
        tracker.names = _Counts(buckets=names)
        tracker.styles.update(styles)
        tracker.style = tracker._majority()
        tracker.canonical = {str(k): str(v) for k, v in canonical.items()}
        return tracker

    def _majority(self) -> str:
        return majority_of(self.styles)

    def _count(self, entry: NoteEntry, sign: int) -> set[str]:
        keys = {link_key(entry.name)}
        self.names[link_key(entry.name)][entry.name] += sign
        style = naming_style(entry.name)
        if style is not None:
            self.styles[style] += sign
        for link in entry.parsed.links if entry.parsed else ():
            if link.linkpath:
                key = link_key(link.linkpath)
                self.spellings[key][link.linkpath] += sign
                keys.add(key)
        return keys

    def _settle(self, key: str) -> bool:
        """Recompute one key's canonical spelling; True if it changed."""
        before = self.canonical.pop(key, None)
        after = self._canonical(key)
        if after is not None:
            self.canonical[key] = after
        return after != before

    def _canonical(self, key: str) -> str | None:
        counts = +self.spellings[key]
        if not counts:
            return None  # canonical spellings are only looked up for keys someone links by
        if key in self.overrides:
            return self.overrides[key]
        names = sorted(+self.names[key])
        if len(set(counts) | set(names)) < 2:
            return None
        if names:
            return names[0]
        styled = [s for s in counts if naming_style(s) == self.style] or list(counts)
        return min(styled, key=lambda s: (-counts[s], s))

    def replace(self, old: Iterable[NoteEntry], new: Iterable[NoteEntry]) -> bool:
        """Account for notes that changed; True if any canonical spelling changed."""
        keys: set[str] = set()
        for entry in old:
            keys |= self._count(entry, -1)
        for entry in new:
            keys |= self._count(entry, 1)
        style = self._majority()
        if style != self.style:
            self.style = style
            keys = self.spellings.every_key() | set(self.overrides)
        changed = False
        for key in keys:
            changed |= self._settle(key)
        return changed

    def variants(self) -> Variants:
        return Variants(dict(self.canonical))
