"""Hostile vaults: files built to break a linter that runs unattended in someone's notes.

Every case runs the real CLI in a child process (so a crash shows as exit 2 with a
traceback, and a hang is cut off by a time bound) for both `check` and `fix`, and checks
what a user would see: one clear V001/F001/L008 line naming the file, or a silent skip
where that is the documented behaviour (docs/reliability.md); exit 0 or 1; memory bounded;
nothing outside the vault read into the report, and nothing outside written.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SECTIONS_ON, write_vault

# Safety nets, not timings: a correct run takes a fraction of these.
TIME_BOUND = 60.0  # the whole hostile vault, 75 MB of it, on a busy 2-core machine
LINE_BOUND = 30.0  # one 10 MB line, one run
MAX_RSS_MB = 600  # the 50 MB note is never read; the 10 MB line is held a few times at most

MIB = 1024 * 1024
LONG_LINE = 10 * MIB - 4096  # "a line of 10 MB", just under max-file-size so it is parsed
NFD_NAME = unicodedata.normalize("NFD", "Café.md")
EVERY_RULE = 'select = ["ALL"]\n'  # the default set leaves L009 out
NEWLINE_NAME = "new\nline.md"

YAML_BOMB = (
    "---\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]\n"
        for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "---\nbody [[target]]\n"
)
DEEP_YAML = "---\nx: " + "[" * 5000 + "]" * 5000 + "\n---\nbody [[target]]\n"


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    max_rss_mb: float


def run_cli(*argv: str, timeout: float = TIME_BOUND, user: str | None = None) -> Run:
    """`vaultsync ARGV` in a child process, cut off after `timeout`, with its peak memory."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vaultsync", *argv],
            cwd=REPO,
            stdout=out,
            stderr=err,
            user=user,
            env={**os.environ, "VAULTSYNC_JOBS": "1"},  # the peak memory of one process
        )
        # The child's own peak memory is its VmHWM, read while it runs: wait4's ru_maxrss
        # also counts the pages of the process it was spawned from (exec folds the old
        # address space's peak in), so it grows with this test session.
        peak_kib = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kib = max(peak_kib, _vm_hwm_kib(proc.pid))
            if time.monotonic() - started > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                raise AssertionError(f"vaultsync {' '.join(argv)} ran over {timeout} s")
            time.sleep(0.005)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            time.monotonic() - started,
            # A run too short to be read while running: wait4's figure, an upper bound.
            (peak_kib or usage.ru_maxrss) / 1024,  # KiB on Linux
        )


