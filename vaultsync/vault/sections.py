"""Generated sections (§6): what a note's backlinks and index blocks should hold.

Everything here is a pure function of the vault (plus file mtimes for
`sort="mtime"`, the one documented exception), so the same vault renders the
same bytes on any machine. Vault-wide data (who links to whom, the unresolved
targets) is computed once per loaded vault and kept in `Vault.memos`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from vaultsync.core.model import Edit, Link, ParsedNote, Span
from vaultsync.core.properties import string_list
from vaultsync.core.text import LineIndex, fold, strip_md
from vaultsync.parse.linktext import encode_destination
from vaultsync.parse.markers import (
    MARKER,
    MarkerPair,
    begin_marker,
    body_hash,
    end_marker,
    generated_ranges,
    has_markers,
    in_ranges,
    marker_pairs,
    parse_options,
    recorded_hash,
)
from vaultsync.vault import templates
from vaultsync.vault.index import NoteEntry, Resolution, VaultIndex
from vaultsync.vault.loaded import Vault
from vaultsync.vault.memos import Memo

BACKLINKS = "backlinks"
INDEX = "index"
UNRESOLVED = "unresolved"
KINDS = (BACKLINKS, INDEX, UNRESOLVED)

# Per-vault memos (loaded.Memo); `True`: kept by the daemon across an edit of contents.
_BACKLINKS: Memo[dict[str, frozenset[str]]] = Memo("sections.backlinks", True)  # the daemon
# keeps the map current itself and seeds it again after every change (seed_backlink_map)
_UNRESOLVED: Memo[list[tuple[str, int]]] = Memo("sections.unresolved", False)
_EXCLUDE: Memo[Callable[[str], bool]] = Memo("sections.backlinks-exclude", True)  # settings
_ENTRIES: Memo[_Entries] = Memo("sections.entries", False)
_NAME_ORDER: Memo[_NameOrder] = Memo("sections.name-order", False)
_OWN_LINKS: Memo[_OwnLinks] = Memo("sections.own-links", False)
_SOURCES: Memo[dict[str, frozenset[str]]] = Memo("sections.sources", False)
_HELD: Memo[int] = Memo("sections.backlinks-held", True)  # seeded again by the daemon too
# Set (by `expect_few_targets`) when only a few notes are checked: their backlinks are
# found by scanning for links that can name them, not by resolving every link.
_FEW_TARGETS: Memo[bool] = Memo("sections.few-targets", False)
_NO_SOURCES: frozenset[str] = frozenset()
_INDEX_OPTIONS = frozenset({"folder", "recursive", "tag", "sort", "group", "hash"})
_BEGIN_KIND = re.compile(r"<!--\s*vaultsync:begin\s+([a-z][a-z0-9-]*)")
# A line break (a file name may hold one) would split the link over two lines.
_NOT_IN_WIKILINKS = re.compile(r"[#^|\[\]\r\n]")
_TRUE = {"", "true", "yes", "1"}
_FALSE = {"false", "no", "0"}


# --- sections as found in a note -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Found:
    """One section of a note: its markers, options and current body."""

    pair: MarkerPair
    options: dict[str, str]
    body: str

    @property
    def kind(self) -> str:
        return self.pair.kind

    @property
    def recorded(self) -> str | None:
        return recorded_hash(self.options)

    @property
    def edited(self) -> bool:
        """Has someone changed the body since vaultsync wrote it?

        A block without a hash was opened by the user and never filled: empty, it
        is waiting for vaultsync; with content, that content is the user's.
        """
        recorded = self.recorded
        if recorded is None:
            return bool(self.body.strip())
        return recorded != body_hash(self.body)

    @property
    def span(self) -> Span:
        """From the opening marker through the closing one."""
        b, e = self.pair.begin.span, self.pair.end.span
        return Span(b.start, e.end, b.line, b.column, e.end_line, e.end_column)


@dataclass(frozen=True, slots=True)
class Problem:
    span: Span
    message: str


# The note inspected last, with the result: `engine.check_note` asks `writable` about the
# note whose sections the S rules have just inspected. Keyed by identity (a parsed note
# never changes), so a hit is always right; one entry, so nothing is kept beyond its use.
_last_inspected: tuple[ParsedNote, tuple[list[Found], list[Problem]]] | None = None


def inspect(parsed: ParsedNote) -> tuple[list[Found], list[Problem]]:
    """The note's sections, and what is wrong with its markers (S003).

    The lists may be shared with other callers: read them, do not change them.
    """
    global _last_inspected
    if not has_markers(parsed):
        return [], []
    last = _last_inspected  # read once: another thread may replace it
    if last is not None and last[0] is parsed:
        return last[1]
    result = _inspect(parsed)
    _last_inspected = (parsed, result)
    return result


def _inspect(parsed: ParsedNote) -> tuple[list[Found], list[Problem]]:
    pairs, marker_problems = marker_pairs(parsed)
    problems = [Problem(p.comment.span, p.message) for p in marker_problems]
    text = parsed.marked_text or ""
    found: list[Found] = []
    kinds: Counter[str] = Counter()
    for pair in pairs:
        span = pair.begin.span
        if pair.kind not in KINDS:
            problems.append(Problem(span, f"unknown section kind `{pair.kind}`"))
            continue
        kinds[pair.kind] += 1
        if pair.kind == BACKLINKS and kinds[pair.kind] == 2:
            problems.append(Problem(span, "a second `backlinks` section"))
        options = parse_options(pair.options)
        if options is None:
            problems.append(Problem(span, f"cannot read the options `{pair.options}`"))
            continue
        error = option_error(pair.kind, options)
        if error is not None:
            problems.append(Problem(span, error))
            continue
        found.append(Found(pair, options, text[pair.body_start : pair.body_end]))
    problems.sort(key=lambda p: p.span.start)
    return found, problems


def holds_blocks(parsed: ParsedNote | None) -> bool:
    """Does the note hold index or unresolved blocks (they depend on every other note)?

    Any marker of another kind counts, matched or not: a holder too many only means a
    note checked again for nothing.
    """
    if parsed is None:
        return False
    for comment in parsed.comments:
        if "vaultsync:" in comment.text:
            marker = MARKER.match(comment.text)
            if marker is not None and marker.group("kind") != BACKLINKS:
                return True
    return False


def holds_backlinks(parsed: ParsedNote | None) -> bool:
    """Does the note hold a backlinks section (an opening marker of one, at least)?"""
    if parsed is None or parsed.marked_text is None:
        return False  # the parser keeps the text of every note holding a marker
    for comment in parsed.comments:
        if "vaultsync:" in comment.text:
            marker = MARKER.match(comment.text)
            if marker is not None and marker.group("kind") == BACKLINKS:
                return True
    return False


def counts_as_holder(path: str, entry: NoteEntry, templates: Container[str]) -> bool:
    """Does this note's backlinks section turn backlinks on for the vault (§6)? Not one
    in a note vaultsync never writes (excluded, a template)."""
    return not entry.excluded and path not in templates and holds_backlinks(entry.parsed)


def backlinks_enabled(vault: Vault) -> bool:
    """Are backlinks sections kept (S001)? `[backlinks] enabled` when set; else only while
    the vault already holds one (§6): a first check of someone's vault must not propose to
    rewrite every note."""
    setting = vault.config.backlinks.enabled
    if setting is not None:
        return setting
    return backlinks_held(vault) > 0


def backlinks_held(vault: Vault) -> int:
    """How many notes hold a backlinks section (`counts_as_holder`), once per vault."""
    held = vault.memos.get(_HELD)
    if held is None:
        skip = templates.of_vault(vault)
        held = vault.memos.put(
            _HELD,
            sum(1 for path, entry in vault.notes.items() if counts_as_holder(path, entry, skip)),
        )
    return held


def seed_backlinks_held(vault: Vault, held: int) -> None:
    """Give the vault its `backlinks_held` count, kept elsewhere (the daemon's, a
    snapshot's, the other half's): counting reads every note's parsed text."""
    vault.memos.put(_HELD, held)


