"""The writer: atomic compare-and-swap replaces, exclusive creates, no-overwrite moves."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pytest

from tests.conftest import dead_pid
from vaultsync.io import writer
from vaultsync.io.files import read_note


def _temps(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(writer.TEMP_PREFIX)]


def _note(root: Path, rel: str, data: bytes, mode: int = 0o644) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_write_note_replaces_keeping_bom_crlf_and_mode(tmp_path: Path) -> None:
    path = _note(tmp_path, "a/Note.md", b"\xef\xbb\xbfone\r\ntwo", mode=0o640)
    note = read_note(path, 1 << 20)
    new = note.text.replace("one", "ONE")
    digest = writer.write_note(
        tmp_path, "a/Note.md", new, bom=note.bom, expected_digest=note.digest
    )
    assert path.read_bytes() == b"\xef\xbb\xbfONE\r\ntwo"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert digest == read_note(path, 1 << 20).digest
    assert _temps(tmp_path) == []


def test_stale_digest_is_skipped_and_file_kept(tmp_path: Path) -> None:
    path = _note(tmp_path, "Note.md", b"read by the engine\n")
    stale = read_note(path, 1 << 20).digest
    path.write_bytes(b"typed by the user afterwards\n")
    with pytest.raises(writer.WriteSkipped, match="changed since it was read"):
        writer.write_note(tmp_path, "Note.md", "fixed\n", bom=False, expected_digest=stale)
    assert path.read_bytes() == b"typed by the user afterwards\n"
    assert _temps(tmp_path) == []


def test_change_after_temp_written_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last-moment compare: a save landing while the temp file is written wins."""
    path = _note(tmp_path, "Note.md", b"old\n")
    digest = read_note(path, 1 << 20).digest
    real_write_temp = writer._write_temp

    def write_temp_then_user_saves(
        folder: str, data: bytes, mode: int | None, sync: bool = True
    ) -> str:
        name = real_write_temp(folder, data, mode, sync)
        path.write_bytes(b"saved by the user meanwhile\n")
        return name

    monkeypatch.setattr(writer, "_write_temp", write_temp_then_user_saves)
    with pytest.raises(writer.WriteSkipped):
        writer.write_note(tmp_path, "Note.md", "fixed\n", bom=False, expected_digest=digest)
    assert path.read_bytes() == b"saved by the user meanwhile\n"
    assert _temps(tmp_path) == []


def test_identical_bytes_are_not_written(tmp_path: Path) -> None:
    path = _note(tmp_path, "Note.md", b"same\n")
    before = path.stat()
    digest = read_note(path, 1 << 20).digest
    assert (
        writer.write_note(tmp_path, "Note.md", "same\n", bom=False, expected_digest=digest)
        == digest
    )
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_symlink_leaving_the_vault_is_refused(tmp_path: Path) -> None:
    vault, outside = tmp_path / "vault", tmp_path / "outside.md"
    vault.mkdir()
    outside.write_bytes(b"not yours\n")
    (vault / "Link.md").symlink_to(outside)
    digest = read_note(outside, 1 << 20).digest
    with pytest.raises(writer.WriteSkipped, match="outside the vault"):
        writer.write_note(vault, "Link.md", "x\n", bom=False, expected_digest=digest)
    assert outside.read_bytes() == b"not yours\n"
    (tmp_path / "elsewhere").mkdir()
    (vault / "folder").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(writer.WriteSkipped, match="outside the vault"):
        writer.create_note(vault, "folder/New.md", "# New\n")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_symlink_inside_the_vault_writes_its_target(tmp_path: Path) -> None:
    real = _note(tmp_path, "real/Note.md", b"old\n")
    (tmp_path / "Alias.md").symlink_to(real)
    digest = read_note(real, 1 << 20).digest
    writer.write_note(tmp_path, "Alias.md", "new\n", bom=False, expected_digest=digest)
    assert (tmp_path / "Alias.md").is_symlink()
    assert real.read_bytes() == b"new\n"


@pytest.mark.parametrize("rel", ["../escape.md", "/abs.md", "a/../../b.md", ""])
def test_paths_leaving_the_vault_are_refused(tmp_path: Path, rel: str) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    with pytest.raises(writer.WriteSkipped):
        writer.create_note(vault, rel, "x\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vault"]


def test_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Folder.md").mkdir()
    with pytest.raises(writer.WriteSkipped, match="not a regular file"):
        writer.write_note(tmp_path, "Folder.md", "x\n", bom=False, expected_digest="")


def test_create_note_never_overwrites(tmp_path: Path) -> None:
    digest = writer.create_note(tmp_path, "deep/er/New Note.md", "# New Note\n")
    path = tmp_path / "deep/er/New Note.md"
    assert path.read_bytes() == b"# New Note\n"
    assert digest == read_note(path, 1 << 20).digest
    with pytest.raises(writer.WriteSkipped, match="already exists"):
        writer.create_note(tmp_path, "deep/er/New Note.md", "other\n")
    assert path.read_bytes() == b"# New Note\n"
    assert _temps(tmp_path) == []