def _vm_hwm_kib(pid: int) -> int:
    """The peak resident memory of process `pid` since its exec (0: not readable)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def assert_clean_exit(run: Run) -> None:
    """Exit 0 or 1, never a traceback or an internal error."""
    assert run.code in (0, 1), (run.code, run.err[-2000:])
    assert "Traceback" not in run.err and "internal error" not in run.err, run.err[-2000:]


def snapshot(root: Path) -> dict[str, str]:
    """Every regular file under `root` (symlinks not followed): path -> sha256."""
    found: dict[str, str] = {}
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            found[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def by_path(document: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for d in document["diagnostics"]:
        found.setdefault(d["path"], []).append(d)
    return found


# --- the hostile vault -------------------------------------------------------------------


@dataclass
class Hostile:
    root: Path
    outside: Path  # a folder next to the vault: must never be read into output or written
    outside_before: dict[str, str]


def _build(base: Path) -> Hostile:
    outside = base / "outside"
    outside.mkdir()
    # Files outside the vault hold links the vault's fixes would rewrite if they were read.
    (outside / "secret.md").write_text("secret [[target]] #leak\n", encoding="utf-8")
    (outside / "Nested.md").write_text("[[target]]\n", encoding="utf-8")
    root = write_vault(
        base / "vault",
        {
            # Every rule, L009 (the fixable links here) too, and generated sections.
            ".vaultsync.toml": EVERY_RULE + SECTIONS_ON,
            "Target.md": "# Target\n",
            "latin1.md": b"caf\xe9 [[target]]\n",
            "binary.md": bytes(range(256)) * 40,
            "nul.md": "text\x00 [[target]]\n",
            "deep-yaml.md": DEEP_YAML,
            "yaml-bomb.md": YAML_BOMB,
            "escape.md": (
                "[[../../../etc/passwd]] [up](../../outside/secret.md) "
                "![[../../../etc/hostname]] [[../outside/secret]]\n"
            ),
            NFD_NAME: "# Café\n[[target]]\n",
            "links-cafe.md": "[[Café]] [[Cafe\u0301]]\n",
            "Case.md": "# Upper\n",
            "case.md": "# lower\n[[target]]\n",
            "links-case.md": "[[Case]] [[case]]\n",
            NEWLINE_NAME: "[[target]]\n",
        },
    )
    # A 50 MB note: over max-file-size, refused from its size without reading it.
    with (root / "huge.md").open("wb") as handle:
        chunk = b"filler [[target]] " * 4096 + b"\n"
        for _ in range(50 * MIB // len(chunk) + 1):
            handle.write(chunk)
    # 100,000 lines, a fixable link every 10,000.
    lines = [f"line {i} of a long note\n" for i in range(100_000)]
    for i in range(0, 100_000, 10_000):
        lines[i] = f"line {i} [[target]]\n"
    (root / "many-lines.md").write_text("".join(lines), encoding="utf-8")
    # One line of 10 MB of words, a fixable link at each end.
    words = "lorem ipsum dolor " * (LONG_LINE // 18)
    (root / "long-line.md").write_text(f"[[target]] {words} [[target]]\n", encoding="utf-8")
    # Symlinks: a loop, a note pointing at /etc/passwd and at a note outside, a folder
    # pointing outside (a symlinked note inside the vault: test_symlinked_note_inside_*).
    os.symlink("loop-b.md", root / "loop-a.md")
    os.symlink("loop-a.md", root / "loop-b.md")
    os.symlink("/etc/passwd", root / "passwd.md")
    os.symlink(outside / "secret.md", root / "secret.md")
    os.symlink(outside, root / "outside-folder")
    # A FIFO named like a note: opening it for reading would block forever.
    os.mkfifo(root / "fifo.md")
    return Hostile(root, outside, snapshot(outside))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    yield _build(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def checked(hostile: Hostile) -> tuple[Run, dict[str, list[dict[str, Any]]]]:
    run = run_cli("check", str(hostile.root), "--format", "json", "--no-cache")
    assert_clean_exit(run)
    return run, by_path(json.loads(run.out))


@pytest.fixture(scope="module")
def fixed(hostile: Hostile, checked: object) -> tuple[Run, dict[str, str], dict[str, str]]:
    """`fix` on the hostile vault: (run, files before, files after)."""
    before = snapshot(hostile.root)
    run = run_cli("fix", str(hostile.root), "--no-cache")
    assert_clean_exit(run)
    return run, before, snapshot(hostile.root)


def test_check_finishes_within_bounds(checked: tuple[Run, dict[str, Any]]) -> None:
    run, _ = checked
    assert run.code == 1  # the vault has problems
    assert run.seconds < TIME_BOUND
    assert run.max_rss_mb < MAX_RSS_MB, f"peak memory {run.max_rss_mb:.0f} MB"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("latin1.md", "not valid UTF-8 (byte 3)"),
        ("binary.md", "not valid UTF-8"),
        ("nul.md", "binary content (NUL byte)"),
        ("huge.md", "over max-file-size"),
        ("loop-a.md", "Too many levels of symbolic links"),
        ("loop-b.md", "Too many levels of symbolic links"),
        ("passwd.md", "symbolic link to a file outside the vault, not read"),
        ("secret.md", "symbolic link to a file outside the vault, not read"),
        ("fifo.md", "not a regular file"),
    ],
)
def test_unreadable_files_are_one_v001_each(
    checked: tuple[Run, dict[str, list[dict[str, Any]]]], path: str, reason: str
) -> None:
    _, found = checked
    assert [d["code"] for d in found[path]] == ["V001"]
    assert reason in found[path][0]["message"]
    assert "\n" not in found[path][0]["message"]


def test_nothing_from_outside_the_vault_reaches_the_report(
    hostile: Hostile, checked: tuple[Run, dict[str, list[dict[str, Any]]]]
) -> None:
    run, found = checked
    assert not any(p.startswith("outside-folder") for p in found)  # a symlinked folder: skipped
    assert "root:" not in run.out  # /etc/passwd's first line
    graph = run_cli("graph", str(hostile.root), "--format", "json", "--no-cache")
    assert graph.code == 0, graph.err
    document = json.loads(graph.out)
    assert "root:" not in graph.out and "#leak" not in graph.out
    for link in document["links"]:
        assert not link["source"].startswith("outside-folder")
        assert link["resolved"] is None or not link["resolved"].startswith("..")
    sources = {link["source"] for link in document["links"]}
    assert "secret.md" not in sources and "passwd.md" not in sources


def test_yaml_bomb_and_deep_yaml_are_f001(
    checked: tuple[Run, dict[str, list[dict[str, Any]]]],
) -> None:
    _, found = checked
    bomb = [d for d in found["yaml-bomb.md"] if d["code"] == "F001"]
    assert bomb and "aliases" in bomb[0]["message"]
    deep = [d for d in found["deep-yaml.md"] if d["code"] == "F001"]
    assert deep and "nesting" in deep[0]["message"]


def test_links_climbing_out_of_the_vault_are_l008(
    checked: tuple[Run, dict[str, list[dict[str, Any]]]],
) -> None:
    _, found = checked
    codes = [d["code"] for d in found["escape.md"]]
    # `[[../outside/secret]]` leaves a vault-root note's folder too: any `..` above it.
    assert codes == ["L008"] * 4, found["escape.md"]


def test_odd_names_are_linted_under_their_own_name(
    checked: tuple[Run, dict[str, list[dict[str, Any]]]],
) -> None:
    _, found = checked
    # NFD on disk, NFC in the report; both spellings of the link resolve to it.
    assert "Café.md" in found and NFD_NAME not in found
    assert not [d for d in found.get("links-cafe.md", []) if d["code"] == "L001"]
    # Names differing only in case are two notes; each link resolves to its own.
    assert {"L009"} & {d["code"] for d in found["case.md"]}
    assert not [d for d in found.get("links-case.md", []) if d["code"] == "L001"]
    assert NEWLINE_NAME in found


def test_a_newline_in_a_name_cannot_forge_a_report_line(hostile: Hostile) -> None:
    run = run_cli("check", str(hostile.root), "--select", "L009", "--no-cache")
    assert_clean_exit(run)
    assert "new\\nline.md:1:1: L009" in run.out
    for line in run.out.splitlines()[:-1]:
        assert line.split(":", 1)[0].endswith(".md"), line


def test_long_line_and_many_lines_are_parsed(
    checked: tuple[Run, dict[str, list[dict[str, Any]]]],
) -> None:
    _, found = checked
    long_line = [d for d in found["long-line.md"] if d["code"] == "L009"]
    assert [(d["line"], d["column"]) for d in long_line] == [(1, 1), (1, LONG_LINE // 18 * 18 + 13)]
    many = [d["line"] for d in found["many-lines.md"] if d["code"] == "L009"]
    assert many == list(range(1, 100_001, 10_000))


def test_fix_writes_only_what_it_may(
    hostile: Hostile, fixed: tuple[Run, dict[str, str], dict[str, str]]
) -> None:
    run, before, after = fixed
    assert run.code == 1  # unreadable files and L008 remain
    assert run.seconds < TIME_BOUND
    assert snapshot(hostile.outside) == hostile.outside_before  # nothing outside written
    never_written = ["latin1.md", "binary.md", "nul.md", "huge.md"]
    never_written += ["escape.md"]
    for path in never_written:
        assert after[path] == before[path], path
    assert set(after) == set(before), "fix created or removed files"
    assert (hostile.root / "passwd.md").readlink() == Path("/etc/passwd")


def test_fix_edits_large_notes_exactly(
    hostile: Hostile, fixed: tuple[Run, dict[str, str], dict[str, str]]
) -> None:
    root = hostile.root
    many = (root / "many-lines.md").read_text(encoding="utf-8").splitlines()
    assert len(many) == 100_000
    assert many[10_000] == "line 10000 [[Target]]" and many[1] == "line 1 of a long note"
    long_line = (root / "long-line.md").read_text(encoding="utf-8")
    assert long_line.startswith("[[Target]] lorem ipsum") and long_line.endswith(" [[Target]]\n")
    assert len(long_line) == LONG_LINE // 18 * 18 + 23
    assert (root / NFD_NAME).read_text(encoding="utf-8").startswith("# Café\n[[Target]]\n")
    assert not (root / unicodedata.normalize("NFC", NFD_NAME)).exists()
    assert (root / "case.md").read_text(encoding="utf-8").startswith("# lower\n[[Target]]\n")
    upper = (root / "Case.md").read_text(encoding="utf-8")
    assert upper.startswith("# Upper\n") and "lower" not in upper
    assert (root / NEWLINE_NAME).read_text(encoding="utf-8") == "[[Target]]\n"
    # Invalid frontmatter is left byte for byte; the body's link is still fixed.
    bomb = (root / "yaml-bomb.md").read_text(encoding="utf-8")
    assert bomb == YAML_BOMB.replace("[[target]]", "[[Target]]")
    # A name holding a line break is listed as a markdown link, never a split wikilink.
    backlinks = (root / "Target.md").read_text(encoding="utf-8")
    assert "- [new line](new%0Aline.md)\n" in backlinks and "[[new\n" not in backlinks


def test_fix_again_changes_nothing(
    hostile: Hostile, fixed: tuple[Run, dict[str, str], dict[str, str]]
) -> None:
    _, _, after = fixed
    again = run_cli("fix", str(hostile.root), "--no-cache")
    assert_clean_exit(again)
    assert snapshot(hostile.root) == after


# --- lines built to make a scanner quadratic ----------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(("[[" + "x" * 31) * 315_000, id="300k-unclosed-wikilinks"),
        pytest.param(("$a" + " " * 18) * 520_000, id="500k-unclosed-math"),
    ],
)
def test_ten_megabyte_line_of_unclosed_openers(tmp_path: Path, line: str) -> None:
    """Each opener used to search to the end of the line again: hours, not seconds."""
    root = write_vault(tmp_path / "vault", {"Target.md": "# Target\n", "line.md": line + "\n"})
    before = snapshot(root)
    for argv in (["check", "--format", "json"], ["fix"]):
        run = run_cli(argv[0], str(root), "--no-cache", *argv[1:], timeout=LINE_BOUND)
        assert_clean_exit(run)
        assert run.code == 0, run.out[-2000:]  # nothing there is a link or math
    assert snapshot(root) == before


# --- a file the user running vaultsync cannot read ----------------------------------------


# The interpreter lives under /root (mode 700): `nobody` cannot start it. So the child
# starts as root, runs once on a scratch vault (every lazy import done), then drops to
# `nobody` for good and runs the real command, exactly as an unprivileged user would.
_AS_NOBODY = """
import contextlib, io, os, pwd, sys
from vaultsync.cli import main

