"""The persistent parse cache: reused when files are unchanged, never trusted otherwise."""

from __future__ import annotations

import json
import os
import pickle
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_vault
from vaultsync.cli import main
from vaultsync.io import statefile, writer

CACHE_FILE = Path(".vaultsync/cache/notes.pickle")


def _vault(tmp_path: Path) -> Path:
    return write_vault(
        tmp_path / "vault",
        {
            "Alpha.md": "---\ntags: [a]\n---\nSee [[Beta]] and [[missing one]].\n",
            "Beta.md": "# Beta\nBack to [[Alpha]].\n",
            "sub/Gamma.md": "[[alpha]] and ![[pic.png]]\n",
        },
    )


def _check_json(vault: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object]:
    capsys.readouterr()
    main(["check", str(vault), "--format", "json", "--exit-zero", *extra])
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    return document


def read_cache(path: Path) -> tuple[dict[str, Any], bytes]:
    """The parse cache's index and the rows' bytes that follow it."""
    with open(path, "rb") as handle:
        document = pickle.Unpickler(handle).load()
        return document, handle.read()


def write_cache(path: Path, document: dict[str, Any], tail: bytes) -> None:
    path.write_bytes(pickle.dumps(document) + tail)


def replace_row(path: Path, note: str, blob: bytes) -> None:
    """Make `note`'s row in the parse cache hold `blob` (its size and mtime kept)."""
    document, tail = read_cache(path)
    size, mtime, digest, _offset, _length = document["rows"][note]
    document["rows"][note] = (size, mtime, digest, len(tail), len(blob))
    write_cache(path, document, tail + blob)


def row_blob(path: Path, note: str) -> bytes:
    document, tail = read_cache(path)
    _size, _mtime, _digest, offset, length = document["rows"][note]
    return tail[offset : offset + length]


def _age_cache(vault: Path) -> None:
    """Pretend the cache was written long after the files' mtimes (no racy entries)."""
    path = vault / CACHE_FILE
    document, tail = read_cache(path)
    document["written_at"] = time.time() + 60
    write_cache(path, document, tail)


def test_warm_run_reuses_cached_notes_and_gives_the_same_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = _vault(tmp_path)
    cold = _check_json(vault, capsys)
    assert (vault / CACHE_FILE).is_file()
    _age_cache(vault)
    parsed: list[str] = []
    from vaultsync.lint import engine

    real = engine.read_entry
    monkeypatch.setattr(
        engine, "read_entry", lambda root, f, m: parsed.append(f.path) or real(root, f, m)
    )
    warm = _check_json(vault, capsys)
    assert warm == cold
    assert parsed == []  # nothing was read again


def test_a_racy_edit_is_caught_by_the_content_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = _vault(tmp_path)
    _check_json(vault, capsys)  # cache written within the same second as the files
    note = vault / "Beta.md"
    stat = note.stat()
    note.write_text("# Beta\nBack to [[Alphx]].\n", encoding="utf-8")  # same size
    os.utime(note, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    document = _check_json(vault, capsys)
    targets = {d["data"].get("target") for d in document["diagnostics"]}  # type: ignore[attr-defined]
    assert "Alphx" in targets


def test_size_or_mtime_change_is_reparsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = _vault(tmp_path)
    _check_json(vault, capsys)
    _age_cache(vault)
    (vault / "Beta.md").write_text("# Beta\nNow [[Nowhere]].\n", encoding="utf-8")
    document = _check_json(vault, capsys)
    targets = {d["data"].get("target") for d in document["diagnostics"]}  # type: ignore[attr-defined]
    assert "Nowhere" in targets


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b"\x00garbage\xff" * 100, id="garbage"),
        pytest.param(lambda b: b"", id="empty"),
        pytest.param(
            lambda b: pickle.dumps(
                {"stamp": ("0.0.1", 0, (3, 11), 1), "written_at": 0, "rows": {}}
            ),
            id="older-version",
        ),
        pytest.param(lambda b: pickle.dumps(["not", "a", "dict"]), id="wrong-shape"),
        pytest.param(
            lambda b: pickle.dumps(
                {
                    "stamp": pickle.loads(b)["stamp"],
                    "written_at": time.time() + 60,
                    "rows": {"Beta.md": ("x", "y")},
                }
            ),
            id="bad-rows",
        ),
    ],
)
def test_a_damaged_cache_is_ignored_and_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: object
) -> None:
    vault = _vault(tmp_path)
    expected = _check_json(vault, capsys, "--no-cache")
    _check_json(vault, capsys)
    path = vault / CACHE_FILE
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert _check_json(vault, capsys) == expected
    # ...and the next run rewrote a usable cache.
    assert _check_json(vault, capsys) == expected


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch pwned",))


