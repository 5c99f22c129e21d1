"""Issue 20: every path a person waits on, as a ratio to the regex pass of the same run.

Run with ``.venv/bin/pytest benchmarks/test_paths_bench.py --benchmark-only -p no:randomly``.

One benchmark per row of the issue's table, on the 10,000-note benchmark vault (its
``.vaultsync.toml`` turns backlinks sections on). Every round is a real ``python -m
vaultsync`` process, so start-up and imports are in the figures, as a user sees them.
This machine's speed drifts, so each round's setup also times one regex pass over the
vault (``benchmarks/regex_pass.py``), and ``extra_info`` holds the ratio of the two
medians (``ratio_to_regex_pass``) beside the issue's target for it (``target_ratio``).
A missed target does not fail a benchmark: these are measurements. What does fail one
is a command that did not do its job (exit code, a note changed or not), so that a
broken command cannot look fast.

The benchmarks work on copies of the vault under pytest's tmp folder, never on
``benchmarks/vaults/`` itself. Most start from ``fixed_vault``: a copy on which ``fix``
has converged (every backlinks section written) and a ``check`` has filled the caches,
as a vault looks after a user's first fix.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from benchmarks.regex_pass import note_texts, timed_regex_pass

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTES = 10_000
ROUNDS = 5
SLOW_ROUNDS = 3  # whole-vault fix, first check, daemon start: 5-20 s a round
START_TIMEOUT = 600.0
RSS_TARGET_MB = 300.0

BenchVault = Callable[..., Path]
Stamps = dict[str, tuple[int, int]]


def vaultsync(*args: str, out: Path | None = None) -> int:
    """Run `python -m vaultsync ARGS` (stdout to `out` or nowhere); its exit code."""
    with contextlib.ExitStack() as stack:
        stdout = stack.enter_context(out.open("wb")) if out else subprocess.DEVNULL
        proc = subprocess.run(
            [sys.executable, "-m", "vaultsync", *args], stdout=stdout, cwd=REPO_ROOT, check=False
        )
    return proc.returncode


def note_files(vault: Path) -> list[Path]:
    return sorted(
        p for p in vault.rglob("*.md") if ".obsidian" not in p.parts and ".vaultsync" not in p.parts
    )


def stamps(vault: Path) -> Stamps:
    """Every note's (mtime_ns, size): what a write would change."""
    result: Stamps = {}
    for p in note_files(vault):
        st = p.stat()
        result[p.relative_to(vault).as_posix()] = (st.st_mtime_ns, st.st_size)
    return result


def contents(vault: Path) -> dict[str, bytes]:
    return {p.relative_to(vault).as_posix(): p.read_bytes() for p in note_files(vault)}


def fresh_copy(source: Path, target: Path) -> Path:
    """A copy of `source` at `target` (replacing it) without vaultsync's caches, flushed
    to disk so that the next timed process does not pay for the copy's writeback."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".vaultsync"))
    os.sync()
    return target


@pytest.fixture(scope="module")
def regex_texts(bench_vault: BenchVault) -> list[str]:
    """The regex pass's input: the generated vault's texts, as the baseline reads them."""
    return note_texts(bench_vault(NOTES))


@pytest.fixture(scope="module")
def fixed_vault(bench_vault: BenchVault, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the 10k vault on which `fix` converged and a `check` filled the caches."""
    vault = fresh_copy(bench_vault(NOTES), tmp_path_factory.mktemp("fixed") / "vault")
    assert vaultsync("fix", str(vault), "--exit-zero", "-q") == 0
    before = stamps(vault)
    assert vaultsync("fix", str(vault), "--exit-zero", "-q") == 0
    assert stamps(vault) == before, "fix did not converge in one run"
    assert vaultsync("check", str(vault), "--exit-zero", "-q") == 0
    os.sync()  # the ~90 MB of caches, written out before anything is timed
    return vault