warm, command, root, *argv = sys.argv[1:]
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    main(["fix", warm, "--no-cache"])
    main(["check", warm, "--no-cache", "--format", "json"])
nobody = pwd.getpwnam("nobody")
os.setgroups([])
os.setgid(nobody.pw_gid)
os.setuid(nobody.pw_uid)
sys.exit(main([command, root, *argv]))
"""


def _run_unprivileged(base: Path, command: str, root: Path, *argv: str) -> Run:
    if os.geteuid() != 0:
        return run_cli(command, str(root), *argv)
    proc = subprocess.run(
        [sys.executable, "-c", _AS_NOBODY, str(base / "warm"), command, str(root), *argv],
        cwd=base,
        capture_output=True,
        text=True,
        timeout=TIME_BOUND,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr, 0.0, 0.0)


def test_unreadable_permission_is_v001_and_the_run_goes_on() -> None:
    """As root every file is readable, so the run drops to `nobody` (the real situation);
    as a normal user the file is simply mode 000."""
    as_root = os.geteuid() == 0
    if as_root:
        try:
            entry = pwd.getpwnam("nobody")
        except KeyError:
            pytest.fail("running as root without a `nobody` user: cannot test permissions")
    base = Path(tempfile.mkdtemp(prefix="vaultsync-perm-"))
    try:
        base.chmod(0o755)  # mkdtemp makes 0700: the unprivileged run must get in
        write_vault(base / "warm", {"a.md": "[[b]]\n", "b.md": "# b\n"})
        root = write_vault(
            base / "vault",
            {"Target.md": "# Target\n", "open.md": "[[target]]\n", "closed.md": "[[target]]\n"},
        )
        if as_root:
            for folder, dirs, names in os.walk(root):
                for name in [folder, *(os.path.join(folder, n) for n in dirs + names)]:
                    os.chown(name, entry.pw_uid, entry.pw_gid)
            os.chown(root / "closed.md", 0, 0)  # root's and mode 000: nobody cannot read it
        (root / "closed.md").chmod(0)
        check = _run_unprivileged(base, "check", root, "--format", "json", "--no-cache")
        assert_clean_exit(check)
        found = by_path(json.loads(check.out))
        assert [d["code"] for d in found["closed.md"]] == ["V001"]
        assert "Permission denied" in found["closed.md"][0]["message"]
        fix = _run_unprivileged(base, "fix", root, "--no-cache", "--select", "L,V")
        assert_clean_exit(fix)
        assert fix.code == 1  # the unreadable file remains a problem
        assert (root / "open.md").read_text(encoding="utf-8") == "[[Target]]\n"  # went on
        (root / "closed.md").chmod(0o644)
        assert (root / "closed.md").read_text(encoding="utf-8") == "[[target]]\n"
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --- a symlinked note inside the vault ----------------------------------------------------


def test_symlinked_note_inside_the_vault_is_read(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "vault", {"Target.md": "# Target\n", "a.md": "[[Alias]]\n"})
    os.symlink("Target.md", root / "Alias.md")
    run = run_cli("check", str(root), "--format", "json", "--no-cache", "--select", "L,V")
    assert_clean_exit(run)
    assert json.loads(run.out)["diagnostics"] == []  # [[Alias]] resolves, Alias.md is read


def test_fix_is_idempotent_with_a_symlinked_note(tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "vault",
        {".vaultsync.toml": SECTIONS_ON, "Target.md": "# Target\n", "a.md": "[[Target]]\n"},
    )
    os.symlink("Target.md", root / "Alias.md")
    first = run_cli("fix", str(root), "--no-cache")
    assert_clean_exit(first)
    after = (root / "Target.md").read_bytes()
    assert b"- [[a]]" in after  # the target got its backlinks section, under its own name
    for cache in ("--no-cache", "--cache", "--cache"):  # the last one reads the cache
        again = run_cli("fix", str(root), *([cache] if cache != "--cache" else []))
        assert_clean_exit(again)
        assert again.code == 0, again.err
        assert (root / "Target.md").read_bytes() == after, "a later fix undid it"
    assert (root / "Alias.md").is_symlink()


# --- files deleted or replaced while a run reads the vault --------------------------------

_RACE = """
import os, shutil, sys
from vaultsync.vault import loaded
from vaultsync.cli import main

