"""Small things a new user hit on a first run (issue 17, item 10): the statistics table,
the README's sample output, a full disk, help texts, daemon logs, very long links."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.conftest import REPO, SEEDS, write_vault
from vaultsync.output.report import shown_paths

Cap = pytest.CaptureFixture[str]


# --- `--statistics` prints the table and nothing else (as ruff does) -------------------------


def test_fix_statistics_prints_only_the_table_of_what_is_left(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v", {"Note.md": "", "x.md": "[[gone]] [[gone2]] [[note_]] [[Note]]\n"}
    )
    code, out, err = run_cli(capsys, "fix", str(root), "--select", "L001,L002", "--statistics")
    assert (code, err) == (1, "")
    assert out == "    2\tL001\t    broken-link\n"  # no "Fixed …" lines, no diagnostics
    assert (root / "x.md").read_text(encoding="utf-8") == "[[gone]] [[gone2]] [[Note]] [[Note]]\n"


def test_statistics_of_a_clean_vault_is_empty(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", {"a.md": "[[a]]\n"})
    assert run_cli(capsys, "check", str(root), "--select", "L", "--statistics") == (0, "", "")


@pytest.mark.parametrize("fmt", ["json", "github", "sarif"])
@pytest.mark.parametrize("command", ["check", "fix"])
def test_statistics_with_another_format_is_a_one_line_error(
    tmp_path: Path, capsys: Cap, command: str, fmt: str
) -> None:
    root = write_vault(tmp_path / "v", {"a.md": "[[gone]]\n"})
    before = (root / "a.md").read_bytes()
    code, out, err = run_cli(capsys, command, str(root), "--statistics", "--format", fmt)
    assert (code, out) == (2, "")
    assert err == (
        f"vaultsync: error: --statistics prints a text table; it does not combine with "
        f"--format {fmt}\n"
    )
    assert (root / "a.md").read_bytes() == before


# --- help texts say what each option does for that command -----------------------------------


def option_help(capsys: Cap, command: str, option: str) -> str:
    """The help text of `option` in `vaultsync COMMAND --help`, on one line."""
    code, out, _ = run_cli(capsys, command, "--help")
    assert code == 0
    found: list[str] = []
    for line in out.splitlines():
        if found and line.startswith(" " * 6) and not line.lstrip().startswith("-"):
            found.append(line.strip())  # a wrapped continuation
        elif found:
            break
        elif line.lstrip().startswith(option):
            found.append(line.strip())
    assert found, f"{option} is not in `vaultsync {command} --help`"
    return " ".join(" ".join(found).split())


@pytest.mark.parametrize(
    ("command", "option", "expected"),
    [
        ("check", "-q, --quiet", "-q, --quiet print diagnostics only"),
        ("graph", "-q, --quiet", "-q, --quiet no progress bar, only the graph"),
        (
            "mv",
            "-q, --quiet",
            "-q, --quiet no progress bar and no summary line (warnings still go to stderr)",
        ),
        (
            "watch",
            "-q, --quiet",
            "-q, --quiet no status lines on stdout (warnings and errors still go to stderr)",
        ),
        (
            "graph",
            "--format",
            "--format {json,dot} json: notes, attachments and links (default); "
            "dot: a drawing for Graphviz",
        ),
    ],
)
def test_help_says_what_an_option_does_for_that_command(
    capsys: Cap, command: str, option: str, expected: str
) -> None:
    assert option_help(capsys, command, option) == expected


def test_graph_quiet_prints_the_same_graph(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", {"a.md": "[[b]]\n", "b.md": "[[a]]\n"})
    plain = run_cli(capsys, "graph", str(root), "--no-cache")
    assert plain[0] == 0 and '"target": "b"' in plain[1]
    assert run_cli(capsys, "graph", str(root), "--no-cache", "-q") == plain


# --- the README's sample output is what `vaultsync check seeds` prints -----------------------

SAMPLE_HEADING = "Sample output of command 1"


def readme_sample() -> list[list[str]]:
    """The README's sample block after SAMPLE_HEADING, as runs of lines between `...`."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert SAMPLE_HEADING in text, f"README.md has no {SAMPLE_HEADING!r}"
    lines = iter(text.split(SAMPLE_HEADING, 1)[1].splitlines())
    for line in lines:
        if line.startswith("```"):
            break
    runs: list[list[str]] = [[]]
    for line in lines:
        if line.startswith("```"):
            return runs
        if line == "...":
            runs.append([])
        else:
            runs[-1].append(line)
    raise AssertionError("the README's sample block is not closed")