@dataclass
class Paired:
    """A benchmark whose every round is preceded by one timed regex pass (untimed by
    pytest-benchmark), so that its median and the pass's come from the same minutes."""

    benchmark: BenchmarkFixture
    texts: list[str]
    group: str
    target_ratio: float | None
    regex_s: list[float] = field(default_factory=list)

    def run(
        self,
        target: Callable[[], object],
        setup: Callable[[], None] | None = None,
        teardown: Callable[[], None] | None = None,
        rounds: int = ROUNDS,
    ) -> float:
        def paired_setup() -> None:
            self.regex_s.append(timed_regex_pass(self.texts))
            if setup is not None:
                setup()

        self.benchmark.pedantic(  # type: ignore[no-untyped-call]
            target, setup=paired_setup, teardown=teardown, rounds=rounds, iterations=1
        )
        stats = self.benchmark.stats
        assert stats is not None
        median = float(stats.stats.median)
        regex = statistics.median(self.regex_s)
        info = self.benchmark.extra_info
        self.benchmark.group = self.group
        info["notes"] = NOTES
        info["median_s"] = round(median, 3)
        info["regex_pass_median_s"] = round(regex, 3)
        info["regex_pass_s"] = [round(s, 3) for s in self.regex_s]
        info["ratio_to_regex_pass"] = round(median / regex, 2)
        info["target_ratio"] = self.target_ratio
        return median


@pytest.fixture
def paired(benchmark: BenchmarkFixture, regex_texts: list[str]) -> Callable[..., Paired]:
    def make(group: str, target_ratio: float | None) -> Paired:
        return Paired(benchmark, regex_texts, group, target_ratio)

    return make


@dataclass
class EditedNote:
    """A root note of the fixed vault and a note it does not link to yet (`target`)."""

    vault: Path
    note: Path
    target: Path
    original: bytes
    target_original: bytes

    @property
    def link(self) -> str:
        """How `target`'s backlinks section lists `note`."""
        return f"[[{self.note.stem}]]"

    def write_edit(self, line: str) -> None:
        """The original note with `line` typed in before its generated section."""
        text = self.original.decode("utf-8")
        at = text.find("<!-- vaultsync:begin")
        at = len(text) if at < 0 else at
        self.note.write_bytes(f"{text[:at]}{line}\n\n{text[at:]}".encode())

    def restore(self) -> None:
        """The note as it was, and `fix NOTE` to take it back out of the target's section."""
        self.note.write_bytes(self.original)
        assert vaultsync("fix", str(self.note), "--exit-zero", "-q") == 0
        assert self.target.read_bytes() == self.target_original


@pytest.fixture
def edited_note(fixed_vault: Path) -> Iterator[EditedNote]:
    notes = sorted(fixed_vault.glob("*.md"))
    note = notes[0]
    text = note.read_text(encoding="utf-8")
    target = next(
        t
        for t in notes[1:]
        if f"[[{t.stem}" not in text and f"[[{note.stem}]]" not in t.read_text(encoding="utf-8")
    )
    edited = EditedNote(fixed_vault, note, target, note.read_bytes(), target.read_bytes())
    try:
        yield edited
    finally:
        edited.restore()


def test_fix_note_after_editing_it(paired: Callable[..., Paired], edited_note: EditedNote) -> None:
    """The pre-commit `vaultsync-fix` hook after one note gained a link: `fix NOTE` must
    write the linked note's backlinks section. Each round starts from the converged
    vault (restored and fixed back, untimed), then types the same link."""
    e = edited_note
    line = f"See [[{e.target.stem}]]."

    def setup() -> None:
        e.restore()
        e.write_edit(line)

    def once() -> None:
        assert vaultsync("fix", str(e.note), "--exit-zero", "-q") == 0

    def teardown() -> None:
        assert e.link in e.target.read_text(encoding="utf-8"), "the section was not written"

    setup()  # a first run, untimed: its one-off costs (a stale cache) are not the hook's
    once()
    paired("fix NOTE after editing it", 0.6).run(once, setup=setup, teardown=teardown)


