"""vaultsync's own state files in `.vaultsync/cache/`: read with restricted unpickling,
written atomically.

A vault may come from someone else (a pull request checked in CI), so a state file
is read with an unpickler that can build only the classes its caller allows:
a crafted file cannot run code. Anything unreadable reads as "no state".
"""

from __future__ import annotations

import io
import pickle
import shutil
from collections.abc import Iterable, Set
from pathlib import Path
from typing import Any, BinaryIO

from vaultsync.io.writer import replace_file


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes | memoryview | BinaryIO, allowed: Set[tuple[str, str]]) -> None:
        super().__init__(io.BytesIO(data) if isinstance(data, bytes | memoryview) else data)
        self.allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"state file refers to {module}.{name}")


def load(path: Path, allowed: Set[tuple[str, str]], key: object = None) -> dict[str, Any] | None:
    """The dict stored at `path`, or None if it is missing, corrupt or foreign.

    With `key`, the file must have been saved with an equal key, which is read first:
    a file for another key costs a few bytes of reading, not unpickling all of it.
    """
    try:
        with open(path, "rb") as handle:
            if key is not None and _RestrictedUnpickler(handle, allowed).load() != key:
                return None
            # A fresh unpickler for the second pickle: one unpickler's memo runs on from
            # the first, and the document's back-references would name the wrong objects.
            document = _RestrictedUnpickler(handle, allowed).load()
    except Exception:  # a damaged or foreign file is simply not used
        return None
    return document if isinstance(document, dict) else None


def loads(data: bytes | memoryview, allowed: Set[tuple[str, str]]) -> Any:
    """One value pickled by `dumps`, unpickled under the same restriction as `load`."""
    return _RestrictedUnpickler(data, allowed).load()


def dumps(value: object) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def load_head(path: Path, allowed: Set[tuple[str, str]]) -> tuple[dict[str, Any], BinaryIO] | None:
    """The document at the head of a file written by `save(..., tail=...)`, and the file,
    open and positioned where the tail starts (the caller closes it); None as `load`."""
    handle: BinaryIO | None = None
    try:
        handle = open(path, "rb")  # noqa: SIM115 - handed to the caller when all is well
        document = _RestrictedUnpickler(handle, allowed).load()
        if isinstance(document, dict):
            return document, handle
    except Exception:  # a damaged or foreign file is simply not used
        pass
    if handle is not None:
        handle.close()
    return None


def make_folder(folder: Path) -> None:
    """Create `folder` (in `.vaultsync/`) and the `.gitignore` that keeps `.vaultsync/`
    out of git; OSError if it cannot be done."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# vaultsync's own state: never commit it\n*\n", encoding="utf-8")


def save(
    path: Path,
    document: dict[str, Any],
    key: object = None,
    tail: Iterable[bytes | memoryview | Path] = (),
) -> bool:
    """Write atomically (temp file + os.replace); False if the vault is not writable.

    `key`, if given, is stored ahead of the document for `load` to compare; `tail`,
    raw bytes written after it (see `load_head`): given, or the whole of a file.
    """
    folder = path.parent
    try:
        make_folder(folder)

        def write(handle: BinaryIO) -> None:
            if key is not None:
                pickle.dump(key, handle, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(document, handle, protocol=pickle.HIGHEST_PROTOCOL)
            for chunk in tail:
                if isinstance(chunk, Path):
                    with open(chunk, "rb") as source:  # a megabyte at a time
                        shutil.copyfileobj(source, handle, 1 << 20)
                else:
                    handle.write(chunk)

        replace_file(path, write, prefix=f".{path.stem}-")
    except OSError:
        return False  # a read-only vault is still checked, just without state
    return True
