"""Every write vaultsync makes goes through here: atomic, and for notes compare-and-swap
and inside the vault only.

A note is replaced by writing a temp file next to it, fsyncing it, checking that the note
still has the bytes we read (its sha256), then `os.replace` and an fsync of the folder. A
SIGKILL at any moment leaves the old file or the new one, plus at worst a stray temp file
that `clean_temp_files` removes on the next run (§10.1, §10.2, §10.6). vaultsync's own
files (state files, baselines, the daemon's token and info) are replaced by
`replace_file`: a temp file next to them, renamed over them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

TEMP_PREFIX = ".vaultsync-tmp-"
_BOM = b"\xef\xbb\xbf"


class WriteSkipped(Exception):
    """The file was not written; str(exc) says why (changed since read, symlink leaving the
    vault, not a regular file, ...)."""


def alive(pid: int) -> bool:
    """Whether a process `pid` exists (a leftover file's writer may still be working)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def replace_file(
    path: Path,
    write: Callable[[BinaryIO], object],
    *,
    mode: int | None = None,
    sync: bool = False,
    prefix: str | None = None,
) -> None:
    """Create or replace one of vaultsync's own files atomically: what `write` writes goes
    to a temp file in the same folder (mode `mode`, else 0600), fsynced if `sync`, then
    renamed over `path`. A crash leaves the old file or the new one; on an error the temp
    file is removed and the OSError raised. Notes are written by `write_note` instead."""
    fd, temp = tempfile.mkstemp(prefix=prefix or f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)  # before any byte is written: a token is never readable
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def digest(data: bytes) -> str:
    """The content hash used for compare-and-swap (same as vault.read_note's)."""
    return hashlib.sha256(data).hexdigest()


def encode(text: str, bom: bool) -> bytes:
    """UTF-8 bytes of `text`, with the BOM re-added when the file had one."""
    data = text.encode("utf-8")
    return _BOM + data if bom else data


def _real_root(root: Path) -> str:
    return os.path.realpath(root)


def _inside(real_root: str, real: str) -> bool:
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _checked_rel(rel: str) -> str:
    """Reject paths that name something outside the vault before touching the disk."""
    parts = rel.replace("\\", "/").split("/")
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise WriteSkipped(f"{rel}: not a plain path inside the vault")
    return "/".join(parts)


def _real_path(root: Path, rel: str, real_root: str | None = None) -> str:
    """Where writing `rel` would land, following symlinks; refused if outside the vault.

    `real_root` is `_real_root(root)` when the caller already has it (a batch of writes).
    """
    if real_root is None:
        real_root = _real_root(root)
    real = os.path.realpath(os.path.join(real_root, *_checked_rel(rel).split("/")))
    if not _inside(real_root, real) or real == real_root:
        raise WriteSkipped(f"{rel}: resolves outside the vault (symlink), not written")
    return real


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # some platforms cannot open folders; the replace itself is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _temp_name(folder: str) -> str:
    # The pid lets clean_temp_files tell a crashed run's leftovers from a live writer's.
    return os.path.join(folder, f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}")


def _write_temp(folder: str, data: bytes, mode: int | None, sync: bool = True) -> str:
    """A fully written (and, with `sync`, fsynced) temp file in `folder`; `mode` None keeps
    the umask's."""
    name = _temp_name(folder)
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if mode is not None:
                os.fchmod(fd, mode)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return name


