"""The vault index and Obsidian's link resolution (§3, R20-R29)."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from typing import Generic, Protocol, TypeVar, overload

from vaultsync.core.model import Link, ParsedNote
from vaultsync.core.properties import string_list
from vaultsync.core.text import fold, link_key, naming_style, strip_md
from vaultsync.io.files import VaultFile


@dataclass(frozen=True)
class NoteEntry:
    path: str
    parsed: ParsedNote | None  # None when the file could not be read (V001)
    error: str | None = None
    excluded: bool = False
    bom: bool = False
    digest: str = ""

    # Cached: the rules and sections ask for these hundreds of thousands of times.
    @cached_property
    def name(self) -> str:
        return strip_md(self.path.rsplit("/", 1)[-1])

    @cached_property
    def folder(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""

    @cached_property
    def aliases(self) -> list[str]:
        props = self.parsed.properties if self.parsed is not None else None
        return string_list(props.get("aliases")) if props else []


class EntrySource(Protocol):
    """Where a `DeferredEntry` gets the part of its note it was built without."""

    def load(self, path: str) -> NoteEntry:
        """`path`'s entry, parsed note included. May raise instead: the note cannot be
        given here, and the strategy that built the entry checks the vault another way
        (lint.shards.RemoteNote, lint.delta.Unusable)."""
        ...


_T = TypeVar("_T")


class _FromSource(Generic[_T]):
    """A field of a DeferredEntry read from its source on first read, then kept.

    A non-data descriptor: once the value is in the instance's __dict__, attribute
    lookup finds it there first, so later reads cost what a dataclass field costs.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, entry: None, owner: type | None = None) -> _FromSource[_T]: ...
    @overload
    def __get__(self, entry: DeferredEntry, owner: type | None = None) -> _T: ...
    def __get__(
        self, entry: DeferredEntry | None, owner: type | None = None
    ) -> _T | _FromSource[_T]:
        if entry is None:
            return self
        entry._load()
        value: _T = entry.__dict__[self.name]
        return value


class DeferredEntry(NoteEntry):
    """A note whose parsed note is not loaded yet: a row of the parse cache unpacked on
    first read (lint.delta), or a note the other process of a halved check holds, which
    is never here (lint.shards).

    Holds from the start what indexing a vault reads of every note (path, excluded,
    aliases, and the name when known); `parsed` - and `error`, `bom` and `digest` unless
    given as `read` - come from `source.load` the first time one of them is read.
    """

    parsed: _FromSource[ParsedNote | None] = _FromSource()
    error: _FromSource[str | None] = _FromSource()
    bom: _FromSource[bool] = _FromSource()
    digest: _FromSource[str] = _FromSource()

    def __init__(
        self,
        path: str,
        source: EntrySource,
        *,
        excluded: bool,
        aliases: list[str],
        name: str | None = None,
        read: tuple[str | None, bool, str] | None = None,
    ) -> None:
        """`read`: the note's (error, bom, digest), when known without its source."""
        # NoteEntry is frozen: fields go in the way its own __init__ and cached_property
        # put them, straight into the instance's __dict__.
        state = self.__dict__
        state.update(path=path, source=source, excluded=excluded, aliases=aliases)
        if name is not None:
            state["name"] = name
        if read is not None:
            state["error"], state["bom"], state["digest"] = read

    def _load(self) -> None:
        state = self.__dict__
        loaded = state["source"].load(self.path)
        for field_name in _DEFERRED:
            state.setdefault(field_name, getattr(loaded, field_name))

    def __repr__(self) -> str:  # without loading: a remote note has nothing to load
        return f"DeferredEntry(path={self.path!r}, source={self.__dict__['source']!r})"


_DEFERRED = ("parsed", "error", "bom", "digest")


@dataclass(frozen=True, slots=True)
class Resolution:
    path: str | None
    candidates: tuple[str, ...] = ()  # more than one: an ambiguous tie (L005)
    outside: bool = False  # a relative path climbing above the vault root (L008)

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


class _HeadingTable(dict[int, str]):
    """`str.translate` table of R60: punctuation, symbols and separators become spaces.

    Filled one character at a time on first sight (`__missing__`), so translating a
    heading runs at C speed instead of asking `unicodedata` about every character.
    A pure function of the character: sharing it between vaults is safe. Bounded, so
    headings made of every code point cannot make a long-lived process grow.
    """

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = " " if unicodedata.category(ch)[0] in "PSZ" or ch in "\t\r\n" else ch
        if len(self) < _HEADING_TABLE_SIZE:
            self[code] = folded
        return folded


