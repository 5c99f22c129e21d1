"""Which files make up a vault (§1, R30, R31) and how they are read."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pathspec is imported only when a vault has exclude patterns
    from pathspec import PathSpec


class FileSettings(Protocol):
    """The settings that choose a vault's files (config.settings.Config has them); a
    protocol, so that this layer needs nothing from the config layer above it."""

    @property
    def exclude(self) -> Sequence[str]: ...

    @property
    def all_files(self) -> bool: ...


# R30: the extensions Obsidian lists by default, besides notes.
ATTACHMENT_EXTENSIONS = frozenset(
    [
        "base",
        "canvas",
        "avif",
        "bmp",
        "gif",
        "jpeg",
        "jpg",
        "png",
        "svg",
        "webp",
        "flac",
        "m4a",
        "mp3",
        "ogg",
        "wav",
        "webm",
        "3gp",
        "mkv",
        "mov",
        "mp4",
        "ogv",
        "pdf",
    ]
)
BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class VaultFile:
    path: str  # vault-relative, '/'-separated, NFC
    is_note: bool
    excluded: bool  # matched by `exclude` or Obsidian's ignore filters: indexed, not linted
    # The name on disk when it is not NFC (an NFD name from macOS): `path` is for matching,
    # this is for opening the file.
    disk_path: str | None = None

    @property
    def location(self) -> str:
        return self.disk_path or self.path


@dataclass(frozen=True, slots=True)
class NoteText:
    text: str  # without the BOM
    bom: bool
    digest: str  # sha256 of the raw bytes, for compare-and-swap and caching
    # Read through a symlink (to a file inside the vault): the note is indexed, so links to
    # its name resolve, but linted and written only under its real name. Otherwise a fix
    # through the link would undo the fixes the target needs, and back, on every run.
    symlink: bool = False


class UnreadableFile(Exception):
    """V001: not UTF-8, too large, or not readable."""


# What a new file or folder name may not hold (R7): Obsidian refuses `* " \ / < > : | ?`
# when it creates a file, and a name with `# ^ [ ] |` or `%%` cannot be the target of a
# wikilink (`[[C# notes]]` is file `C`, heading ` notes`). Control characters (a line
# break) cannot be written in a link at all.
REFUSED_IN_NAMES = ("\\", "/", ":", "*", "?", '"', "<", ">", "|", "[", "]", "#", "^", "%%")


def refused_in_name(name: str) -> str | None:
    """What in a file or folder name Obsidian refuses or cannot link to, or None."""
    for bad in REFUSED_IN_NAMES:
        if bad in name:
            return f"`{bad}`"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "a control character"
    return None


def is_note_path(path: str) -> bool:
    return path[-3:].lower() == ".md"


def extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def yaml_files(folder: Path) -> list[Path]:
    """The `.yaml`/`.yml` files directly in `folder` (schema files), sorted; none if no folder."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _ignore_spec(root: Path, config: FileSettings) -> PathSpec[Any] | None:
    patterns = list(config.exclude)
    app = root / ".obsidian" / "app.json"
    try:
        filters = json.loads(app.read_text(encoding="utf-8")).get("userIgnoreFilters") or []
    except (OSError, ValueError, AttributeError):
        filters = []
    # Obsidian's filters are path prefixes or /regex/; prefixes map onto gitignore anchors.
    patterns.extend(
        "/" + f.lstrip("/") for f in filters if isinstance(f, str) and not f.startswith("/")
    )
    if not patterns:
        return None
    from pathspec import PathSpec

    return PathSpec.from_lines("gitignore", patterns)