def test_fix_note_nothing_to_do(paired: Callable[..., Paired], edited_note: EditedNote) -> None:
    """`fix NOTE` of a note of the converged vault: writes nothing.

    The issue sets no target of its own for this row; 0.6 is its `fix` with nothing to
    do, which this can only be cheaper than."""
    note = str(edited_note.note)
    assert vaultsync("fix", note, "--exit-zero", "-q") == 0
    before = stamps(edited_note.vault)

    def once() -> None:
        assert vaultsync("fix", note, "--exit-zero", "-q") == 0

    def teardown() -> None:
        assert stamps(edited_note.vault) == before, "fix NOTE wrote with nothing to do"

    paired("fix NOTE, nothing to do", 0.6).run(once, teardown=teardown)


def test_fix_vault_nothing_to_do(paired: Callable[..., Paired], fixed_vault: Path) -> None:
    """`fix` of the converged vault, as a user running fix twice: writes nothing."""
    assert vaultsync("fix", str(fixed_vault), "--exit-zero", "-q") == 0
    before = stamps(fixed_vault)

    def once() -> None:
        assert vaultsync("fix", str(fixed_vault), "--exit-zero", "-q") == 0

    def teardown() -> None:
        assert stamps(fixed_vault) == before, "fix wrote with nothing to do"

    paired("fix of the vault, nothing to do", 0.6).run(once, teardown=teardown)


def test_fix_vault_right_after_a_first_fix(
    paired: Callable[..., Paired], bench_vault: BenchVault, tmp_path: Path
) -> None:
    """`fix` of the vault straight after its first fix, with no `check` in between (a
    user running fix twice): each round's setup, untimed, makes a fresh copy of the
    generated vault and fixes it; the timed second fix must write nothing."""
    source = bench_vault(NOTES)
    work = tmp_path / "twice"
    before: dict[str, tuple[int, int]] = {}

    def setup() -> None:
        fresh_copy(source, work)
        assert vaultsync("fix", str(work), "--exit-zero", "-q") == 0
        before.clear()
        before.update(stamps(work))

    def once() -> None:
        assert vaultsync("fix", str(work), "--exit-zero", "-q") == 0

    def teardown() -> None:
        assert stamps(work) == before, "the second fix wrote"

    paired("fix of the vault right after a first fix", 0.6).run(
        once, setup=setup, teardown=teardown, rounds=SLOW_ROUNDS
    )


