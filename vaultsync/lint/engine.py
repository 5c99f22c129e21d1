"""Load a vault into an index and run the selected rules over it."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import Any

from vaultsync.config.settings import Config
from vaultsync.core.model import Diagnostic, ParsedNote, Span
from vaultsync.io.files import VaultFile, discover, file_digest
from vaultsync.lint import forks
from vaultsync.parse.scanner import parse
from vaultsync.rules import Selection
from vaultsync.rules.checkers import CHECKERS
from vaultsync.rules.codes import UNREADABLE_FILE
from vaultsync.rules.context import Context
from vaultsync.vault.index import NoteEntry
from vaultsync.vault.loaded import Progress, Vault, build, read_entry
from vaultsync.vault.sections import expect_few_targets, writable

Listing = tuple[list[VaultFile], dict[str, os.stat_result]]


def load(
    root: Path,
    config: Config,
    progress: Progress | None = None,
    use_cache: bool = True,
    listing: Listing | None = None,
) -> Vault:
    """Index a vault: notes unchanged since the cached run are not read again.

    `listing`: the vault's files and their stats, when the caller has just taken them
    (the results cache has); a file missing from the stats could not be stat'ed.
    """
    from vaultsync.lint.cache import NoteCache
    from vaultsync.lint.codec import pack_entry, unpack_entry

    files = discover(root, config) if listing is None else listing[0]
    note_files = [f for f in files if f.is_note]
    cache = NoteCache(root, config, use_cache)
    found: dict[str, NoteEntry] = {}
    stats: dict[str, os.stat_result] = {}
    todo: list[VaultFile] = [] if cache.enabled else note_files
    base = os.path.join(str(root), "")  # plain strings: this loop runs per note
    for file in note_files if cache.enabled else ():
        location = base + file.location
        try:
            stat = listing[1][file.path] if listing is not None else os.stat(location)
        except (OSError, KeyError):
            todo.append(file)  # read_entry reports why (V001)
            continue
        stats[file.path] = stat
        packed = cache.lookup(file.path, location, stat)
        if packed is None:
            todo.append(file)
            continue
        entry = unpack_entry(packed)
        if entry.excluded != file.excluded:  # `exclude` changed; parsing did not
            entry = replace(entry, excluded=file.excluded)
        found[file.path] = entry
    done = len(found)
    by_path = {file.path: file for file in todo}
    for entry in _read_entries(root, todo, config.max_file_size, progress, done, len(note_files)):
        found[entry.path] = entry
        known = stats.get(entry.path)
        if known is not None and cacheable(entry, by_path[entry.path]):
            cache.store(entry.path, known, entry.digest, pack_entry(entry))
    if cache.enabled:
        cache.retain(set(found))
        cache.save()
        cache.close()
    notes = {f.path: found[f.path] for f in note_files}  # path order, as discovered
    return build(root, config, files, notes)


def remember(vault: Vault, stats: dict[str, os.stat_result]) -> bool:
    """Bring the parse cache up to `vault`'s entries (notes just written by a fix, say),
    each under the stat its file has now (`stats`): a note's row is the entry's only if
    the file still has the bytes the entry was parsed from (read and hashed here);
    otherwise the note has no row and is read again when next needed. False: some note
    has none (or the cache cannot be written)."""
    from vaultsync.lint.cache import NoteCache
    from vaultsync.lint.codec import pack_entry

    cache = NoteCache(vault.root, vault.config, True)
    complete = cache.enabled
    files = {f.path: f for f in vault.files}
    try:
        for path, entry in vault.notes.items():
            row = cache.rows.get(path)
            stat = stats.get(path)
            if stat is None:
                complete = False
                continue
            if row is not None and tuple(row[:3]) == (stat.st_size, stat.st_mtime_ns, entry.digest):
                continue  # as cached
            current = file_digest(vault.root / files[path].location)
            if current == entry.digest and cacheable(entry, files[path]):
                cache.store(path, stat, entry.digest, pack_entry(entry))
            else:  # changed since it was parsed: no row rather than a wrong one
                cache.rows.pop(path, None)
                cache.dirty = True
                complete = False
        cache.retain(set(vault.notes))
        cache.save()
    finally:
        cache.close()
    return complete


def cacheable(entry: NoteEntry, file: VaultFile) -> bool:
    """Whether the parse cache may keep the note as read: not one that could not be read,
    nor a symlinked one (excluded though `exclude` does not say so): the cache restores
    `excluded` from the config alone."""
    return entry.error is None and entry.excluded == file.excluded


# Below this many notes to parse, forking costs more than it saves.
_FORK_THRESHOLD = 400


def _read_entries(
    root: Path,
    files: list[VaultFile],
    max_size: int,
    progress: Progress | None,
    done: int,
    total: int,
) -> list[NoteEntry]:
    """Read and parse `files`, on every core when there are enough of them."""

    shown = done  # progress never goes back, even when a child's share is redone here

    def read(part: Sequence[VaultFile]) -> list[NoteEntry]:
        nonlocal shown
        entries = []
        for i, file in enumerate(part, 1):
            entries.append(read_entry(root, file, max_size))
            if progress is not None and i % 256 == 0:
                # This process reads the first share; the others keep pace with it.
                shown = max(shown, done + min(i * processes, len(files)))
                progress(shown, total)
        return entries

    def packed(part: Sequence[VaultFile]) -> list[tuple[Any, ...]]:
        from vaultsync.lint.codec import pack_entry

        return [pack_entry(read_entry(root, file, max_size)) for file in part]

    processes = forks.usable(len(files), _FORK_THRESHOLD)
    if processes < 2:
        return read(files)
    from vaultsync.lint.codec import unpack_entry

    entries = forks.split(files, processes, read, packed, unpack_entry)
    if progress is not None:
        progress(done + len(files), total)
    return entries


def parse_texts(texts: list[str]) -> list[ParsedNote]:
    """`parse` of each text, on every core when there are enough of them (fix's rewrites)."""
    processes = forks.usable(len(texts), _FORK_THRESHOLD)
    if processes < 2:
        return [parse(text) for text in texts]
    from vaultsync.lint.codec import pack_note, unpack_note

    return forks.split(
        texts,
        processes,
        lambda part: [parse(text) for text in part],
        lambda part: [pack_note(parse(text)) for text in part],
        unpack_note,
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
    ctx = Context(vault, selection)
    wanted = None if only is None else set(only)
    entries = [
        entry
        for path, entry in vault.notes.items()
        if not entry.excluded and (wanted is None or path in wanted)
    ]
    if wanted is not None and len(entries) <= _FEW_NOTES:
        expect_few_targets(vault)
    processes = 1
    if _SPLIT_THRESHOLD <= len(entries) <= _SPLIT_MAX:
        processes = forks.usable(len(entries), _SPLIT_THRESHOLD)
    if processes >= 2:
        diagnostics = _check_forked(ctx, entries, processes)
    else:
        diagnostics = _check_entries(ctx, entries)
    diagnostics.sort(key=Diagnostic.sort_key)
    return diagnostics


# A check of at most this many named notes (a pre-commit hook's) finds their backlinks
# by scanning, each scan about a fifth of resolving every link of the vault.
_FEW_NOTES = 3
# Below this many notes, forking a second checker costs more than it saves.
_SPLIT_THRESHOLD = 2000
# Above this many, checking in one process is faster: a forked copy of a large index pays
# a copy-on-write fault for every page either process touches (reference counts are
# writes). Measured on 100,000 notes (2.4 GB): 15.7 s in one process, 20.3 s split.
_SPLIT_MAX = 30_000


def _check_entries(ctx: Context, entries: Iterable[NoteEntry]) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    for entry in entries:
        diagnostics.extend(check_note(ctx, entry))
    return diagnostics


def _check_forked(ctx: Context, entries: list[NoteEntry], processes: int) -> list[Diagnostic]:
    """Check `entries` in this process and forked copies of it (see forks.split).

    Only diagnostics come back from a child, as plain tuples (see results.flatten).
    """
    from vaultsync.lint.results import flatten, rebuild

    # The first note's check builds the vault-wide data its rules share (the backlink
    # map, ...) before the fork, so the processes do not each build it.
    diagnostics = check_note(ctx, entries[0])
    diagnostics.extend(
        forks.split(
            entries[1:],
            processes,
            lambda part: _check_entries(ctx, part),
            lambda part: [flatten(d) for entry in part for d in check_note(ctx, entry)],
            rebuild,
        )
    )
    return diagnostics
