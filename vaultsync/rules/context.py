"""What a checker is given: the loaded vault and the rule selection; `emit` makes a diagnostic."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from vaultsync.core.model import Diagnostic, Fix, Span
from vaultsync.rules import Rule, Selection
from vaultsync.vault.index import NoteEntry
from vaultsync.vault.loaded import Vault


@dataclass(slots=True)
class Context:
    vault: Vault
    selection: Selection
    # Fixes may leave their edits to be worked out when read (model.LazyFix): only for
    # a check whose report shows no edits, of a vault that does not change meanwhile.
    lazy_fixes: bool = False

    def emit(
        self,
        rule: Rule,
        note: NoteEntry,
        span: Span,
        message: str,
        data: dict[str, Any] | None = None,
        fix: Fix | None = None,
    ) -> Iterator[Diagnostic]:
        """A diagnostic for `rule` if it is selected, at its configured severity."""
        if rule.code in self.selection.enabled:
            yield Diagnostic(
                note.path,
                span,
                rule.code,
                message,
                self.selection.severities[rule.code],
                data or {},
                fix,
            )