def test_a_crafted_cache_cannot_run_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = _vault(tmp_path)
    expected = _check_json(vault, capsys, "--no-cache")
    (vault / CACHE_FILE).parent.mkdir(parents=True, exist_ok=True)
    (vault / CACHE_FILE).write_bytes(pickle.dumps({"stamp": _Exploit()}))
    monkeypatch.chdir(tmp_path)
    assert _check_json(vault, capsys) == expected
    assert not (tmp_path / "pwned").exists()


def test_no_cache_neither_reads_nor_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = _vault(tmp_path)
    _check_json(vault, capsys, "--no-cache")
    assert not (vault / ".vaultsync").exists()


def test_cache_folder_ignores_itself_for_git(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = _vault(tmp_path)
    _check_json(vault, capsys)
    assert (vault / ".vaultsync" / ".gitignore").read_text(encoding="utf-8").strip().endswith("*")


def test_read_only_vault_is_checked_without_a_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = _vault(tmp_path)
    expected = _check_json(vault, capsys, "--no-cache")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(writer.tempfile, "mkstemp", refuse)  # every state file goes through it
    assert _check_json(vault, capsys) == expected
    assert not (vault / CACHE_FILE).exists()


def test_pool_and_serial_parsing_agree(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    forks: list[int],
) -> None:
    files = {
        f"f{i % 7}/Note {i}.md": (
            f"# Note {i}\n[[Note {(i * 7) % 500}]] [[note_{i % 13}]] #t{i % 5}\n"
        )
        for i in range(500)
    }
    vault = write_vault(tmp_path / "big", files)
    monkeypatch.setenv("VAULTSYNC_JOBS", "1")
    serial = _check_json(vault, capsys, "--no-cache")
    monkeypatch.setenv("VAULTSYNC_JOBS", "2")
    pooled = _check_json(vault, capsys, "--no-cache")
    assert len(forks) == 1  # parsed in this process and one forked child
    assert pooled == serial
    assert len(serial["diagnostics"]) > 0  # type: ignore[arg-type]


def _age_files(vault: Path, seconds: float = 3600) -> None:
    """Make every file look older than the racy window, as in a vault at rest."""
    past = time.time() - seconds
    for path in vault.rglob("*"):
        if path.is_file() and ".vaultsync" not in path.parts:
            os.utime(path, (past, past))


def test_unchanged_vault_is_answered_from_the_results_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = _vault(tmp_path)
    _age_files(vault)
    first = _check_json(vault, capsys)
    assert (vault / ".vaultsync/cache/results.pickle").is_file()
    from vaultsync.lint import engine

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the vault was indexed again")

    monkeypatch.setattr(engine, "load", no_load)
    assert _check_json(vault, capsys) == first


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda v: (v / "Beta.md").write_text("[[Nowhere]]\n"), id="note-edited"),
        pytest.param(lambda v: (v / "New.md").write_text("[[Nowhere]]\n"), id="note-added"),
        pytest.param(lambda v: (v / "Beta.md").unlink(), id="note-deleted"),
        pytest.param(lambda v: (v / "pic.png").write_bytes(b"\x89PNG"), id="attachment-added"),
        pytest.param(
            lambda v: (v / ".vaultsync.toml").write_text('ignore = ["L001"]\n'), id="config"
        ),
        pytest.param(
            lambda v: (v / ".obsidian/types.json").write_text('{"types": {"tags": "text"}}'),
            id="obsidian-types",
        ),
    ],
)
def test_any_change_invalidates_the_results_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: object
) -> None:
    vault = _vault(tmp_path)
    _age_files(vault)
    _check_json(vault, capsys)
    change(vault)  # type: ignore[operator]
    expected = _check_json(vault, capsys, "--no-cache")
    assert _check_json(vault, capsys) == expected


def test_selection_is_part_of_the_results_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = _vault(tmp_path)
    _age_files(vault)
    everything = _check_json(vault, capsys)
    only_l001 = _check_json(vault, capsys, "--select", "L001")
    assert {d["code"] for d in only_l001["diagnostics"]} == {"L001"}  # type: ignore[index]
    assert _check_json(vault, capsys) == everything