def test_the_readme_sample_output_is_what_check_seeds_prints(
    seeds_copy: Path,
) -> None:
    # README command 1, run the way it is written: `vaultsync check seeds`.
    result = subprocess.run(
        [sys.executable, "-m", "vaultsync", "check", "seeds"],
        capture_output=True,
        text=True,
        cwd=seeds_copy.parent,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert result.returncode == 1, result.stderr  # "exits 1: the vault has problems"
    printed = result.stdout.splitlines()
    runs = readme_sample()
    # The first run starts the output, the last one ends it, each run is printed as it
    # stands, and they come in this order ("..." is any number of lines).
    assert printed[: len(runs[0])] == runs[0], "update the sample in README.md"
    assert printed[len(printed) - len(runs[-1]) :] == runs[-1], "update the sample in README.md"
    at = len(runs[0])
    for run in runs[1:-1]:
        starts = [
            i for i in range(at, len(printed) - len(run) + 1) if printed[i : i + len(run)] == run
        ]
        assert starts, f"README.md shows lines `check seeds` does not print: {run}"
        at = starts[0] + len(run)
    assert at <= len(printed) - len(runs[-1])


# --- a full disk is one line and exit 2, not an internal error ------------------------------

FULL = Path("/dev/full")  # every write to it fails with ENOSPC (Linux)


@pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["unbuffered", "buffered"])
@pytest.mark.parametrize(
    "argv",
    [
        ["check", "seeds"],  # ~13 kB of report: the buffer fills while it is written
        ["check", "seeds", "--format", "json"],
        ["check", "seeds", "--no-cache", "-q"],
        ["graph", "seeds"],
        ["graph", "seeds", "--format", "dot"],
        ["rule", "L001"],  # small enough to sit in the buffer until the end
        ["mv", "seeds/Opensource AI innovations.md", "seeds/Open AI innovations.md", "--dry-run"],
        ["mv", "seeds/Opensource AI innovations.md", "seeds/Open AI innovations.md"],
    ],
    ids=" ".join,
)
def test_a_full_disk_is_one_line_and_exit_2(
    tmp_path: Path, argv: list[str], unbuffered: str
) -> None:
    shutil.copytree(SEEDS, tmp_path / "seeds", copy_function=shutil.copyfile)
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": unbuffered}
    with FULL.open("w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "vaultsync", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
            check=False,
        )
    assert (result.returncode, result.stderr) == (
        2,
        "vaultsync: cannot write the report: No space left on device\n",
    )


@pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("unbuffered", ["1", ""], ids=["unbuffered", "buffered"])
def test_a_full_disk_is_one_line_for_a_cached_graph_too(tmp_path: Path, unbuffered: str) -> None:
    # The graph of an unchanged vault is written from the cache as bytes, past the
    # report stream: a full disk must still be one line.
    vault = tmp_path / "seeds"
    shutil.copytree(SEEDS, vault, copy_function=shutil.copyfile)
    past = time.time() - 3600  # a vault at rest: its graph may be kept
    for path in vault.rglob("*"):
        os.utime(path, (past, past))
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": unbuffered}
    argv = [sys.executable, "-m", "vaultsync", "graph", "seeds"]
    kept = subprocess.run(argv, capture_output=True, cwd=tmp_path, env=env, check=True)
    assert (vault / ".vaultsync/cache/graph.pickle").exists()
    with FULL.open("w") as full:
        result = subprocess.run(
            argv, stdout=full, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env
        )
    assert (result.returncode, result.stderr) == (
        2,
        "vaultsync: cannot write the report: No space left on device\n",
    )
    again = subprocess.run(argv, capture_output=True, cwd=tmp_path, env=env, check=True)
    assert again.stdout == kept.stdout  # and from the cache, the same graph


# --- a very long link target is shortened in messages, whole in `data` ----------------------

LONG = 200_000