_HEADING_TABLE_SIZE = 1 << 16

# A note's headings as (level, text), and its block ids, in order.
Outline = tuple[Sequence[tuple[int, str]], Sequence[str]]


_HEADING_TABLE = _HeadingTable()
_NOWHERE = Resolution(None)


def heading_key(text: str) -> str:
    """R60: punctuation and symbols fold to spaces, spaces collapse, case folds."""
    # split()/join collapse and trim exactly the whitespace `\s+` and strip() would.
    return " ".join(text.translate(_HEADING_TABLE).split()).casefold()


class VaultIndex:
    """Files, names, aliases, headings and blocks of a vault, and how links resolve."""

    def __init__(self, files: Iterable[VaultFile], notes: dict[str, NoteEntry]) -> None:
        self.files = sorted(files, key=lambda f: f.path)
        self.notes = notes
        self.attachments = [f.path for f in self.files if not f.is_note]
        self._by_path: dict[str, str] = {}
        self._by_basename: dict[str, list[str]] = defaultdict(list)
        self._folded: dict[str, str] = {}
        for f in self.files:
            folded = self._folded[f.path] = fold(f.path)
            base = folded.rsplit("/", 1)[-1]
            self._by_basename[base].append(f.path)
            if f.is_note:
                self._by_path.setdefault(folded[:-3], f.path)
                self._by_basename[base[:-3]].append(f.path)
        for f in self.files:  # a real path beats a note stem spelled the same
            self._by_path[self._folded[f.path]] = f.path
        self._aliases = self._aliases_of(notes)
        # Per note path; `forget` drops a note's when its contents change.
        self._heading_keys: dict[str, list[tuple[int, str]]] = {}
        self._heading_found: dict[str, dict[str, bool]] = {}
        self._global_cache: dict[str, Resolution] = {}
        self._resolve_cache: dict[tuple[str, str], Resolution] = {}
        self._link_text_anywhere: dict[str, str] = {}
        self._link_text_cache: dict[tuple[str, str], str] = {}
        self._named: dict[str, str | None] = {}
        self._plain: dict[str, Resolution] = {}
        # Headings and block ids of notes this process holds no parsed copy of (a note
        # another process parsed, see shards.py), by path.
        self.outlines: dict[str, Outline] = {}

    def give_notes(self, notes: dict[str, NoteEntry]) -> None:
        """Give an index made with no notes (`VaultIndex(files, {})`, which resolves
        links all the same) the vault's notes; what it has resolved so far stays known."""
        self.notes = notes
        self._aliases = self._aliases_of(notes)
        self._named.clear()  # answered from the notes it had

    @staticmethod
    def _aliases_of(notes: dict[str, NoteEntry]) -> dict[str, list[str]]:
        aliases: dict[str, list[str]] = defaultdict(list)
        for path, entry in notes.items():
            for alias in entry.aliases:
                aliases[fold(alias.strip())].append(path)
        return aliases

    # --- resolution ---------------------------------------------------------------------

    def exact(self, path: str) -> str | None:
        return self._by_path.get(fold(path))

    def resolve(self, linkpath: str, source: str) -> Resolution:
        """`getFirstLinkpathDest(linkpath, source)`, with ties made visible."""
        if not linkpath:
            return Resolution(source)  # R21: `[[#Heading]]` is the note itself
        hit = self._global_cache.get(linkpath)
        if hit is not None:
            return hit
        folder = source.rpartition("/")[0]
        cache_key = (linkpath, folder)
        hit = self._resolve_cache.get(cache_key)
        if hit is not None:
            return hit
        result, anywhere = self._resolve(linkpath, source, folder)
        if anywhere:  # most links resolve the same from every folder: cache them once
            self._global_cache[linkpath] = result
        else:
            self._resolve_cache[cache_key] = result
        return result

    def resolve_all(self, linkpaths: Iterable[str], source: str) -> list[Resolution]:
        """`resolve` of each link path from `source`; most are one dict lookup away."""
        known = self._global_cache.get
        resolve = self.resolve
        return [known(linkpath) or resolve(linkpath, source) for linkpath in linkpaths]

    def _resolve(self, linkpath: str, source: str, folder: str) -> tuple[Resolution, bool]:
        """The resolution, and whether it is the same from every folder."""
        if linkpath.startswith(("./", "../")) or linkpath in (".", ".."):
            # R24: relative to the linking note, with no basename fallback.
            parts = folder.split("/") if folder else []
            for segment in linkpath.split("/"):
                if segment == "..":
                    if not parts:
                        return Resolution(None, outside=True), False
                    parts.pop()
                elif segment not in ("", "."):
                    parts.append(segment)
            return Resolution(self.exact("/".join(parts))), False
        if linkpath.startswith("/"):
            return Resolution(self.exact(linkpath.lstrip("/"))), True  # R24: vault root
        folded = fold(linkpath)
        exact = self._by_path.get(folded)
        if exact is not None:
            return self._to(exact), True  # R22
        named = self._by_basename.get(folded.rsplit("/", 1)[-1])
        if not named:
            return _NOWHERE, True  # no file of that name at all: the usual broken link
        suffixes = ("/" + folded, "/" + folded + ".md")
        folded_paths = self._folded
        candidates = [p for p in dict.fromkeys(named) if folded_paths[p].endswith(suffixes)]
        if not candidates:
            return _NOWHERE, True
        if len(candidates) == 1:
            return self._to(candidates[0]), True
        if folder:
            own = (fold(folder) + suffixes[0], fold(folder) + suffixes[1])
            for candidate in candidates:
                if folded_paths[candidate] in own:
                    return Resolution(candidate), False  # R23.1: the note's own folder
        shortest = min(len(c) for c in candidates)
        tied = sorted(c for c in candidates if len(c) == shortest)
        return Resolution(tied[0], tuple(tied) if len(tied) > 1 else ()), False

    def _to(self, path: str) -> Resolution:
        """The plain resolution to `path`, one object per path (many link paths share it)."""
        resolution = self._plain.get(path)
        if resolution is None:
            resolution = self._plain[path] = Resolution(path)
        return resolution

    def link_text(self, path: str, source: str) -> str:
        """The shortest link text that resolves to `path` from `source` (like fileToLinktext).

        Memoised: backlinks and index blocks ask for it about ten times per note. The
        answer depends on `source` only through its folder (as `resolve` does), and not
        at all when every candidate tried resolves the same from everywhere (the usual
        case), so it is kept per path or per (path, folder).
        """
        text = self._link_text_anywhere.get(path)
        if text is not None:
            return text
        folder = source.rpartition("/")[0]
        key = (path, folder)
        text = self._link_text_cache.get(key)
        if text is not None:
            return text
        text, anywhere = self._link_text(path, source)
        if anywhere is None:
            pass  # depends on `source` itself (an empty candidate): not kept
        elif anywhere:
            self._link_text_anywhere[path] = text
        else:
            self._link_text_cache[key] = text
        return text

    def link_text_anywhere(self, path: str) -> str | None:
        """`link_text(path, …)` when it is the same from every note, else None."""
        text = self._link_text_anywhere.get(path)
        if text is None:
            text, anywhere = self._link_text(path, path)
            if not anywhere:
                return None
            self._link_text_anywhere[path] = text
        return text

    def _link_text(self, path: str, source: str) -> tuple[str, bool | None]:
        """The link text, and whether it is the same from every folder (None: it depends
        on the linking note itself, as `resolve` answers an empty link path with it)."""
        target = strip_md(path) if path.lower().endswith(".md") else path
        parts = target.split("/")
        anywhere: bool | None = True
        for i in range(len(parts) - 1, -1, -1):
            candidate = "/".join(parts[i:])
            found = self.resolve(candidate, source)
            if not candidate:
                anywhere = None
            elif anywhere and candidate not in self._global_cache:
                anywhere = False  # `resolve` keeps there exactly the folder-independent ones
            if found.path == path and not found.ambiguous:
                return candidate, anywhere
        return target, anywhere

    def note_named(self, name: str) -> str | None:
        """The first note (by path) whose name is exactly `name`."""
        try:  # memoised: every link spelling a variant asks for its canonical name
            return self._named[name]
        except KeyError:
            paths = sorted(set(self._by_basename.get(fold(name), ())))
            notes = self.notes
            found = next((p for p in paths if p in notes and notes[p].name == name), None)
            self._named[name] = found
            return found

    def alias_owners(self, linkpath: str) -> list[str]:
        return self._aliases.get(fold(linkpath), [])

    # --- subpaths -----------------------------------------------------------------------

    def has_heading(self, path: str, subpath: str) -> bool:
        """R60: `#H1#H2` walks nested headings of the target note."""
        found = self._heading_found.get(path)
        if found is None:
            found = self._heading_found[path] = {}
        known = found.get(subpath)
        if known is None:
            known = found[subpath] = self._has_heading(path, subpath)
        return known

    def edited(self, notes: dict[str, NoteEntry], changed: Iterable[str]) -> VaultIndex:
        """This index for `notes`: the same files, names and aliases, with the notes in
        `changed` edited in their contents only (the fix loop's passes; the vault it
        was made for is left as it is).

        Resolution and link texts read only names and aliases, so what was worked out of
        them is shared; what is remembered of the changed notes' headings is not.
        """
        copy = object.__new__(VaultIndex)
        copy.__dict__.update(self.__dict__)
        copy.notes = notes
        copy._heading_keys = dict(self._heading_keys)
        copy._heading_found = dict(self._heading_found)
        copy.forget(changed)
        return copy

    def forget(self, paths: Iterable[str]) -> None:
        """Drop what is remembered of these notes' headings: their contents changed.

        The daemon keeps one index while notes are saved under it (same files, same
        aliases); without this, a link to a renamed heading would stay judged fine.
        """
        for path in paths:
            self._heading_found.pop(path, None)
            self._heading_keys.pop(path, None)

    def _parsed(self, path: str) -> ParsedNote | None:
        entry = self.notes.get(path)
        return None if entry is None else entry.parsed

    def _headings(self, path: str) -> Sequence[tuple[int, str]] | None:
        """The note's headings as (level, text), from its parsed note or its `outlines`
        entry; None: no such note read."""
        remote = self.outlines.get(path)
        if remote is not None:
            return remote[0]
        parsed = self._parsed(path)
        return None if parsed is None else [(h.level, h.text) for h in parsed.headings]

    def _block_ids(self, path: str) -> Sequence[str] | None:
        """The note's block ids, as `_headings` finds its headings."""
        remote = self.outlines.get(path)
        if remote is not None:
            return remote[1]
        parsed = self._parsed(path)
        return None if parsed is None else [b.id for b in parsed.blocks]

    def _has_heading(self, path: str, subpath: str) -> bool:
        outline = self._headings(path)
        if outline is None:
            return False
        parts = _subpath_parts(subpath)
        if not parts:
            return True
        if len(parts) == 1 and any(text == parts[0] for _, text in outline):
            return True  # spelled exactly like a heading (the usual case): its key matches
        headings = self._heading_keys.get(path)
        if headings is None:
            headings = self._heading_keys[path] = [
                (level, heading_key(text)) for level, text in outline
            ]
        return _walk_headings(headings, [heading_key(part) for part in parts]) is not None

    def has_block(self, path: str, block_id: str) -> bool:
        ids = self._block_ids(path)
        return ids is not None and block_index(ids, block_id) is not None


