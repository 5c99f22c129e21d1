"""vaultsync's own state files in `.vaultsync/cache/`: read with restricted unpickling,
written atomically.

A vault may come from someone else (a pull request checked in CI), so a state file
is read with an unpickler that can build only the classes its caller allows:
a crafted file cannot run code. Anything unreadable reads as "no state".
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import tempfile
from collections.abc import Set
from pathlib import Path
from typing import Any


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, allowed: Set[tuple[str, str]]) -> None:
        super().__init__(io.BytesIO(data))
        self.allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"state file refers to {module}.{name}")


def load(path: Path, allowed: Set[tuple[str, str]]) -> dict[str, Any] | None:
    """The dict stored at `path`, or None if it is missing, corrupt or foreign."""
    try:
        document = _RestrictedUnpickler(path.read_bytes(), allowed).load()
    except Exception:  # a damaged or foreign file is simply not used
        return None
    return document if isinstance(document, dict) else None


def save(path: Path, document: dict[str, Any]) -> bool:
    """Write atomically (temp file + os.replace); False if the vault is not writable."""
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# vaultsync's own state: never commit it\n*\n", encoding="utf-8")
        fd, temp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(document, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
    except OSError:
        return False  # a read-only vault is still checked, just without state
    return True