def atomic_rewrite(vault: Path, changed: dict[str, bytes]) -> None:
    """The bare floor under `fix`'s writes, without vaultsync: a temp file beside each
    changed note, made durable as vaultsync's writer makes a batch (one sync() for all
    temp files rather than an fsync each, which it only does for fewer than 16), then
    `os.replace`, then one fsync per folder."""
    staged: list[tuple[str, Path]] = []
    for i, (rel, data) in enumerate(changed.items()):
        note = vault / rel
        temp = str(note.parent / f".bench-tmp-{i}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        staged.append((temp, note))
    os.sync()
    folders: set[Path] = set()
    for temp, note in staged:
        os.replace(temp, note)
        folders.add(note.parent)
    for folder in sorted(folders):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def test_fix_whole_vault(
    paired: Callable[..., Paired], bench_vault: BenchVault, tmp_path: Path
) -> None:
    """A first `fix` of the generated vault (no cache yet; sections on), on a fresh copy
    each round, beside the issue's reference measured in the same run: a `check
    --no-cache` process plus a bare atomic rewrite of the notes that fix changes, with
    the bytes fix wrote. The reference for round k runs in round k+1's setup (and once
    after the last), on a fresh copy of its own."""
    source = bench_vault(NOTES)
    original = contents(source)
    work = tmp_path / "fix"
    ref = tmp_path / "reference"
    results: list[str] = []
    changed: dict[str, bytes] = {}
    reference_s: list[float] = []

    def run_reference() -> None:
        vault = fresh_copy(source, ref)
        start = time.perf_counter()
        code = vaultsync("check", str(vault), "--no-cache", "--exit-zero", "-q")
        atomic_rewrite(vault, changed)
        reference_s.append(time.perf_counter() - start)
        assert code == 0
        shutil.rmtree(vault)

    def setup() -> None:
        if changed:
            run_reference()
        fresh_copy(source, work)

    def once() -> None:
        assert vaultsync("fix", str(work), "--exit-zero", "-q") == 0

    def teardown() -> None:
        after = contents(work)
        assert after.keys() == original.keys(), "fix added or removed notes"
        now = {rel: data for rel, data in after.items() if data != original[rel]}
        assert len(now) > NOTES // 2, f"fix changed only {len(now)} notes"
        results.append(hashlib.sha256(repr(sorted(now.items())).encode()).hexdigest())
        changed.clear()
        changed.update(now)

    p = paired("fix of the whole vault (first fix)", None)
    median = p.run(once, setup=setup, teardown=teardown, rounds=SLOW_ROUNDS)
    run_reference()
    assert len(set(results)) == 1, "fix wrote different notes in different rounds"
    reference = statistics.median(reference_s)
    info = p.benchmark.extra_info
    info["notes_changed"] = len(changed)
    info["reference_s"] = [round(s, 3) for s in reference_s]
    info["reference_median_s"] = round(reference, 3)
    info["ratio_to_reference"] = round(median / reference, 2)
    info["target_ratio_to_reference"] = 1.25


def test_graph_json_warm(paired: Callable[..., Paired], fixed_vault: Path, tmp_path: Path) -> None:
    """`graph --format json` with the caches warm, as scripts and the plugin run it."""
    out = tmp_path / "graph.json"
    assert vaultsync("graph", str(fixed_vault), "--format", "json", "-q", out=out) == 0

    def once() -> None:
        out.unlink()
        assert vaultsync("graph", str(fixed_vault), "--format", "json", "-q", out=out) == 0

    def teardown() -> None:
        assert out.stat().st_size > 10_000_000, "graph printed too little"

    paired("graph --format json, warm", 0.6).run(once, teardown=teardown)
    graph = json.loads(out.read_text(encoding="utf-8"))
    assert len(graph["notes"]) == NOTES
    assert len(graph["links"]) > 100_000


def _check_json(out: Path) -> dict[str, object]:
    report: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    assert report["notes"] == NOTES
    return report


def test_check_json_warm(paired: Callable[..., Paired], fixed_vault: Path, tmp_path: Path) -> None:
    """`check --format json`, nothing changed (the issue's first "Done when" target)."""
    out = tmp_path / "report.json"
    args = ("check", str(fixed_vault), "--format", "json", "--exit-zero", "-q")
    assert vaultsync(*args, out=out) == 0
    expected = out.read_bytes()

    def once() -> None:
        assert vaultsync(*args, out=out) == 0

    def teardown() -> None:
        assert out.read_bytes() == expected, "a warm check reported something else"

    paired("check --format json, warm", 0.45).run(once, teardown=teardown)
    _check_json(out)


@pytest.mark.parametrize(
    ("fmt", "target_ratio"), [("json", 0.6), ("text", None)], ids=["json", "text"]
)
def test_check_after_one_edit(
    paired: Callable[..., Paired],
    edited_note: EditedNote,
    tmp_path: Path,
    fmt: str,
    target_ratio: float | None,
) -> None:
    """`check --format FMT` of the vault after one note gained a broken link. Each round
    types a new one into the original note, so each finds exactly one note changed
    since the previous check's snapshot. Text has no target: it is the comparison."""
    e = edited_note
    out = tmp_path / f"report.{fmt}"
    args = ("check", str(e.vault), "--format", fmt, "--exit-zero", "-q")
    assert vaultsync(*args, out=out) == 0  # the snapshot the rounds start from
    os.sync()
    edits = iter(range(1_000))
    current: list[str] = []

    def setup() -> None:
        link = f"Edited link {next(edits)}"
        current[:] = [link]
        e.write_edit(f"See [[{link}]].")

    def once() -> None:
        assert vaultsync(*args, out=out) == 0

    def teardown() -> None:
        report = out.read_text(encoding="utf-8")
        assert f'"{current[0]}"' in report, "the edit's broken link was not reported"

    paired(f"check --format {fmt} after one edit", target_ratio).run(
        once, setup=setup, teardown=teardown
    )
    if fmt == "json":
        _check_json(out)
    e.note.write_bytes(e.original)


def test_first_check_json(
    paired: Callable[..., Paired], bench_vault: BenchVault, tmp_path: Path
) -> None:
    """The first `check --format json` of the generated vault: no cache yet, so it also
    writes the parse cache, results and snapshot (a first run, CI without a cache)."""
    vault = fresh_copy(bench_vault(NOTES), tmp_path / "vault")
    cache = vault / ".vaultsync"
    out = tmp_path / "report.json"

    def setup() -> None:
        if cache.exists():
            shutil.rmtree(cache)
        os.sync()  # the last round's caches written out, outside the timing

    def once() -> None:
        assert vaultsync("check", str(vault), "--format", "json", "--exit-zero", out=out) == 0

    def teardown() -> None:
        assert (cache / "cache").is_dir(), "the first check wrote no cache"
        summary = _check_json(out)["summary"]
        assert isinstance(summary, dict)
        assert summary["warning"] > 10_000

    paired("first check (no cache), JSON", 3.5).run(
        once, setup=setup, teardown=teardown, rounds=SLOW_ROUNDS
    )


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_watch_start_known_vault(
    paired: Callable[..., Paired], fixed_vault: Path, tmp_path: Path
) -> None:
    """`vaultsync watch` on the converged vault whose caches a check filled: from the
    process's start until `.vaultsync/daemon.json` names it (its API listens), then
    SIGTERM. The daemon's RSS at that moment is the issue's memory figure (< 300 MB)."""
    info = fixed_vault / ".vaultsync" / "daemon.json"
    log = tmp_path / "daemon.log"
    procs: list[subprocess.Popen[bytes]] = []
    rss: list[float] = []
    before = stamps(fixed_vault)

    def once() -> None:
        with log.open("ab") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "vaultsync", "watch", str(fixed_vault), "-q"],
                cwd=REPO_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        procs.append(proc)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with contextlib.suppress(OSError, ValueError, KeyError):
                if json.loads(info.read_text(encoding="utf-8"))["pid"] == proc.pid:
                    break
            if proc.poll() is not None:
                raise AssertionError(f"daemon exited: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise AssertionError("daemon did not start")
            time.sleep(0.01)

    def teardown() -> None:
        proc = procs[-1]
        rss.append(_rss_mb(proc.pid))
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
            raise AssertionError("the daemon did not stop on SIGTERM") from None
        assert code == 0, f"daemon exit code {code}: {log.read_text()[-2000:]}"
        assert not info.exists(), "the daemon left daemon.json behind"
        assert stamps(fixed_vault) == before, "the daemon wrote to a converged vault"

    try:
        once()  # a first start, untimed: whatever caches the daemon leaves, it left them
        teardown()
        rss.clear()
        p = paired("watch start, vault the cache knows", 1.0)
        p.run(once, teardown=teardown, rounds=SLOW_ROUNDS)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
    info_ = p.benchmark.extra_info
    info_["rss_after_indexing_mb"] = [round(r, 1) for r in rss]
    info_["rss_after_indexing_median_mb"] = round(statistics.median(rss), 1)
    info_["rss_target_mb"] = RSS_TARGET_MB