def _subpath_parts(subpath: str) -> list[str]:
    return [part for part in subpath.split("#") if part.strip()]


def _walk_headings(headings: Sequence[tuple[int, str]], wanted: Sequence[str]) -> int | None:
    """R60: the index of the heading `#H1#H2` lands on, walking nested sections; None:
    no such heading. `headings` and `wanted` are heading keys."""
    start, parent_level, found = 0, 0, None
    for want in wanted:
        for i in range(start, len(headings)):
            level, key = headings[i]
            if parent_level and level <= parent_level:
                return None  # left the parent section
            if key == want:
                start, parent_level, found = i + 1, level, i
                break
        else:
            return None
    return found


def heading_index(outline: Sequence[tuple[int, str]], subpath: str) -> int | None:
    """Which of a note's headings, as (level, text), the subpath `#H1#H2` names (R60);
    None when none does, or when the subpath names no heading at all (`#`)."""
    parts = _subpath_parts(subpath)
    if not parts:
        return None
    keys = [(level, heading_key(text)) for level, text in outline]
    return _walk_headings(keys, [heading_key(part) for part in parts])


def block_index(ids: Sequence[str], block_id: str) -> int | None:
    """Which of a note's block ids `block_id` names (R61: [inferred] case-insensitive)."""
    wanted = block_id.casefold()
    return next((i for i, found in enumerate(ids) if found.casefold() == wanted), None)


