"""GitHub Actions workflow commands: one `::error|warning|notice ...::message` line per problem.

Escaping follows @actions/core (`toolkit/packages/core/src/command.ts`): data escapes
`%`, CR and LF; property values also escape `:` and `,`, which separate properties.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from vaultsync.core.model import Diagnostic, Severity
from vaultsync.output.paths import report_path
from vaultsync.rules import RULES

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(vault_root: Path, d: Diagnostic) -> str:
    span = d.span
    properties = {
        "file": report_path(vault_root, d.path),
        "line": str(span.line),
        "col": str(span.column),
        "endLine": str(span.end_line),
        "endColumn": str(span.end_column),
        "title": f"{d.code} {RULES[d.code].name}",
    }
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{COMMANDS[d.severity]} {joined}::{escape_data(d.message)}"


def write_github(out: TextIO, vault_root: Path, diagnostics: Sequence[Diagnostic]) -> None:
    for d in diagnostics:
        out.write(annotation(vault_root, d) + "\n")