def _read_regular(real: str, rel: str) -> tuple[bytes, int]:
    """Current bytes and permission bits of an existing regular file."""
    try:
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise WriteSkipped(f"{rel}: deleted since it was read, not written") from None
    except OSError as exc:
        raise WriteSkipped(f"{rel}: cannot open: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise WriteSkipped(f"{rel}: not a regular file, not written")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks), stat.S_IMODE(info.st_mode)


def _check_writable(real: str, rel: str, mode: int) -> None:
    """A read-only note stays as it is. Replacing it would succeed (a rename needs only the
    folder's permission, and root may write anything), but the user said "do not change"."""
    if not mode & 0o222 or not os.access(real, os.W_OK):
        raise WriteSkipped(f"{rel}: read-only file, not written")


def write_note(root: Path, rel: str, text: str, *, bom: bool, expected_digest: str) -> str:
    """Atomically replace the note `rel` with `text`; return the new digest.

    Raises WriteSkipped (nothing written) when the file no longer has `expected_digest`,
    is not a regular file, or resolves outside the vault. Never writes identical bytes.
    """
    real = _real_path(root, rel)
    data = encode(text, bom)
    current, mode = _read_regular(real, rel)
    if digest(current) != expected_digest:
        raise WriteSkipped(f"{rel}: changed since it was read, not written")
    new_digest = digest(data)
    if data == current:
        return new_digest
    _check_writable(real, rel, mode)
    folder = os.path.dirname(real)
    try:
        temp = _write_temp(folder, data, mode)
    except OSError as exc:
        raise WriteSkipped(f"{rel}: cannot write: {exc.strerror or exc}") from None
    try:
        # Compare-and-swap: the last moment before the swap, re-check what is on disk.
        latest, _ = _read_regular(real, rel)
        if digest(latest) != expected_digest:
            raise WriteSkipped(f"{rel}: changed since it was read, not written")
        os.replace(temp, real)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise WriteSkipped(f"{rel}: cannot write: {exc.strerror or exc}") from None
        raise
    _fsync_folder(folder)
    return new_digest


@dataclass(frozen=True, slots=True)
class NoteWrite:
    rel: str
    text: str
    bom: bool
    expected_digest: str


# Below this many files, one fsync per file is cheaper than a system-wide sync().
_BATCH_SYNC_MIN = 16


def write_notes(root: Path, writes: Sequence[NoteWrite]) -> list[str | WriteSkipped]:
    """`write_note` for many notes at once: per note, the new digest or why it was skipped.

    The same guarantees per file, at a fraction of the cost: all temp files are written
    first and made durable by one sync() instead of one fsync each; then each note is
    compared-and-swapped and replaced; then each folder is fsynced once.
    """
    results: list[str | WriteSkipped] = []
    staged: list[tuple[int, str, str, NoteWrite]] = []  # result slot, temp, real, write
    batch = len(writes) >= _BATCH_SYNC_MIN
    done = 0  # staged temp files already renamed or removed
    real_root = _real_root(root)
    try:
        for write in writes:
            results.append(WriteSkipped("not written"))
            try:
                real = _real_path(root, write.rel, real_root)
                data = encode(write.text, write.bom)
                current, mode = _read_regular(real, write.rel)
                if digest(current) != write.expected_digest:
                    raise WriteSkipped(f"{write.rel}: changed since it was read, not written")
                results[-1] = digest(data)
                if data == current:
                    continue
                _check_writable(real, write.rel, mode)
                try:
                    temp = _write_temp(os.path.dirname(real), data, mode, sync=not batch)
                except OSError as exc:
                    raise WriteSkipped(
                        f"{write.rel}: cannot write: {exc.strerror or exc}"
                    ) from None
            except WriteSkipped as exc:
                results[-1] = exc
                continue
            staged.append((len(results) - 1, temp, real, write))
        if batch and staged:
            os.sync()  # every temp file is on disk before any note is replaced
        folders: set[str] = set()
        while done < len(staged):
            slot, temp, real, write = staged[done]
            done += 1
            try:
                latest, _ = _read_regular(real, write.rel)
                if digest(latest) != write.expected_digest:
                    raise WriteSkipped(f"{write.rel}: changed since it was read, not written")
                os.replace(temp, real)
                folders.add(os.path.dirname(real))
            except (WriteSkipped, OSError) as exc:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
                results[slot] = (
                    exc
                    if isinstance(exc, WriteSkipped)
                    else WriteSkipped(f"{write.rel}: cannot write: {exc.strerror or exc}")
                )
        for folder in sorted(folders):
            _fsync_folder(folder)
    finally:
        for _slot, temp, _real, _write in staged[done:]:  # interrupted: no temp file left
            with contextlib.suppress(OSError):
                os.unlink(temp)
    return results


def _make_folders(root: Path, rel: str) -> str:
    """Create the parent folders of `rel`, refusing any that would land outside the vault."""
    real_root = _real_root(root)
    parts = _checked_rel(rel).split("/")
    folder = real_root
    for part in parts[:-1]:
        folder = os.path.join(folder, part)
        if not os.path.isdir(folder):
            try:
                os.mkdir(folder)
            except FileExistsError:
                pass
            except OSError as exc:
                raise WriteSkipped(f"{rel}: cannot create folder: {exc.strerror or exc}") from None
            _fsync_folder(os.path.dirname(folder))
        folder = os.path.realpath(folder)
        if not _inside(real_root, folder):
            raise WriteSkipped(f"{rel}: folder resolves outside the vault (symlink), not written")
    return os.path.join(folder, parts[-1])


def create_note(root: Path, rel: str, text: str) -> str:
    """Create the new file `rel` holding `text`, never replacing an existing one.

    The content is written to a temp file first and then hard-linked into place, so the
    note appears complete or not at all; an existing file raises WriteSkipped.
    """
    target = _make_folders(root, rel)
    if os.path.lexists(target):
        raise WriteSkipped(f"{rel}: already exists, not overwritten")
    data = encode(text, bom=False)
    folder = os.path.dirname(target)
    try:
        temp = _write_temp(folder, data, None)
    except OSError as exc:
        raise WriteSkipped(f"{rel}: cannot write: {exc.strerror or exc}") from None
    try:
        os.link(temp, target)
    except FileExistsError:
        raise WriteSkipped(f"{rel}: already exists, not overwritten") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
            raise WriteSkipped(f"{rel}: cannot write: {exc.strerror or exc}") from None
        _create_exclusive(target, rel, data)  # file systems without hard links
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    _fsync_folder(folder)
    return digest(data)


def _create_exclusive(target: str, rel: str, data: bytes) -> None:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        raise WriteSkipped(f"{rel}: already exists, not overwritten") from None
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _entry_path(root: Path, rel: str) -> str:
    """The folder entry for `rel` (a final symlink is not followed), inside the vault."""
    real_root = _real_root(root)
    parts = _checked_rel(rel).split("/")
    folder = os.path.realpath(os.path.join(real_root, *parts[:-1]))
    if not _inside(real_root, folder):
        raise WriteSkipped(f"{rel}: folder resolves outside the vault (symlink)")
    return os.path.join(folder, parts[-1])


def _same_entry(a: str, b: str) -> bool:
    first, second = os.lstat(a), os.lstat(b)
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def move_file(root: Path, old: str, new: str) -> None:
    """Rename `old` to `new` inside the vault, refusing to overwrite an existing target."""
    source = _entry_path(root, old)
    if not os.path.lexists(source):
        raise WriteSkipped(f"{old}: no such file")
    target = _make_folders(root, new)
    if os.path.lexists(target):
        if not _same_entry(source, target):
            raise WriteSkipped(f"{new}: already exists, not overwritten")
        os.rename(source, target)  # a case-only rename on a case-insensitive file system
    else:
        # link + unlink never replaces a file that appeared in the meantime, unlike rename.
        try:
            os.link(source, target, follow_symlinks=False)
        except FileExistsError:
            raise WriteSkipped(f"{new}: already exists, not overwritten") from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
                raise WriteSkipped(f"{old}: cannot move: {exc.strerror or exc}") from None
            os.rename(source, target)  # no hard links here; checked for a target just above
        else:
            os.unlink(source)
    _fsync_folder(os.path.dirname(target))
    _fsync_folder(os.path.dirname(source))


def clean_temp_files(root: Path) -> int:
    """Remove temp files left by crashed runs; returns how many were removed.

    Files of a still-running writer (its pid is alive) are left alone so a daemon and a
    one-shot `fix` can share a vault.
    """
    removed = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in (".git", ".trash")]
        for name in names:
            if not name.startswith(TEMP_PREFIX):
                continue
            pid_text = name[len(TEMP_PREFIX) :].split("-", 1)[0]
            if pid_text.isdigit() and alive(int(pid_text)):
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(folder, name))
                removed += 1
    return removed