root = sys.argv[1]
real_read = loaded.read_note

def racing_read(path, max_size, vault_root=None):
    # Between discovery and reading, another program removes or replaces files.
    name = os.path.basename(path)
    if name == "gone.md":
        os.unlink(path)
    elif name == "now-a-folder.md":
        os.unlink(path)
        os.mkdir(path)
    elif name == "now-a-symlink.md":
        os.unlink(path)
        os.symlink("/etc/passwd", path)
    return real_read(path, max_size, vault_root)

loaded.read_note = racing_read
sys.exit(main([sys.argv[2], root, "--no-cache", *sys.argv[3:]]))
"""


@pytest.mark.parametrize("command", ["check", "fix"])
def test_files_deleted_or_replaced_during_a_scan(tmp_path: Path, command: str) -> None:
    root = write_vault(
        tmp_path / "vault",
        {
            ".vaultsync.toml": EVERY_RULE,  # L009 fixes the links
            "Target.md": "# Target\n",
            "fine.md": "[[target]]\n",
            "gone.md": "[[target]]\n",
            "now-a-folder.md": "[[target]]\n",
            "now-a-symlink.md": "[[target]]\n",
        },
    )
    argv = ["--format", "json"] if command == "check" else []
    proc = subprocess.run(
        [sys.executable, "-c", _RACE, str(root), command, *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIME_BOUND,
    )
    run = Run(proc.returncode, proc.stdout, proc.stderr, 0.0, 0.0)
    assert_clean_exit(run)
    assert run.code == 1
    if command == "check":
        found = by_path(json.loads(run.out))
        assert "No such file" in found["gone.md"][0]["message"]
        assert found["now-a-folder.md"][0]["code"] == "V001"
        assert "outside the vault" in found["now-a-symlink.md"][0]["message"]
    else:
        assert (root / "fine.md").read_text(encoding="utf-8") == "[[Target]]\n"
        assert (root / "now-a-folder.md").is_dir()
        assert (root / "now-a-symlink.md").readlink() == Path("/etc/passwd")
        assert not (root / "gone.md").exists()