@dataclass(frozen=True, slots=True)
class Variants:
    """Canonical spellings per link key, for keys written in more than one way (§3)."""

    canonical: dict[str, str]
    # Memo of link_key per link path (find_variants fills in every one of the vault).
    keys: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # Link key -> how often each of its spellings is written (find_variants' count, kept
    # for spellings.VariantTracker.of_vault; empty when the variants were made otherwise).
    spellings: dict[str, dict[str, int]] = field(default_factory=dict, compare=False, repr=False)

    def canonical_for(self, linkpath: str) -> str | None:
        key = self.keys.get(linkpath)
        if key is None:
            key = self.keys[linkpath] = link_key(linkpath)
        return self.canonical.get(key)


_STYLE_ORDER = {"spaced": 0, "snake": 1, "kebab": 2}


def majority_of(styles: Mapping[str, int]) -> str:
    """The naming style most note names use (ties: spaced, snake, kebab); spaced if none.
    The one rule for it: variants here, kept current in spellings.py, new names in fix."""
    counted = {style: n for style, n in styles.items() if n > 0}
    if not counted:
        return "spaced"
    return min(counted, key=lambda s: (-counted[s], _STYLE_ORDER[s]))


def majority_style(names: Iterable[str]) -> str:
    return majority_of(Counter(s for s in map(naming_style, names) if s is not None))


