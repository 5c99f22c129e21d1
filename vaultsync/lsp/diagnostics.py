"""Engine diagnostics as LSP diagnostics."""

from __future__ import annotations

from lsprotocol import types

from vaultsync.core.model import Diagnostic, Severity
from vaultsync.lsp.positions import Text
from vaultsync.rules import RULES

SOURCE = "vaultsync"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def to_lsp(diagnostic: Diagnostic, text: Text) -> types.Diagnostic:
    fix = diagnostic.fix
    return types.Diagnostic(
        range=text.range(diagnostic.span),
        message=diagnostic.message,
        severity=_SEVERITY[diagnostic.severity],
        code=diagnostic.code,
        source=SOURCE,
        # The rule's name, and whether a code action can fix it (`vaultsync rule CODE`
        # explains both).
        data={
            "rule": RULES[diagnostic.code].name,
            "fix": fix.applicability.value if fix is not None else None,
        },
    )


def same(ours: types.Diagnostic, theirs: types.Diagnostic) -> bool:
    """Is the client's diagnostic `theirs` the one published as `ours`?"""
    return (
        theirs.code == ours.code and theirs.range == ours.range and theirs.source in (None, SOURCE)
    )