def test_move_file_refuses_an_existing_target(tmp_path: Path) -> None:
    _note(tmp_path, "A.md", b"a\n")
    _note(tmp_path, "B.md", b"b\n")
    with pytest.raises(writer.WriteSkipped, match="already exists"):
        writer.move_file(tmp_path, "A.md", "B.md")
    assert (tmp_path / "A.md").read_bytes() == b"a\n"
    assert (tmp_path / "B.md").read_bytes() == b"b\n"
    writer.move_file(tmp_path, "A.md", "sub/C.md")
    assert not (tmp_path / "A.md").exists()
    assert (tmp_path / "sub/C.md").read_bytes() == b"a\n"
    with pytest.raises(writer.WriteSkipped, match="no such file"):
        writer.move_file(tmp_path, "A.md", "D.md")


def test_write_notes_batch_skips_only_the_changed_file(tmp_path: Path) -> None:
    writes = []
    for i in range(20):  # over the threshold where one sync() replaces per-file fsyncs
        path = _note(tmp_path, f"n/{i}.md", f"old {i}\n".encode())
        writes.append(
            writer.NoteWrite(f"n/{i}.md", f"new {i}\n", False, read_note(path, 99).digest)
        )
    (tmp_path / "n/7.md").write_bytes(b"user edit\n")
    results = writer.write_notes(tmp_path, writes)
    assert isinstance(results[7], writer.WriteSkipped)
    assert (tmp_path / "n/7.md").read_bytes() == b"user edit\n"
    for i in set(range(20)) - {7}:
        assert (tmp_path / f"n/{i}.md").read_bytes() == f"new {i}\n".encode()
        assert results[i] == read_note(tmp_path / f"n/{i}.md", 99).digest
    assert _temps(tmp_path) == []


def _batch(tmp_path: Path, count: int) -> list[writer.NoteWrite]:
    writes = []
    for i in range(count):
        path = _note(tmp_path, f"n/{i}.md", f"old {i}\n".encode())
        writes.append(
            writer.NoteWrite(f"n/{i}.md", f"new {i}\n", False, read_note(path, 99).digest)
        )
    return writes


def test_write_notes_batch_interrupted_while_staging_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the batch's temp files are being written (by two threads): no note
    is replaced and no temp file is left behind."""
    writes = _batch(tmp_path, 40)
    real_write_temp = writer._write_temp
    staged: list[str] = []

    def interrupted_at_the_30th(folder: str, data: bytes, mode: int | None, sync: bool) -> str:
        if data == b"new 29\n":
            raise KeyboardInterrupt
        name = real_write_temp(folder, data, mode, sync)
        staged.append(name)
        return name

    monkeypatch.setattr(writer, "_write_temp", interrupted_at_the_30th)
    with pytest.raises(KeyboardInterrupt):
        writer.write_notes(tmp_path, writes)
    assert len(staged) >= 10  # temp files were written, and then removed
    assert _temps(tmp_path) == []
    for i in range(40):
        assert (tmp_path / f"n/{i}.md").read_bytes() == f"old {i}\n".encode()


def test_write_notes_batch_change_between_staging_and_swap_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note saved after its temp file was staged, before the swap: the user's bytes
    stay, every other note of the batch is replaced."""
    writes = _batch(tmp_path, 30)
    real_sync = os.sync

    def user_saves_during_sync() -> None:
        real_sync()
        (tmp_path / "n/12.md").write_bytes(b"saved meanwhile\n")

    monkeypatch.setattr(writer.os, "sync", user_saves_during_sync)
    results = writer.write_notes(tmp_path, writes)
    assert isinstance(results[12], writer.WriteSkipped)
    assert "changed since it was read" in str(results[12])
    assert (tmp_path / "n/12.md").read_bytes() == b"saved meanwhile\n"
    for i in set(range(30)) - {12}:
        assert (tmp_path / f"n/{i}.md").read_bytes() == f"new {i}\n".encode()
    assert _temps(tmp_path) == []


def test_clean_temp_files_spares_live_writers(tmp_path: Path) -> None:
    dead = dead_pid()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        leftovers = [
            tmp_path / f"{writer.TEMP_PREFIX}{dead}-abc",
            tmp_path / "sub" / f"{writer.TEMP_PREFIX}junk",
        ]
        in_flight = tmp_path / f"{writer.TEMP_PREFIX}{live.pid}-def"
        (tmp_path / "sub").mkdir()
        for path in [*leftovers, in_flight]:
            path.write_bytes(b"partial")
        assert writer.clean_temp_files(tmp_path) == 2
        assert [p.exists() for p in leftovers] == [False, False]
        assert in_flight.exists()
    finally:
        live.kill()
        live.wait()
    os.unlink(in_flight)


def test_replace_file_is_all_or_nothing_and_leaves_no_temp_file(tmp_path: Path) -> None:
    # vaultsync's own files (state, baselines, the daemon's token) share this one writer.
    target = tmp_path / "state.json"
    target.write_bytes(b"old")

    def fails(handle: BinaryIO) -> None:
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        writer.replace_file(target, fails)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]

    writer.replace_file(target, lambda handle: handle.write(b"new"), mode=0o600, sync=True)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]
