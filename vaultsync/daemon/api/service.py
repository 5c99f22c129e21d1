"""What the API endpoints do, over the live vault; no HTTP here."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable

from vaultsync import __version__
from vaultsync.core.model import Diagnostic, Span
from vaultsync.daemon.api import models as m
from vaultsync.daemon.live import LiveVault
from vaultsync.daemon.watch import Worker
from vaultsync.fixing.fix import FileChange, FixOptions, fix_vault
from vaultsync.output.patch import unified_diff
from vaultsync.parse.markers import generated_ranges, in_ranges
from vaultsync.rules import RULES, Selection, validate_selector


class BadPath(ValueError):
    """A request path that is not a plain path inside the vault (400)."""


class NotFound(LookupError):
    """A request path inside the vault that is not a note of it (404)."""


class Positions:
    """1-based code-point positions of one note -> 0-based UTF-16 ones (what editors count)."""

    def __init__(self, text: str | None) -> None:
        self.lines = None if text is None or text.isascii() else text.split("\n")

    def position(self, line: int, column: int) -> m.Position:
        if self.lines is None or line > len(self.lines):
            return m.Position(line=line - 1, character=column - 1)
        before = self.lines[line - 1][: column - 1]
        units = len(before.encode("utf-16-le")) // 2
        return m.Position(line=line - 1, character=units)

    def range(self, span: Span) -> m.Range:
        return m.Range(
            start=self.position(span.line, span.column),
            end=self.position(span.end_line, span.end_column),
        )


class Service:
    def __init__(self, live: LiveVault, worker: Worker, port: int) -> None:
        self.live = live
        self.worker = worker
        self.port = port
        self.root = live.root
        self._real_root = os.path.realpath(live.root)

    # --- paths ----------------------------------------------------------------------------

    def confine(self, path: str) -> str:
        """The vault path named by a request, or BadPath when it leaves the vault."""
        if not path or "\x00" in path or "\\" in path or path.startswith("/"):
            raise BadPath(f"{path!r} is not a vault-relative path")
        parts = path.split("/")
        if any(p in ("", ".", "..") for p in parts):
            raise BadPath(f"{path!r} is not a plain vault-relative path")
        real = os.path.realpath(os.path.join(self._real_root, *parts))
        if not real.startswith(self._real_root + os.sep):
            raise BadPath(f"{path!r} resolves outside the vault")
        return unicodedata.normalize("NFC", path)

    def note(self, path: str) -> str:
        rel = self.confine(path)
        if rel not in self.live.vault.notes:
            raise NotFound(f"{rel}: no such note in the vault")
        return rel

    def positions(self, path: str) -> Positions:
        note = self.live.current_text(path)
        return Positions(note.text if note is not None else None)

    # --- endpoints --------------------------------------------------------------------------

    def status(self) -> m.Status:
        vault = self.live.vault
        return m.Status(
            vaultsync=__version__,
            vault=str(self.root),
            pid=os.getpid(),
            port=self.port,
            notes=len(vault.notes),
            attachments=len(vault.index.attachments),
            pending=self.worker.debouncer.pending,
            generation=self.live.generation,
        )

    def diagnostics(self, path: str | None) -> m.DiagnosticsOut:
        paths = None if path is None else [self.note(path)]
        return m.DiagnosticsOut(diagnostics=self.convert(self.live.diagnostics(paths)))

    def convert(self, diagnostics: Iterable[Diagnostic]) -> list[m.DiagnosticOut]:
        out: list[m.DiagnosticOut] = []
        positions: dict[str, Positions] = {}
        for d in diagnostics:
            pos = positions.get(d.path)
            if pos is None:
                pos = positions[d.path] = self.positions(d.path)
            fix = None
            if d.fix is not None:
                fix = m.FixInfo(
                    applicability=d.fix.applicability.value,
                    edits=[
                        m.TextEdit(range=pos.range(e.span), new_text=e.new_text)
                        for e in d.fix.edits
                    ],
                )
            out.append(
                m.DiagnosticOut(
                    path=d.path,
                    range=pos.range(d.span),
                    code=d.code,
                    rule=RULES[d.code].name,
                    severity=d.severity.label,  # type: ignore[arg-type]
                    message=d.message,
                    data=d.data,
                    fix=fix,
                )
            )
        return out

    def links(self, path: str) -> m.LinksOut:
        rel = self.note(path)
        entry = self.live.vault.notes[rel]
        generated = generated_ranges(entry.parsed) if entry.parsed is not None else []
        pos = self.positions(rel)
        return m.LinksOut(
            path=rel,
            links=[
                m.LinkOut(
                    range=pos.range(link.span),
                    kind=link.kind.value,
                    target=link.target,
                    subpath=link.subpath,
                    display=link.display,
                    resolved=resolved,
                    generated=in_ranges(link.span.start, generated),
                )
                for link, resolved in self.live.links_of(rel)
            ],
        )

    def backlinks(self, path: str) -> m.BacklinksOut:
        rel = self.note(path)
        found: list[m.Backlink] = []
        for source in self.live.incoming(rel):
            links = [(k, r) for k, r in self.live.links_of(source) if r == rel]
            if not links:
                continue
            entry = self.live.vault.notes[source]
            generated = generated_ranges(entry.parsed) if entry.parsed is not None else []
            pos = self.positions(source)
            found.extend(
                m.Backlink(
                    source=source,
                    range=pos.range(link.span),
                    generated=in_ranges(link.span.start, generated),
                )
                for link, _ in links
            )
        return m.BacklinksOut(path=rel, backlinks=found)

    def fix(self, request: m.FixRequest) -> m.FixOut:
        only = [self.note(p) for p in request.paths] or None
        config = self.live.config
        try:
            for selector in request.select:
                validate_selector(selector)
            if request.select:
                selection = Selection.build(request.select, [], dict(config.severity))
            else:
                selection = Selection.build(config.select, config.ignore, dict(config.severity))
        except ValueError as exc:
            raise BadPath(str(exc)) from None
        with self.worker.write_lock:
            if only:
                # An editor saves, then asks for the fix at once, inside the quiet period:
                # read those notes now, or the fix would be skipped as changed since read.
                self.worker.take_in([self.live.location(p) for p in only])
            result = fix_vault(
                self.live.vault, selection, only, FixOptions(dry_run=request.dry_run)
            )
            if not request.dry_run and (result.changes or result.skipped):
                self.worker.take_in([self.live.location(p) for p in result.changes])
        changed = [
            m.FileFix(path=c.path, fixed=dict(c.fixed), diff=_diff(c))
            for c in result.changes.values()
        ]
        remaining = sum(1 for d in result.diagnostics if d.fix is not None)
        return m.FixOut(
            dry_run=request.dry_run,
            changed=changed,
            skipped=result.skipped,
            remaining=remaining,
        )

    def rescan(self) -> m.RescanOut:
        with self.worker.write_lock:
            update = self.worker.take_in([], reread=True)
        vault = self.live.vault
        return m.RescanOut(
            notes=len(vault.notes),
            attachments=len(vault.index.attachments),
            changed=len(update.changed | update.added | update.removed),
        )


def _diff(change: FileChange) -> str:
    return "".join(unified_diff(change.path, change.path, change.before, change.after, change.bom))
