"""Follow a vault's changes: watchdog handler -> queue -> per-file debouncer -> one worker.

The handler only enqueues. The worker waits until a file has been quiet for
`watch.debounce-ms`, re-reads it, updates the live vault and rewrites the generated
sections (the `watch.fix` rules) that changed, through the compare-and-swap writer. Files
that appear or disappear wait until the whole vault is quiet, so that a delete followed by a
create of the same content is seen as the rename it is (§9).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler

from vaultsync.core.model import Diagnostic, Link, apply_edits
from vaultsync.core.text import nfc
from vaultsync.daemon.live import LiveVault, Update
from vaultsync.fixing import mv
from vaultsync.fixing.fix import FixOptions, select_fixes, wanted
from vaultsync.io import writer
from vaultsync.output.report import shown_paths
from vaultsync.parse import linktext
from vaultsync.parse.markers import generated_ranges, in_ranges
from vaultsync.parse.scanner import parse
from vaultsync.rules import Selection
from vaultsync.vault import sections
from vaultsync.vault.index import VaultIndex

log = logging.getLogger("vaultsync.watch")

MAX_PASSES = 10  # like `fix`: a section that keeps changing is a bug, not a reason to spin
# Renames are remembered this long (and at most this many batches of them): a note that
# was being saved while its links were rewritten is fixed when its own save comes in.
RENAME_MEMORY_SECONDS = 120.0
RENAME_MEMORY_BATCHES = 32
Publish = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class FsEvent:
    """One file-system event, with vault-relative paths as named on disk."""

    path: str
    dest: str | None = None  # for a move: where it went
    folder: bool = False  # a folder appeared, vanished or moved: rescan the file set


def _hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def relative(root: str, absolute: str) -> str | None:
    """The vault-relative path of an event, or None when it is outside or the root itself."""
    if not absolute.startswith(root + os.sep):
        return None
    return absolute[len(root) + 1 :].replace(os.sep, "/")


def to_events(root: str, kind: str, src: str, dest: str, is_dir: bool) -> list[FsEvent]:
    """What a watchdog event means for the vault; dot-files (our temp files) never count."""
    if kind in ("opened", "closed_no_write"):
        return []
    rel = relative(root, src)
    rel_dest = relative(root, dest) if dest else None
    visible = rel is not None and not _hidden(rel)
    visible_dest = rel_dest is not None and not _hidden(rel_dest)
    if is_dir:
        if kind == "modified":
            return []  # a folder's listing changed: the events of its files say how
        return [FsEvent(rel or "", folder=True)] if visible or visible_dest else []
    if kind == "moved":
        if visible and visible_dest:
            assert rel is not None
            return [FsEvent(rel, rel_dest)]
        if visible_dest:  # an atomic save: a temp file renamed over the note
            assert rel_dest is not None
            return [FsEvent(rel_dest)]
        return [FsEvent(rel)] if visible and rel is not None else []
    return [FsEvent(rel)] if visible and rel is not None else []


class Handler(FileSystemEventHandler):
    """A watchdog event handler that only enqueues (never blocks the observer thread)."""

    def __init__(self, root: Path, sink: queue.Queue[FsEvent | None]) -> None:
        super().__init__()
        self.root = os.path.realpath(root)
        self.sink = sink

    def dispatch(self, event: FileSystemEvent) -> None:
        src = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if getattr(event, "dest_path", "") else ""
        for item in to_events(self.root, event.event_type, src, dest, event.is_directory):
            self.sink.put(item)


@dataclass(slots=True)
class Debouncer:
    """Pending paths and when each becomes quiet; pure bookkeeping, driven by the worker."""

    delay: float
    due: dict[str, float] = field(default_factory=dict)
    # Quiet, but a file that appeared, vanished or moved: it waits for the whole vault.
    held: set[str] = field(default_factory=set)
    moves: list[tuple[str, str]] = field(default_factory=list)
    rescan: bool = False
    last_event: float = 0.0

    def add(self, event: FsEvent, now: float) -> None:
        self.last_event = now
        if event.folder:
            self.rescan = True
            return
        for path in (event.path, event.dest):
            if path is not None:
                self.held.discard(path)
                self.due[path] = now + self.delay
        if event.dest is not None:
            self.moves.append((event.path, event.dest))

    def quiet(self, now: float) -> bool:
        """No event at all for a whole quiet period."""
        return now >= self.last_event + self.delay

    def next_deadline(self) -> float | None:
        deadlines = list(self.due.values())
        if self.held or self.moves or self.rescan:
            deadlines.append(self.last_event + self.delay)
        return min(deadlines, default=None)

    def take(self, now: float, settled: Callable[[str], bool]) -> list[str]:
        """Paths quiet for a period whose change is a plain edit (`settled`); the others
        are held for the whole vault's quiet period."""
        ready = []
        for path, deadline in list(self.due.items()):
            if deadline <= now:
                del self.due[path]
                if settled(path):
                    ready.append(path)
                else:
                    self.held.add(path)
        return ready

    def take_all(self) -> tuple[list[str], list[tuple[str, str]], bool]:
        paths = [*self.due, *sorted(self.held)]
        moves, rescan = self.moves, self.rescan
        self.due, self.held, self.moves, self.rescan = {}, set(), [], False
        return paths, moves, rescan

    @property
    def busy(self) -> bool:
        return bool(self.due or self.held or self.moves or self.rescan)

    @property
    def pending(self) -> int:
        return len(self.due) + len(self.held) + len(self.moves) + self.rescan