REPORT_FILE = Path(".vaultsync/cache/report.pickle")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif"])
def test_unchanged_vault_is_answered_with_the_report_already_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    vault = _vault(tmp_path)
    _age_files(vault)
    fresh = _run(capsys, "check", "--format", fmt, str(vault), "--no-cache")
    assert _run(capsys, "check", "--format", fmt, str(vault)) == fresh
    assert (vault / REPORT_FILE).is_file()
    from vaultsync.lint import results
    from vaultsync.output import report

    def no_rebuild(*args: object, **kwargs: object) -> None:
        raise AssertionError("diagnostics were rebuilt or rendered again")

    monkeypatch.setattr(results, "rebuild", no_rebuild)
    monkeypatch.setattr(report, "write_text", no_rebuild)
    monkeypatch.setattr(report, "write_json", no_rebuild)
    assert _run(capsys, "check", "--format", fmt, str(vault)) == fresh
    assert fresh[0] == 1
    assert _run(capsys, "check", "--format", fmt, str(vault), "--exit-zero") == (0, fresh[1])


def test_each_rendering_is_kept_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vault = _vault(tmp_path)
    _age_files(vault)
    runs = [("--format", "text"), ("--format", "json"), ("-q",), ("--statistics",)]
    fresh = [_run(capsys, "check", str(vault), "--no-cache", *r) for r in runs]
    assert len({out for _, out in fresh}) == len(runs)
    for _ in range(2):  # made and cached, then (as far as still kept) answered from it
        assert [_run(capsys, "check", str(vault), *r) for r in runs] == fresh


def test_a_baseline_report_is_always_made_afresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vault = _vault(tmp_path)
    _age_files(vault)
    baseline = tmp_path / "baseline.json"
    assert _run(capsys, "check", str(vault), "--write-baseline", str(baseline))[0] == 0
    code, out = _run(capsys, "check", str(vault), "--baseline", str(baseline))
    assert code == 0 and "hidden by the baseline" in out
    baseline.write_text(json.dumps({"version": 1, "problems": []}), encoding="utf-8")
    code, out = _run(capsys, "check", str(vault), "--baseline", str(baseline))
    assert code == 1 and "L001" in out


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"\x80\x05garbage" * 10, id="garbage"),
        pytest.param(
            # the right key ahead of a document of the wrong shape
            lambda data: pickle.dumps(pickle.loads(data)) + pickle.dumps({"renders": {"x": 1}}),
            id="foreign-shape",
        ),
    ],
)
def test_a_damaged_report_cache_is_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: object
) -> None:
    vault = _vault(tmp_path)
    _age_files(vault)
    fresh = _run(capsys, "check", str(vault), "--no-cache")
    _run(capsys, "check", str(vault))
    path = vault / REPORT_FILE
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert _run(capsys, "check", str(vault)) == fresh
    assert _run(capsys, "check", str(vault)) == fresh


def test_a_symlinked_note_is_linted_neither_cold_nor_warm(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A note read through a symlink is indexed but not linted (only its real name is). The
    # cache must not remember it, or the warm run would lint it: the last note in the
    # vault being excluded by the config once made the cache keep it.
    vault = write_vault(
        tmp_path / "vault",
        {
            "real.md": "[[gone]]\n",
            "other.md": "[[real]]\n",
            "zz/last.md": "[[also gone]]\n",
            ".vaultsync.toml": 'exclude = ["zz/**"]\n',
        },
    )
    (vault / "alias.md").symlink_to(vault / "real.md")
    _age_files(vault)
    cold = _check_json(vault, capsys)
    _age_cache(vault)
    (vault / "other.md").write_text("[[real]] [[nowhere]]\n", encoding="utf-8")
    warm = _check_json(vault, capsys)  # other.md is parsed again, the rest comes cached
    assert {d["path"] for d in cold["diagnostics"]} == {"real.md"}  # type: ignore[index, union-attr]
    assert {d["path"] for d in warm["diagnostics"]} == {"real.md", "other.md"}  # type: ignore[index, union-attr]


@pytest.mark.parametrize(
    "blob",
    [
        pytest.param(b"garbage", id="garbage"),
        pytest.param(pickle.dumps(("Beta.md", "not", "a", "note")), id="another-note"),
        pytest.param(pickle.dumps(os.system), id="code"),
    ],
)
def test_a_damaged_note_in_the_cache_is_parsed_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], blob: bytes
) -> None:
    vault = _vault(tmp_path)
    _age_files(vault)
    fresh = _check_json(vault, capsys, "--no-cache")
    _check_json(vault, capsys)
    path = vault / CACHE_FILE
    replace_row(path, "Alpha.md", blob)
    # Without the results, the report and the snapshot, the notes must be loaded again.
    for results in ("results.pickle", "report.pickle", "snapshot.pickle"):
        (vault / ".vaultsync/cache" / results).unlink()
    assert _check_json(vault, capsys) == fresh
    assert row_blob(path, "Alpha.md") != blob  # parsed again and stored afresh