def index_enabled(vault: Vault) -> bool:
    """Are index and unresolved blocks filled (S002)? Unless `[index] enabled = false`:
    such a block is there only because someone opened it, which is the opt-in (§6)."""
    return vault.config.index.enabled is not False


def writable(parsed: ParsedNote | None) -> bool:
    """False for a note whose markers are broken (S003): no fix may touch it."""
    if parsed is None:
        return False
    if not has_markers(parsed):
        return True
    return not inspect(parsed)[1]


def option_error(kind: str, options: dict[str, str]) -> str | None:
    if kind != INDEX:
        extra = sorted(set(options) - {"hash"})
        return f"`{kind}` takes no option `{extra[0]}`" if extra else None
    if options.get("recursive", "").lower() not in _TRUE | _FALSE:
        return f"`recursive` must be true or false, not `{options['recursive']}`"
    if options.get("group", "folder") not in ("folder", "tag"):
        return f"`group` must be folder or tag, not `{options['group']}`"
    if "sort" in options and not options["sort"]:
        return "`sort` needs a value: name, title, mtime or a property"
    return None


# --- edits ------------------------------------------------------------------------------


def render(kind: str, options_text: str, body: str) -> str:
    return begin_marker(kind, options_text, body_hash(body)) + body + end_marker(kind)