def spellings_by_key(counted: Mapping[str, int], keys: dict[str, str]) -> dict[str, dict[str, int]]:
    """Link key -> {spelling: times written}, from how often each link path is written
    (`count_linkpaths`), for every link path but the empty one.

    `keys` memoises link_key per link path (filled in here).
    """
    # Each distinct spelling is keyed once: link paths repeat a lot. Keys and spellings
    # keep their order of first appearance.
    spellings: dict[str, dict[str, int]] = {}
    for linkpath, count in counted.items():
        if not linkpath:
            continue
        key = keys.get(linkpath)
        if key is None:
            key = keys[linkpath] = link_key(linkpath)
        counts = spellings.get(key)
        if counts is None:
            spellings[key] = {linkpath: count}
        else:
            counts[linkpath] = count
    return spellings


def count_linkpaths(links: Iterable[Link]) -> Counter[str]:
    """How often each link path is written, in order of first appearance (C speed)."""
    return Counter(map(_LINKPATH, links))


_LINKPATH = attrgetter("linkpath")


def key_all(texts: Iterable[str]) -> dict[str, str]:
    """link_key of each link path or note name, for `find_variants(keys=...)`."""
    return {text: link_key(text) for text in texts if text}


def find_variants(
    notes: dict[str, NoteEntry],
    counted: Mapping[str, int],
    configured: dict[str, str],
    keys: dict[str, str] | None = None,
) -> Variants:
    """The canonical spellings, from the note names and how often each link path is
    written (`count_linkpaths` of every link of the vault).

    `keys`: link_key of link paths and names already known (`key_all`), taken over and
    filled in.
    """
    # Most note names are also link paths: keyed once, for both.
    keys = {} if keys is None else keys
    spellings = spellings_by_key(counted, keys)
    names: dict[str, list[str]] = defaultdict(list)
    for entry in notes.values():
        name = entry.name
        name_key = keys.get(name)
        if name_key is None:
            name_key = keys[name] = link_key(name)
        names[name_key].append(name)
    style = majority_style(e.name for e in notes.values())
    overrides = {link_key(k): v for k, v in configured.items()}
    canonical: dict[str, str] = {}
    for key, counts in spellings.items():
        written = set(counts) | set(names.get(key, ()))
        if len(written) < 2 and key not in overrides:
            continue
        if key in overrides:
            canonical[key] = overrides[key]
        elif key in names:
            canonical[key] = sorted(names[key])[0]
        else:
            styled = [s for s in counts if naming_style(s) == style] or list(counts)
            canonical[key] = min(styled, key=lambda s: (-counts[s], s))
    return Variants(canonical, keys, spellings)