def test_a_new_format_is_rendered_from_the_cached_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = _vault(tmp_path)
    _age_files(vault)
    _run(capsys, "check", "--format", "text", str(vault))  # stores the results
    fresh = _run(capsys, "check", "--format", "json", str(vault), "--no-cache")
    from vaultsync.lint import engine

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the vault was indexed again")

    monkeypatch.setattr(engine, "load", no_load)
    assert _run(capsys, "check", "--format", "json", str(vault)) == fresh


def test_a_keyed_state_file_keeps_shared_values_apart(tmp_path: Path) -> None:
    # The key and the document are two pickles; read with one unpickler, the document's
    # back-references landed one object off (a path became another string).
    shared = ("Note.md", "L001")
    document = {"rows": [shared, shared, ("Other.md", "L002")], "count": 3}
    path = tmp_path / "state.pickle"
    assert statefile.save(path, document, key=("key", 1))
    assert statefile.load(path, frozenset(), key=("key", 1)) == document
    assert statefile.load(path, frozenset(), key=("other", 1)) is None


_IMPORT_PROBE = (
    "import sys\n"
    "from vaultsync.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "loaded = {'yaml', 'vaultsync.parse.scanner', 'vaultsync.lint.engine'} & set(sys.modules)\n"
    "print(code, sorted(loaded), file=sys.stderr)\n"
)


def _check_imports(vault: Path) -> str:
    """`check VAULT -q` in a fresh interpreter: its exit code and which of pyyaml, the
    parser and the engine it imported."""
    import subprocess
    import sys

    from tests.conftest import REPO

    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, "check", str(vault), "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stderr.strip().splitlines()[-1]


def test_an_unchanged_vault_is_answered_without_loading_yaml_or_the_parser(
    tmp_path: Path,
) -> None:
    # Start-up is most of a warm run: what it does not import, it does not pay for.
    vault = _vault(tmp_path)
    _age_files(vault)
    # Indexed. Every block is in the plain subset, which is read without pyyaml.
    assert _check_imports(vault) == "1 ['vaultsync.lint.engine', 'vaultsync.parse.scanner']"
    assert _check_imports(vault) == "1 []"  # answered from the cache


def test_pyyaml_is_loaded_for_a_block_outside_the_plain_subset(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    (vault / "Beta.md").write_text("---\nauthor:\n  name: Ann\n---\n# Beta\n", encoding="utf-8")
    _age_files(vault)
    assert _check_imports(vault) == "1 ['vaultsync.lint.engine', 'vaultsync.parse.scanner', 'yaml']"
    # An edit whose block is plain again is checked from the snapshot without it.
    (vault / "Alpha.md").write_text("---\ntags: [b]\n---\nSee [[Beta]].\n", encoding="utf-8")
    assert _check_imports(vault) == "1 ['vaultsync.lint.engine', 'vaultsync.parse.scanner']"


@pytest.mark.parametrize("form", ["json", "dot"])
def test_an_unchanged_vault_gets_its_graph_from_the_cache(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    vault = _vault(tmp_path)
    _age_files(vault)
    checked = _run(capsys, "check", str(vault))  # keeps check's report
    fresh = _run(capsys, "graph", str(vault), "--format", form, "--no-cache")
    assert not (vault / ".vaultsync/cache/graph.pickle").exists()  # --no-cache keeps none
    assert _run(capsys, "graph", str(vault), "--format", form) == fresh  # made, and kept
    from vaultsync.lint import engine

    real_load = engine.load

    def no_load(*args: object, **kwargs: object) -> None:
        raise AssertionError("the vault was indexed again")

    monkeypatch.setattr(engine, "load", no_load)
    assert _run(capsys, "graph", str(vault), "--format", form) == fresh
    # Check's report is kept apart: the graph did not replace it, nothing is indexed.
    assert _run(capsys, "check", str(vault)) == checked
    # An edit is seen: the graph is made again, with the new link in it.
    monkeypatch.setattr(engine, "load", real_load)
    (vault / "Beta.md").write_text("# Beta\nBack to [[Alpha]] and [[Gamma]].\n", encoding="utf-8")
    _age_files(vault)
    code, edited = _run(capsys, "graph", str(vault), "--format", form)
    assert code == 0 and edited != fresh[1] and "Gamma" in edited
    assert (code, edited) == _run(capsys, "graph", str(vault), "--format", form, "--no-cache")