class Worker:
    """The one thread that reads changes, updates the live vault and writes sections."""

    def __init__(
        self,
        live: LiveVault,
        fix_selection: Selection,
        debounce_ms: int,
        follow_renames: bool,
        publish: Publish,
        events: queue.Queue[FsEvent | None] | None = None,
    ) -> None:
        self.live = live
        self.fix_selection = fix_selection
        self.follow_renames = follow_renames
        # (when, index the old names resolved in, old path -> new path), newest last.
        self.recent_renames: list[tuple[float, VaultIndex, dict[str, str]]] = []
        # Notes a batch removed without knowing where they went: (when, the index before
        # it, each such note -> the notes that linked to it). A batch of plain edits can
        # find a note gone (renamed after its edit was queued); the rename's own event,
        # which names both paths, comes in a later batch and is matched here. Kept as
        # long and as many as renames are.
        self.recent_removals: list[tuple[float, VaultIndex, dict[str, set[str]]]] = []
        self.publish = publish
        self.events: queue.Queue[FsEvent | None] = events if events is not None else queue.Queue()
        self.debouncer = Debouncer(debounce_ms / 1000)
        # Held for each batch and by API writes: one writer at a time, never a half batch.
        self.write_lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vaultsync-worker", daemon=True)

    # --- thread lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the batch in flight (its writes finish; nothing is left half-written)."""
        self._stopping.set()
        self.events.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            deadline = self.debouncer.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                event = self.events.get(timeout=timeout)
            except queue.Empty:
                event = None
            else:
                if event is None:
                    continue
                self.debouncer.add(event, time.monotonic())
                while True:  # take everything already queued before deciding
                    try:
                        more = self.events.get_nowait()
                    except queue.Empty:
                        break
                    if more is not None:
                        self.debouncer.add(more, time.monotonic())
            try:
                self._step(time.monotonic())
            except Exception:  # a bad batch must not end the daemon; log and go on
                log.exception("error while processing changes")

    def _step(self, now: float) -> None:
        deb = self.debouncer
        if deb.quiet(now) and deb.busy:
            paths, moves, rescan = deb.take_all()
            self.process(paths, moves, rescan)
            return
        ready = deb.take(now, self._is_edit)
        if ready:
            self.process(ready, [], False)

    def _is_edit(self, path: str) -> bool:
        """A file the vault already has, still there: safe to handle on its own."""
        if nfc(path) in self.live.vault.notes:
            return os.path.isfile(self.live.root / path)
        return False

    # --- one batch ------------------------------------------------------------------------

    def process(self, paths: Iterable[str], moves: list[tuple[str, str]], rescan: bool) -> None:
        started = time.perf_counter()
        with self.write_lock:
            update, written = self._take_in(paths, moves, rescan)
        if update.empty and not written:
            return
        log.info(
            "%d changed, %d added, %d removed; wrote %d in %.1f ms",
            len(update.changed),
            len(update.added),
            len(update.removed),
            len(written),
            (time.perf_counter() - started) * 1000,
        )
        self._announce(update, written)

    def take_in(self, paths: Iterable[str], reread: bool = False) -> Update:
        """Process changes made by an API call (`reread`: every file); holds `write_lock`."""
        update, written = self._take_in(paths, [], reread, reread)
        self._announce(update, written)
        return update

    def _take_in(
        self,
        paths: Iterable[str],
        moves: list[tuple[str, str]],
        rescan: bool,
        reread: bool = False,
    ) -> tuple[Update, list[str]]:
        old_index = self.live.vault.index
        old_notes = self.live.vault.notes
        old_incoming = self.live.incoming_map()  # replaced, not mutated, by a rebuild
        update = self.live.apply(paths, rescan=rescan or bool(moves), reread=reread)
        # A rename an earlier batch took for a removal: its links are mended now, even
        # when nothing else changed since.
        late = self._late_renames(moves, update) if self.follow_renames and moves else []
        if update.empty and not late:
            return update, []
        renames: list[tuple[str, str]] = []
        late_sources: set[str] = set()
        if self.follow_renames:
            now = time.monotonic()
            renames = self._renames(update, moves, old_notes)
            for index, moved, linkers in late:
                self.recent_renames.append((now, index, moved))
                late_sources |= linkers
            if renames:
                self.recent_renames.append((now, old_index, dict(renames)))
            renamed = {old for old, _ in renames}
            unpaired = {
                p: set(old_incoming.get(p, ())) for p in update.removed - renamed if p in old_notes
            }
            if unpaired:
                self.recent_removals.append((now, old_index, unpaired))
                del self.recent_removals[:-RENAME_MEMORY_BATCHES]
            renames += [pair for _, moved, _ in late for pair in moved.items()]
        written = self._rewrite_links(old_incoming, renames, update, late_sources)
        affected = update.affected | set(written)
        if update.variants_changed and "L002" in self.fix_selection.enabled:
            affected = set(self.live.vault.notes)
        written += self.settle(affected)
        return update, written

    def _announce(self, update: Update, written: list[str]) -> None:
        for path in sorted(set(written)):
            self.publish("written", {"path": path})
        paths = sorted(update.changed | update.added | update.removed | set(written))
        for path in paths:
            diagnostics = self.live.diagnostics([path])
            self.publish("diagnostics", {"path": path, "diagnostics": diagnostics})

    def settle(self, affected: set[str]) -> list[str]:
        """Apply the watch.fix rules' safe fixes to `affected` notes until nothing changes."""
        written: list[str] = []
        options = FixOptions()
        for _ in range(MAX_PASSES):
            if not affected:
                break
            diagnostics = self.live.check(self.fix_selection, affected)
            per_file: dict[str, list[Diagnostic]] = {}
            for diag in diagnostics:
                if wanted(diag.fix, diag.code, options):
                    per_file.setdefault(diag.path, []).append(diag)
            affected = set()
            for path, diags in sorted(per_file.items()):
                update = self._write(path, diags)
                if update is not None:
                    written.append(path)
                    affected |= update.affected
        else:
            log.warning(
                "sections still changing after %d passes: %s", MAX_PASSES, shown_paths(affected)
            )
        return written

    def _write(self, path: str, diagnostics: list[Diagnostic]) -> Update | None:
        entry = self.live.vault.notes.get(path)
        if entry is None:
            return None
        edits, _counts, _held = select_fixes(diagnostics)
        note = self.live.current_text(path)
        if note is None or note.digest != entry.digest:
            log.debug("%s changed since it was read; left for its next quiet period", path)
            return None
        new_text = apply_edits(note.text, edits)
        if new_text == note.text:
            return None
        parsed = parse(new_text)
        kinds = sections.added_kinds(edits)
        if kinds and not sections.reads_back(parsed, kinds):
            # Written, the section would be swallowed by the note's own syntax, and the
            # next pass (or run) would add it again, and again: never write it.
            log.warning(
                "%s: not written: a %s section at its end would not be readable there",
                path,
                " and ".join(sorted(kinds)),
            )
            return None
        try:
            digest = writer.write_note(
                self.live.root,
                self.live.location(path),
                new_text,
                bom=note.bom,
                expected_digest=note.digest,
            )
        except writer.WriteSkipped as exc:
            log.info("not written: %s", exc)
            return None
        log.debug("wrote %s", path)
        return self.live.replace_entry(path, new_text, note.bom, digest, parsed)

    # --- renames made outside Obsidian -------------------------------------------------------

    def _renames(
        self, update: Update, moves: list[tuple[str, str]], old_notes: dict[str, Any]
    ) -> list[tuple[str, str]]:
        """Moved notes: watchdog's moves, plus a deleted note whose content reappeared."""
        notes = self.live.vault.notes
        found = [(old, new) for old, new in moves if old in update.removed and new in update.added]
        taken = {old for old, _ in found} | {new for _, new in found}
        by_digest = {
            old_notes[p].digest: p
            for p in sorted(update.removed - taken)
            if p in old_notes and old_notes[p].digest
        }
        for new in sorted(update.added - taken):
            entry = notes.get(new)
            old = by_digest.pop(entry.digest, None) if entry is not None else None
            if old is not None:
                found.append((old, new))
        return found

    def _late_renames(
        self, moves: list[tuple[str, str]], update: Update
    ) -> list[tuple[VaultIndex, dict[str, str], set[str]]]:
        """Moves whose old path an earlier batch already removed (see `recent_removals`):
        (the index before that batch, old -> new, the notes that linked to the old path)."""
        cutoff = time.monotonic() - RENAME_MEMORY_SECONDS
        self.recent_removals = [r for r in self.recent_removals if r[0] >= cutoff][
            -RENAME_MEMORY_BATCHES:
        ]
        notes = self.live.vault.notes
        found = []
        for old, new in moves:
            if (old in update.removed and new in update.added) or new not in notes:
                continue  # this batch's own rename (see _renames), or no note there now
            for _, index, removed in reversed(self.recent_removals):
                linkers = removed.pop(old, None)
                if linkers is not None:
                    found.append((index, {old: new}, linkers))
                    break
        return found

    def _rewrite_links(
        self,
        old_incoming: Mapping[str, set[str]],
        renames: list[tuple[str, str]],
        update: Update,
        more_sources: set[str] | None = None,
    ) -> list[str]:
        """Links that still name a moved note's old path now name the new one (like mv).

        Links to notes moved in this batch are rewritten wherever they are. A note that
        was being saved at that moment was skipped (compare-and-swap); its save comes
        back as a change, and links in changed notes are checked against every rename
        still remembered, so the rewrite is not lost.
        """
        cutoff = time.monotonic() - RENAME_MEMORY_SECONDS
        recent = [r for r in self.recent_renames if r[0] >= cutoff]
        self.recent_renames = recent[-RENAME_MEMORY_BATCHES:]
        if not self.recent_renames:
            return []
        vault = self.live.vault
        index = vault.index
        sources = set(update.changed) | set(update.added) | (more_sources or set())
        for old, new in renames:
            sources |= old_incoming.get(old, set()) | {new}
        written: list[str] = []
        for source in sorted(sources):
            entry = vault.notes.get(source)
            if entry is None or entry.parsed is None or entry.excluded:
                continue
            rewrites: list[tuple[Link, str]] = []
            generated = generated_ranges(entry.parsed)
            for link in entry.parsed.links:
                if generated and in_ranges(link.span.start, generated):
                    continue  # sections are regenerated (editing them would look like a hand edit)
                now, this_batch = self._moved_target(link.linkpath, source, len(renames) > 0)
                found = index.resolve(link.linkpath, source).path
                # A rename of this batch also re-points links another note captured;
                # an older one only mends links that are broken now (the user may have
                # linked the old name to something new on purpose since).
                if now is None or found == now or (found is not None and not this_batch):
                    continue
                rewrites.append((link, mv.link_text(index, link, now, source)))
            if not rewrites:
                continue
            note = self.live.current_text(source)
            if note is None or note.digest != entry.digest:
                continue
            keep = vault.config.links.keep_display
            edits = [  # as `vaultsync mv` writes them
                e for link, text in rewrites for e in linktext.retarget(link, text, keep)
            ]
            new_text = apply_edits(note.text, edits)
            try:
                digest = writer.write_note(
                    vault.root,
                    self.live.location(source),
                    new_text,
                    bom=note.bom,
                    expected_digest=note.digest,
                )
            except writer.WriteSkipped as exc:
                log.info("links not rewritten: %s", exc)
                continue
            self.live.replace_entry(source, new_text, note.bom, digest)
            written.append(source)
        if written:
            log.info("rewrote links to moved notes in %d notes", len(written))
        return written

    def _moved_target(
        self, linkpath: str, source: str, batch_has_renames: bool
    ) -> tuple[str | None, bool]:
        """Where a link naming a since-moved note should point now (renames chained), and
        whether that rename is this batch's own (the newest remembered one)."""
        notes = self.live.vault.notes
        last = len(self.recent_renames) - 1
        for i in range(last, -1, -1):  # the newest rename of a name wins
            _, old_index, moved = self.recent_renames[i]
            was = old_index.resolve(linkpath, source).path
            now = moved.get(was) if was is not None else None
            if now is None:
                continue
            for _, _, later in self.recent_renames[i + 1 :]:
                now = later.get(now, now)  # renamed again since
            return (now if now in notes else None), (batch_has_renames and i == last)
        return None, False