def discover(root: Path, config: FileSettings) -> list[VaultFile]:
    """Every vault file, sorted by path; dot-folders and dot-files are never part of it."""
    spec = _ignore_spec(root, config)
    files: list[VaultFile] = []
    root_str = str(root)
    prefix_len = len(root_str) + 1
    for folder, dirs, names in os.walk(root_str):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel_folder = folder[prefix_len:].replace(os.sep, "/") if folder != root_str else ""
        for name in names:
            if name.startswith("."):
                continue
            rel = f"{rel_folder}/{name}" if rel_folder else name
            disk: str | None = None
            if not rel.isascii():
                disk, rel = rel, unicodedata.normalize("NFC", rel)
                if disk == rel:
                    disk = None
            note = is_note_path(rel)
            if not note and not config.all_files and extension(rel) not in ATTACHMENT_EXTENSIONS:
                continue
            excluded = spec is not None and spec.match_file(rel)
            files.append(VaultFile(rel, note, excluded, disk))
    files.sort(key=lambda f: f.path)
    return files


def _inside(real_root: str, real: str) -> bool:
    return real.startswith(real_root.rstrip(os.sep) + os.sep)


def _open_note(path: Path, root: Path | None) -> tuple[int, bool]:
    """A read-only descriptor for `path`. With `root`, a symlink is followed only when it
    resolves inside the vault (§10.6): a note linking to /etc/passwd is never read.

    O_NONBLOCK keeps a FIFO named `x.md` from blocking the run (it is refused as not a
    regular file); it changes nothing for regular files. The flag: a symlink was followed.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    if root is None:
        return os.open(path, flags), False
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(path, flags | nofollow), False
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
    real = os.path.realpath(path)  # a symlink (or a loop, which fails again below)
    if not _inside(os.path.realpath(root), real):
        raise UnreadableFile("symbolic link to a file outside the vault, not read")
    return os.open(real, flags | nofollow), True


_READ_CHUNK = 1 << 16


def _read_fd(fd: int, size_hint: int, max_size: int) -> bytes:
    """Up to `max_size + 1` bytes of an open file: one over the cap proves it too large.

    Plain os.read, no buffered file object (creating one costs more than reading a
    note). The first read asks for what fstat promised plus one byte, so a note takes
    two reads: its bytes and the end of file. A file that grew meanwhile is read on, in
    chunks: os.read allocates what it is asked for, and a max-size buffer per note
    would cost an mmap/munmap each.
    """
    limit = max_size + 1
    raw = os.read(fd, min(size_hint, max_size) + 1)
    if not raw or len(raw) >= limit:
        return raw
    parts = [raw]
    total = len(raw)
    while total < limit:
        chunk = os.read(fd, min(limit - total, _READ_CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return raw if len(parts) == 1 else b"".join(parts)


def read_note(path: Path, max_size: int, root: Path | None = None) -> NoteText:
    """Read a note as UTF-8, keeping track of its BOM; raise UnreadableFile with a reason.

    Pass the vault `root` so that a symlinked note is read only if it stays in the vault.
    """
    try:
        fd, symlink = _open_note(path, root)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise UnreadableFile("not a regular file")
            if info.st_size > max_size:
                raise UnreadableFile(
                    f"file is {info.st_size} bytes, over max-file-size ({max_size})"
                )
            raw = _read_fd(fd, info.st_size, max_size)
        finally:
            os.close(fd)
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror or exc}") from exc
    if len(raw) > max_size:
        raise UnreadableFile(f"file is over max-file-size ({max_size} bytes)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not valid UTF-8 (byte {exc.start})") from exc
    if b"\x00" in raw:  # in valid UTF-8 a zero byte is always the character NUL
        raise UnreadableFile("binary content (NUL byte)")
    bom = text.startswith(BOM)
    return NoteText(text[1:] if bom else text, bom, _digest(raw), symlink)


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def file_digest(path: Path | str) -> str | None:
    """The digest `read_note` gives a file's bytes (`NoteText.digest`), of the file as it
    is now, without decoding it; None when it cannot be read. The caches compare it with
    the digest they kept to tell a file rewritten in the same clock tick from one left
    alone."""
    try:
        with open(path, "rb") as handle:
            return _digest(handle.read())
    except OSError:
        return None