def replace_edit(found: Found, body: str) -> Edit:
    return Edit(found.span, render(found.kind, found.pair.options, body))


def append_edit(parsed: ParsedNote, section: str) -> Edit:
    """Add a section at the end of the note, after a blank line."""
    nl = parsed.newline
    if parsed.length == 0:
        text = section + nl
    elif parsed.final_newline:
        text = nl + section + nl
    else:
        text = nl + nl + section  # the note had no final newline; it still has none
    return Edit(parsed.end, text)


def added_kinds(edits: Iterable[Edit]) -> set[str]:
    """The kinds of the sections these edits add (an insertion holding a begin marker)."""
    kinds: set[str] = set()
    for edit in edits:
        if edit.span.start == edit.span.end and "vaultsync:begin" in edit.new_text:
            kinds.update(m.group(1) for m in _BEGIN_KIND.finditer(edit.new_text))
    return kinds


def reads_back(parsed: ParsedNote, kinds: Iterable[str]) -> bool:
    """Does a note, as it would be written, hold readable sections of these kinds?

    False when something in the note swallowed a section just added (an open code
    fence, an open comment): writing it would leave text vaultsync cannot find again,
    and the next pass would add the section once more (S005 should have said so).
    """
    if not writable(parsed):
        return False
    found = {f.kind for f in inspect(parsed)[0]}
    return all(kind in found for kind in kinds)


def remove_edit(parsed: ParsedNote, found: Found) -> Edit:
    """Remove a section with its line break and the blank line `append_edit` put before it."""
    text = parsed.marked_text or ""
    nl = parsed.newline
    start, end = found.span.start, found.span.end
    if text.startswith(nl, end):
        end += len(nl)
        if text.endswith(nl + nl, 0, start):
            start -= len(nl)
    else:  # last line of a note without a final newline
        for _ in range(2):
            if text.endswith(nl, 0, start):
                start -= len(nl)
    return Edit(LineIndex(text).span(start, end), "")


# --- backlinks --------------------------------------------------------------------------


def backlinks_excluded(vault: Vault) -> Callable[[str], bool]:
    """Whether a note's links are left out of the vault's backlinks, once per vault."""
    return vault.memos.get_or_make(_EXCLUDE, lambda: excluded_by(vault.config.backlinks.exclude))


def excluded_by(patterns: Sequence[str]) -> Callable[[str], bool]:
    """Whether a note's links are left out of backlinks (`backlinks.exclude`)."""
    if not patterns:
        return _never
    from pathspec import PathSpec

    matcher: Callable[[str], bool] = PathSpec.from_lines("gitignore", patterns).match_file
    return matcher


def _never(path: str) -> bool:
    return False


def outside_sections(parsed: ParsedNote, links: Sequence[Link] | None = None) -> Sequence[Link]:
    """The note's links (or those of `links`, some of them) that are not inside a
    generated section (those are vaultsync's)."""
    if links is None:
        links = parsed.links
    generated = generated_ranges(parsed)
    if not generated:
        return links
    if len(generated) == 1:  # the usual case, its backlinks section: no call per link
        start, end = generated[0]
        return [link for link in links if not start <= link.span.start < end]
    return [link for link in links if not in_ranges(link.span.start, generated)]


_PATH = attrgetter("path")
_LINKPATH = attrgetter("linkpath")