def test_a_very_long_link_target_is_shortened_in_every_link_message(
    tmp_path: Path, capsys: Cap
) -> None:
    spaced = " ".join(["Long words"] * (LONG // 11))  # two unresolved spellings: L002
    name = ("Name " * 40).strip()  # file names stop at 255 bytes: 199 characters
    case = ("Case " * 40).strip()
    alias = "alias" * (LONG // 5)
    files: dict[str, str | bytes] = {
        "n.md": (
            f"[[{'a' * LONG}]] [x]({'b' * LONG}.md) ![[{'c' * LONG}.png]]\n"  # L001, L001, L007
            f"[[{spaced}]] [[{spaced}]] [[{spaced.replace(' ', '_')}]]\n"  # L002
            f"[[t#{'h' * LONG}]] [[t#^{'b' * LONG}]]\n"  # L003, L004
            f"[[{name}]] [[{name.lower()}z]] [[{alias}]]\n"  # L005, L001, L006
            f"[x](../{'o' * LONG}.md) [[{case.upper()}]]\n"  # L008, L009
        ),
        "t.md": "# Heading\n",
        f"a/{name}.md": "",
        f"b/{name}.md": "",
        f"{case}.md": "",
        "Owner.md": f"---\naliases: [{alias}]\n---\n",
    }
    root = write_vault(tmp_path / "v", files)
    code, out, err = run_cli(capsys, "check", str(root), "--select", "L", "--format", "json")
    assert code == 1, err
    found = json.loads(out)["diagnostics"]
    assert {d["code"] for d in found} == {f"L00{i}" for i in range(1, 10)}
    for d in found:
        # File paths stay whole (L005 names both 199-character files); targets do not.
        assert len(d["message"]) < 600, d["message"][:600]
        whole = d["data"]["target"] + d["data"].get("subpath", "")
        assert "…" not in whole  # data keeps the target as written
    targets = sorted(len(d["data"]["target"]) for d in found)
    assert targets[-1] > LONG
    _, text, _ = run_cli(capsys, "check", str(root), "--select", "L")
    assert max(len(line) for line in text.splitlines()) < 600


def test_a_very_long_link_in_a_property_is_shortened_in_its_message(
    tmp_path: Path, capsys: Cap
) -> None:
    schema = "name: s\nproperties:\n  up: {type: link}\n"
    files: dict[str, str | bytes] = {
        ".vaultsync/schemas/s.yaml": schema,
        "n.md": f'---\nup: "[[{"u" * LONG}]]"\n---\n',
    }
    root = write_vault(tmp_path / "v", files)
    code, out, err = run_cli(capsys, "check", str(root), "--select", "F002", "--format", "json")
    assert code == 1, err
    (found,) = json.loads(out)["diagnostics"]
    assert len(found["message"]) < 200 and found["data"]["target"] == "u" * LONG


# --- the daemon logs paths, not a Python set ------------------------------------------------


def test_shown_paths_are_sorted_and_cut_after_ten() -> None:
    assert shown_paths({"b.md", "a.md"}) == "a.md, b.md"
    many = {f"n{i:02}.md" for i in range(25)}
    assert shown_paths(many) == ", ".join(f"n{i:02}.md" for i in range(10)) + " and 15 more"
    assert shown_paths({"x\ny.md"}) == "x\\ny.md"  # one log line stays one line


def test_the_daemon_logs_the_notes_still_changing_as_paths(
    tmp_path: Path, capsys: Cap, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from vaultsync.daemon import watch

    # The logger keeps the handler `watch` gives it; put the test's own back afterwards.
    logger = logging.getLogger("vaultsync")
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "propagate", logger.propagate)
    monkeypatch.setattr(logger, "level", logger.level)
    # One pass only: the notes the first pass wrote are still "changing" after it.
    monkeypatch.setattr(watch, "MAX_PASSES", 1)
    notes: dict[str, str | bytes] = {f"n{i:02}.md": "[[Hub]]\n" for i in range(12)}
    notes["Hub.md"] = " ".join(f"[[n{i:02}]]" for i in range(12)) + "\n"
    notes[".vaultsync.toml"] = "[backlinks]\nenabled = true\n"
    root = write_vault(tmp_path / "v", notes)
    code, _, err = run_cli(capsys, "watch", str(root), "--once", "-q")
    assert code == 0
    # All 13 notes got a section in the one pass; each may change again.
    (line,) = [line for line in err.splitlines() if "still changing" in line]
    listed = ", ".join(["Hub.md"] + [f"n{i:02}.md" for i in range(9)]) + " and 3 more"
    assert line == f"vaultsync: WARNING: sections still changing after 1 passes: {listed}"
