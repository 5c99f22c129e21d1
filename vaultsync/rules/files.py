"""File-level rules."""

from __future__ import annotations

from vaultsync.core.model import FixKind, Severity
from vaultsync.rules import define

UNREADABLE_FILE = define(
    "V001",
    "unreadable-file",
    Severity.ERROR,
    FixKind.NONE,
    """A vault file could not be read as a note.

Why: vaultsync reads notes as UTF-8 (a byte-order mark is allowed) up to
`max-file-size` (10 MiB by default). A file that is not valid UTF-8, holds
NUL bytes, is larger than that, or cannot be opened is reported here and is
never written to, by any command.

Example: `Scan 2024.md` saved as Windows-1252 by another program.

Fix: none. Re-save the file as UTF-8, shrink it, fix its permissions, or
raise `max-file-size` in `.vaultsync.toml`.
""",
)