class OwnLinks(NamedTuple):
    """A note's links outside generated sections, and how each resolves from the note."""

    links: Sequence[Link]
    resolved: Sequence[Resolution]


def own_links_from(parsed: ParsedNote, resolved: Sequence[Resolution]) -> OwnLinks:
    """The note's `OwnLinks`, given how every one of its links resolves (in order): for a
    caller that needs all of them resolved as well (the daemon's outgoing links)."""
    links = parsed.links
    generated = generated_ranges(parsed)
    if not generated:
        return OwnLinks(links, resolved)
    kept = [i for i, link in enumerate(links) if not in_ranges(link.span.start, generated)]
    return OwnLinks([links[i] for i in kept], [resolved[i] for i in kept])


class _OwnLinks(dict[str, OwnLinks]):
    """Per vault: note path -> its `OwnLinks`, filled on first use (the backlink map
    and the link rules both go through every note's links)."""

    def __init__(self, vault: Vault) -> None:
        super().__init__()
        self.notes = vault.notes
        self.index = vault.index

    def __missing__(self, path: str) -> OwnLinks:
        parsed = self.notes[path].parsed
        links = outside_sections(parsed) if parsed is not None else ()
        resolved = self.index.resolve_all(map(_LINKPATH, links), path)
        own = self[path] = OwnLinks(links, resolved)
        return own


def own_links(vault: Vault) -> Mapping[str, OwnLinks]:
    """Note path -> its links outside generated sections, resolved, once per vault."""
    links = vault.memos.get_or_make(_OWN_LINKS, lambda: _OwnLinks(vault))
    return links


def _linking_notes(vault: Vault) -> Iterator[tuple[str, ParsedNote]]:
    """The notes whose links count as backlinks: parsed, with links, not excluded."""
    excluded = backlinks_excluded(vault)
    for path, entry in vault.notes.items():
        parsed = entry.parsed
        if parsed is not None and parsed.links and not excluded(path):
            yield path, parsed


def backlink_map(vault: Vault) -> dict[str, frozenset[str]]:
    """Note path -> paths of the notes that link to it (Obsidian's backlinks).

    Every link kind counts (wikilinks, embeds, markdown links, property links), as
    in Obsidian's backlinks pane; self-links, links inside generated sections
    and links from notes matched by `backlinks.exclude` do not.
    """
    cached = vault.memos.get(_BACKLINKS)
    if cached is not None:
        return cached
    notes = vault.notes
    links_of = own_links(vault)
    sources: dict[str, set[str]] = defaultdict(set)
    for path, _parsed in _linking_notes(vault):
        for target in counted_targets(path, links_of[path], notes):
            sources[target].add(path)
    return vault.memos.put(
        _BACKLINKS, {target: frozenset(paths) for target, paths in sources.items()}
    )


def counted_targets(path: str, own: OwnLinks, notes: Container[str]) -> list[str]:
    """What a backlink is, in one place: the notes that `path`'s own links (`own`: its
    links outside generated sections, resolved) count as a backlink for. Each once, in
    link order; no self-links, only notes. Every path that works backlinks out
    (`backlink_map`, `backlinks_of`, the halves, the daemon) goes through it, from a note
    whose links count at all (`_linking_notes`: parsed, with links, not matched by
    `backlinks.exclude`)."""
    # An empty link path (`[[#Heading]]`) resolves to the note itself, so dropping
    # self-links drops those too.
    targets = dict.fromkeys(map(_PATH, own.resolved))
    targets.pop(path, None)
    targets.pop(None, None)
    return [target for target in targets if target in notes]


def backlink_targets(vault: Vault, path: str) -> list[str]:
    """The notes whose backlinks list `path`: `backlink_map` seen from the linking side."""
    entry = vault.notes.get(path)
    parsed = None if entry is None else entry.parsed
    if parsed is None or not parsed.links or backlinks_excluded(vault)(path):
        return []  # as `_linking_notes` leaves it out
    return counted_targets(path, own_links(vault)[path], vault.notes)


def targets_finder(
    exclude: Sequence[str], index: VaultIndex, notes: Container[str]
) -> Callable[[str, ParsedNote | None], list[str]]:
    """`backlink_targets` of a note, for a process that holds only part of a vault:
    `(path, parsed) -> targets`.

    Resolving a link reads nothing but the file list, so an index of the files alone
    (`index`) resolves as the whole vault's does. `exclude`: the `backlinks.exclude`
    patterns; `notes`: the paths of every note of the vault.
    """
    excluded = excluded_by(exclude)

    def targets(path: str, parsed: ParsedNote | None) -> list[str]:
        if parsed is None or not parsed.links or excluded(path):
            return []  # as `_linking_notes` leaves it out
        links = outside_sections(parsed)
        resolved = index.resolve_all(map(_LINKPATH, links), path)
        return counted_targets(path, OwnLinks(links, resolved), notes)

    return targets


def seed_backlink_map(vault: Vault, backlinks: dict[str, frozenset[str]]) -> None:
    """Give the vault a backlink map kept elsewhere (the daemon's, a snapshot's)."""
    vault.memos.put(_BACKLINKS, backlinks)


def expect_few_targets(vault: Vault) -> None:
    """Only a few notes' backlinks will be asked for (a check of a few named notes)."""
    vault.memos.put(_FEW_TARGETS, True)


def backlinks_of(vault: Vault, path: str) -> frozenset[str]:
    """`backlink_map(vault).get(path)`, without building the map for a check of a few
    notes: resolving every link of a 10,000-note vault was a fifth of checking one."""
    full = vault.memos.get(_BACKLINKS)
    if full is None and not vault.memos.get(_FEW_TARGETS):
        full = backlink_map(vault)
    if full is not None:
        return full.get(path, _NO_SOURCES)
    found = vault.memos.get_or_make(_SOURCES, dict)
    sources = found.get(path)
    if sources is None:
        sources = found[path] = _scan_sources(vault, path)
    return sources


def _scan_sources(vault: Vault, target: str) -> frozenset[str]:
    """The notes whose own links resolve to `target`, as `backlink_map` counts them.

    Only a link whose last path segment is the target's file name or stem can resolve to
    it (by exact path, by suffix or by name), and only such links are resolved; a link
    with a `.` or `..` segment is always resolved, since its last segment may not be the
    one it lands on.
    """
    notes = vault.notes
    if target not in notes:
        return _NO_SOURCES
    name = fold(target.rsplit("/", 1)[-1])
    names = {name, name[:-3]} if name.endswith(".md") else {name}
    resolve_all = vault.index.resolve_all
    sources = set()
    for path, parsed in _linking_notes(vault):
        if path == target:
            continue
        candidates = []
        for link in parsed.links:
            linkpath = link.linkpath
            if not linkpath:
                continue  # the note itself
            last = linkpath.rsplit("/", 1)[-1]
            # For ASCII, fold is casefold: the common case skips the NFC call.
            key = last.casefold() if last.isascii() else fold(last)
            if key in names or last in ("", ".", "..") or "./" in linkpath:
                candidates.append(link)
        if not candidates:
            continue
        # Counted as everywhere else, from the links that may name the target alone.
        own = outside_sections(parsed, candidates)
        found = OwnLinks(own, resolve_all(map(_LINKPATH, own), path))
        if target in counted_targets(path, found, notes):
            sources.add(path)
    return frozenset(sources)


class _Entries(dict[str, str]):
    """Per vault: path -> its entry line when that is the same in every note, else "".

    Filled on first use of each path (`__missing__`): a note is listed in the
    backlinks of about ten others, usually by the same link text from everywhere.
    """

    def __init__(self, vault: Vault) -> None:
        super().__init__()
        self.notes = vault.notes
        self.index = vault.index

    def name(self, path: str) -> str:
        entry = self.notes.get(path)
        return entry.name if entry is not None else path.rsplit("/", 1)[-1]

    def __missing__(self, path: str) -> str:
        name = self.name(path)
        if _NOT_IN_WIKILINKS.search(path):
            # `#`, `^`, `|` or brackets in a name cannot be written in a wikilink; a
            # markdown link with the encoded vault path still reaches the note.
            label = name.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
            label = label.replace("\r", " ").replace("\n", " ")
            line = f"- [{label}]({encode_destination(path)})"
        else:
            text = self.index.link_text_anywhere(path)
            line = "" if text is None else _wikilink_line(text, name)
        self[path] = line
        return line

    def line(self, path: str, source: str) -> str:
        return self[path] or self.line_from(path, source)

    def line_from(self, path: str, source: str) -> str:
        """The entry line in the note `source` when it depends on that note's folder."""
        return _wikilink_line(self.index.link_text(path, source), self.name(path))


def fits_wikilink(text: str) -> bool:
    """Can a wikilink name `text` (`#`, `^`, `|`, brackets and line breaks cannot stand in one)?"""
    return _NOT_IN_WIKILINKS.search(text) is None


def _wikilink_line(text: str, name: str) -> str:
    return f"- [[{text}]]" if text == name else f"- [[{text}|{name}]]"


class _NameOrder(dict[str, tuple[str, str]]):
    """Per vault: path -> the key sorting notes by name, filled on first use."""

    def __init__(self, vault: Vault) -> None:
        super().__init__()
        self.notes = vault.notes

    def __missing__(self, path: str) -> tuple[str, str]:
        self[path] = key = (self.notes[path].name.casefold(), path)
        return key


def entry_line(vault: Vault, path: str, source: str) -> str:
    """`- [[Name]]`, or `- [[folder/Name|Name]]` when the name alone would not resolve."""
    entries = vault.memos.get_or_make(_ENTRIES, lambda: _Entries(vault))
    return entries.line(path, source)


def _by_name(vault: Vault, paths: Iterable[str]) -> list[str]:
    order = vault.memos.get_or_make(_NAME_ORDER, lambda: _NameOrder(vault))
    return sorted(paths, key=order.__getitem__)


def backlink_sources(vault: Vault, path: str) -> frozenset[str] | None:
    """The notes the note's backlinks section should list; None: it should have none."""
    if backlinks_excluded(vault)(path):
        return None
    return backlinks_of(vault, path) or None


def sources_body(vault: Vault, path: str, sources: Iterable[str], newline: str) -> str:
    """The body of the note's backlinks section, listing `sources` (`backlink_sources`)."""
    config = vault.config.backlinks
    lines = [config.heading] if config.heading else []
    entries = vault.memos.get_or_make(_ENTRIES, lambda: _Entries(vault))
    # `entries[s]` answers at C speed for the usual entry, the same in every note.
    lines.extend([entries[s] or entries.line_from(s, path) for s in _by_name(vault, sources)])
    return newline + newline.join(lines) + newline


# --- index blocks -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    folder: str | None
    recursive: bool
    tag: str | None
    properties: tuple[tuple[str, str | None], ...]  # value None: the property is set
    sort: str
    group: str | None

    @classmethod
    def from_options(cls, options: dict[str, str]) -> Query:
        folder = options.get("folder")
        tag = options.get("tag")
        return cls(
            folder=None if folder is None else folder.strip("/"),
            recursive=options.get("recursive", "false").lower() in _TRUE,
            tag=None if tag is None else tag.lstrip("#").casefold(),
            properties=tuple(
                (key, value or None)
                for key, value in sorted(options.items())
                if key not in _INDEX_OPTIONS
            ),
            sort=options.get("sort", "name"),
            group=options.get("group"),
        )


def note_tags(entry: NoteEntry) -> list[str]:
    """Frontmatter and inline tags, case-folded, without `#`, first occurrence first."""
    parsed = entry.parsed
    if parsed is None:
        return []
    props = parsed.properties or {}
    tags = [t.lstrip("#") for t in string_list(props.get("tags"))]
    tags.extend(t.name for t in parsed.tags)
    return list(dict.fromkeys(t.casefold() for t in tags if t))


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def _tag_matches(tag: str, wanted: str) -> bool:
    return tag == wanted or tag.startswith(wanted + "/")


def _matches(query: Query, entry: NoteEntry) -> bool:
    if query.folder is not None:
        folder, wanted = fold(entry.folder), fold(query.folder)
        inside = folder == wanted or (
            query.recursive and (not wanted or folder.startswith(wanted + "/"))
        )
        if not inside:
            return False
    if query.tag is not None and not any(_tag_matches(t, query.tag) for t in note_tags(entry)):
        return False
    props = (entry.parsed.properties if entry.parsed else None) or {}
    for key, wanted_value in query.properties:
        value = props.get(key)
        values = value if isinstance(value, list) else [value]
        texts = [_value_text(v) for v in values if v is not None and _value_text(v) != ""]
        if wanted_value is None:
            if not texts:
                return False
        elif wanted_value.casefold() not in (t.casefold() for t in texts):
            return False
    return True


def _title(entry: NoteEntry) -> str:
    parsed = entry.parsed
    title = (parsed.properties or {}).get("title") if parsed else None
    if isinstance(title, str) and title.strip():
        return title.strip()
    first_h1 = next((h.text for h in parsed.headings if h.level == 1), None) if parsed else None
    return first_h1.strip() if first_h1 else entry.name


def _sort_key(vault: Vault, query: Query) -> Callable[[str], tuple[Any, ...]]:
    notes = vault.notes
    if query.sort == "name":
        return lambda p: (notes[p].name.casefold(), p)
    if query.sort == "title":
        return lambda p: (_title(notes[p]).casefold(), p)
    if query.sort == "mtime":
        # Newest first. The one machine-dependent order: a fresh clone has new mtimes.
        def mtime_key(p: str) -> tuple[Any, ...]:
            try:
                mtime = os.stat(vault.root / p).st_mtime_ns
            except OSError:
                mtime = 0
            return (-mtime, p)

        return mtime_key
    key = query.sort

    def property_key(p: str) -> tuple[Any, ...]:
        parsed = notes[p].parsed
        value = (parsed.properties or {}).get(key) if parsed else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return (0, float(value), "", p)
        text = _value_text(value[0] if isinstance(value, list) and value else value)
        return (1, 0.0, text.casefold(), p) if text else (2, 0.0, "", p)

    return property_key


def index_lines(vault: Vault, path: str, query: Query) -> list[str]:
    """The entries of an index block held by the note `path`."""
    matching = [
        p
        for p, entry in vault.notes.items()
        if p != path and entry.parsed is not None and _matches(query, entry)
    ]
    matching.sort(key=_sort_key(vault, query))
    if query.group is None:
        return [entry_line(vault, p, path) for p in matching]
    groups: dict[str, list[str]] = defaultdict(list)
    for p in matching:
        entry = vault.notes[p]
        if query.group == "folder":
            keys = [entry.folder or "/"]
        else:
            tags = note_tags(entry)
            if query.tag is not None:
                tags = [t for t in tags if _tag_matches(t, query.tag)]
            keys = ["#" + t for t in tags] or ["(no tags)"]
        for key in keys:
            groups[key].append(p)
    lines: list[str] = []
    for key in sorted(groups, key=lambda k: (k == "(no tags)", k.casefold(), k)):
        lines.append(f"- {key}")
        lines.extend("  " + entry_line(vault, p, path) for p in groups[key])
    return lines


def unresolved_counts(vault: Vault) -> list[tuple[str, int]]:
    """Unresolved link targets and how often each is linked, most linked first.

    Spellings that differ only in case or in a written `.md` are one target
    (clicking either creates the same note); it is shown as most often written.
    """
    cached = vault.memos.get(_UNRESOLVED)
    if cached is not None:
        return cached
    links_of = own_links(vault)
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    for path, entry in vault.notes.items():
        parsed = entry.parsed
        if parsed is None or not parsed.links:
            continue
        for link, resolution in zip(*links_of[path], strict=True):
            if not link.linkpath:
                continue
            if resolution.path is None and not resolution.outside:
                spellings[fold(strip_md(link.linkpath))][link.linkpath] += 1
    counted = [
        (min(counts, key=lambda s: (-counts[s], s)), sum(counts.values()))
        for counts in spellings.values()
    ]
    result = sorted(counted, key=lambda item: (-item[1], item[0].casefold(), item[0]))
    return vault.memos.put(_UNRESOLVED, result)


def block_body(vault: Vault, path: str, found: Found, newline: str) -> str:
    """The body an index or unresolved block in the note `path` should have."""
    if found.kind == UNRESOLVED:
        lines = [
            # A target a wikilink cannot hold (`a|b` from a markdown link) is shown as code.
            f"- `{target}` ({count})"
            if _NOT_IN_WIKILINKS.search(target)
            else f"- [[{target}]] ({count})"
            for target, count in unresolved_counts(vault)
        ]
        empty = "_No unresolved links._"
    else:
        lines = index_lines(vault, path, Query.from_options(found.options))
        empty = "_No matching notes._"
    return newline + newline.join(lines or [empty]) + newline
