"""The `check`, `rule` and `graph` commands as a user runs them (design §4, §5)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from tests.clirun import check_json, run_cli
from tests.conftest import write_vault

Cap = pytest.CaptureFixture[str]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vaultsync", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )


# --- exit codes (§5) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "argv", "expected"),
    [
        pytest.param({"a.md": "[[a]]\n"}, [], 0, id="clean"),
        pytest.param({"a.md": "[[gone]]\n"}, [], 1, id="warning"),
        pytest.param({"a.md": "[[gone]]\n"}, ["--exit-zero"], 0, id="exit-zero"),
        pytest.param({"A.md": "[[a]]\n"}, [], 0, id="info-below-fail-on"),
        pytest.param(
            {"A.md": "[[a]]\n", ".vaultsync.toml": 'fail-on = "info"\n'}, [], 1, id="fail-on-info"
        ),
        pytest.param(
            {"a.md": "[[gone]]\n", ".vaultsync.toml": 'fail-on = "error"\n'},
            [],
            0,
            id="fail-on-error",
        ),
        pytest.param(
            {"a.md": "[[../../x]]\n", ".vaultsync.toml": 'fail-on = "error"\n'}, [], 1, id="error"
        ),
        pytest.param(
            {"a.md": "[[gone]]\n", ".vaultsync.toml": '[severity]\nL001 = "info"\n'},
            [],
            0,
            id="severity-lowered",
        ),
        pytest.param({"a.md": "[[gone]]\n"}, ["--ignore", "L001"], 0, id="ignored"),
        pytest.param({"a.md": "[[gone]] %% vaultsync-ignore %%\n"}, [], 0, id="suppressed"),
        pytest.param({"a.md": "[[gone]]\n"}, ["--format", "nope"], 2, id="bad-format"),
        pytest.param({"a.md": "[[gone]]\n"}, ["--select", "ZZ"], 2, id="bad-select"),
        pytest.param({".vaultsync.toml": "nope\n"}, [], 2, id="bad-config"),
    ],
)
def test_exit_codes(
    tmp_path: Path, capsys: Cap, files: dict[str, str | bytes], argv: list[str], expected: int
) -> None:
    root = write_vault(tmp_path / "v", files)
    code, _, _ = run_cli(capsys, "check", str(root), "--select", "L", *argv)
    assert code == expected


def test_text_output_format_and_summary(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {"Target.md": "", "b/x.md": "ok [[Target]]\n\n  [[gone]] [[target]] ![[pic.png]]\n"},
    )
    code, out, err = run_cli(capsys, "check", str(root), "--select", "L")
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        'b/x.md:3:3: L001 Broken link: no note or file matches "gone"',
        'b/x.md:3:12: L009 Link "target" is spelled unlike "Target.md"',
        'b/x.md:3:23: L007 Missing attachment "pic.png"',
        "Found 3 problems (1 fixable with 'vaultsync fix').",
    ]
    code, out, _ = run_cli(capsys, "check", str(root), "--select", "L", "-q")
    assert len(out.splitlines()) == 3 and "Found" not in out
    code, out, _ = run_cli(capsys, "check", str(root), "--select", "L001")
    assert out.splitlines()[-1] == "Found 1 problem (0 fixable with 'vaultsync fix')."
    root2 = write_vault(tmp_path / "clean", {"a.md": "[[a]]\n"})
    code, out, _ = run_cli(capsys, "check", str(root2), "--select", "L")
    assert (code, out) == (0, "All checks passed!\n")


def test_statistics_counts_per_rule(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            "Note.md": "",
            "x.md": "[[gone]] [[gone2]] [[note]] [[Open Source]] [[open_source]] [[gone3]]\n",
        },
    )
    code, out, _ = run_cli(capsys, "check", str(root), "--select", "L", "--statistics")
    assert code == 1
    assert [line.split() for line in out.splitlines()] == [  # only the table, as in ruff
        ["4", "L001", "broken-link"],  # `Open Source` is canonical but still missing
        ["1", "L002", "[*]", "link-variant"],
        ["1", "L009", "[*]", "inconsistent-case"],
        ["[*]", "fixable", "with", "'vaultsync", "fix'"],
    ]


# --- paths (§5: whole vault indexed, only those files reported) ------------------------------

PATHS_VAULT: dict[str, str | bytes] = {
    "Root Note.md": "[[gone root]]\n",
    "a/One.md": "[[Root Note]] [[gone one]] [[Two]]\n",
    "a/deep/Two.md": "[[One]] [[gone two]]\n",
    "b/Three.md": "[[gone three]]\n",
    "b/pic.png": b"\x89PNG",
}


def reported_paths(capsys: Cap, *argv: str) -> list[str]:
    return sorted({d["path"] for d in check_json(capsys, "--select", "L", *argv)["diagnostics"]})


def test_check_paths_reports_only_those_files(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", PATHS_VAULT)
    one = str(root / "a" / "One.md")
    assert reported_paths(capsys, one) == ["a/One.md"]
    document = check_json(capsys, "--select", "L", one)
    # [[Root Note]] and [[Two]] resolve: the whole vault was indexed.
    assert [d["data"]["target"] for d in document["diagnostics"]] == ["gone one"]
    assert document["vault"] == str(root)
    assert reported_paths(capsys, str(root / "a")) == ["a/One.md", "a/deep/Two.md"]
    assert reported_paths(capsys, one, str(root / "b")) == ["a/One.md", "b/Three.md"]
    assert reported_paths(capsys, str(root)) == [
        "Root Note.md",
        "a/One.md",
        "a/deep/Two.md",
        "b/Three.md",
    ]
    assert reported_paths(capsys, str(root / "b" / "pic.png")) == []


def test_check_a_folder_whose_name_is_nfd_on_disk(tmp_path: Path, capsys: Cap) -> None:
    folder = unicodedata.normalize("NFD", "Café")
    root = write_vault(tmp_path / "v", {f"{folder}/n.md": "[[gone]]\n", "other.md": "[[x]]\n"})
    assert reported_paths(capsys, str(root / folder)) == ["Café/n.md"]
    assert reported_paths(capsys, str(root / folder / "n.md")) == ["Café/n.md"]


def test_check_paths_relative_to_the_working_directory(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", PATHS_VAULT)
    result = cli("check", "--select", "L", "One.md", "deep", cwd=root / "a")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == ["a/One.md", "a/deep/Two.md"]
    # With no path, the vault holding the working directory is checked.
    whole = cli("check", "--select", "L", "--format", "json", cwd=root / "a" / "deep")
    assert json.loads(whole.stdout)["notes"] == 4


def test_missing_or_outside_paths_are_one_line_errors(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", PATHS_VAULT)
    outside = tmp_path / "elsewhere.md"
    outside.write_text("[[x]]\n", encoding="utf-8")
    for argv in (
        [str(root / "nope.md")],
        [str(root / "a" / "One.md"), str(root / "missing")],
        [str(root / "a" / "One.md"), str(outside)],
    ):
        code, out, err = run_cli(capsys, "check", *argv)
        assert (code, out) == (2, ""), argv
        assert err.startswith("vaultsync: error: ") and err.count("\n") == 1
        assert "Traceback" not in err
    assert "outside the vault" in err


# --- rule ----------------------------------------------------------------------------------


def test_rule_prints_documentation_by_code_or_name(capsys: Cap) -> None:
    code, out, _ = run_cli(capsys, "rule", "L002")
    assert code == 0
    assert out.startswith("# L002 link-variant\n")
    assert "Default severity: warning. Fix: safe." in out
    assert "Example:" in out and "Fix (safe):" in out
    assert run_cli(capsys, "rule", "link-variant")[1] == out
    assert run_cli(capsys, "rule", "l002")[1] == out


def test_rule_lists_every_rule_sorted(capsys: Cap) -> None:
    code, out, _ = run_cli(capsys, "rule")
    assert code == 0
    rows = [line.split()[:4] for line in out.splitlines()]
    codes = [row[0] for row in rows]
    assert codes == sorted(codes)
    assert {"L001", "L002", "L003", "L004", "L005", "L006", "L007", "L008", "L009", "V001"} <= set(
        codes
    )
    assert ["L006", "alias-link", "info", "safe"] in rows
    assert ["L008", "link-outside-vault", "error", "none"] in rows


def test_rule_unknown_code_exits_2(capsys: Cap) -> None:
    code, out, err = run_cli(capsys, "rule", "L999")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "L999" in err


# --- graph ----------------------------------------------------------------------------------

GRAPH_VAULT: dict[str, str | bytes] = {
    "a/Note.md": (
        '---\naliases: [N1]\ntags: [project, Project]\nrelated: "[[Other#Top]]"\n---\n'
        "# Note #inline\n[[Other|shown]] ![[x.png]] [md](../Other.md) [[Missing]]\n"
        "<!-- vaultsync:begin backlinks hash=00000000 -->\n## Backlinks\n- [[Other]]\n"
        "<!-- vaultsync:end backlinks -->\n[[Other]]\n"
    ),
    "Other.md": "# Top\n[[Note]]\n",
    "img/x.png": b"\x89PNG",
}


def test_graph_json_has_notes_attachments_and_every_link(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", GRAPH_VAULT)
    code, out, err = run_cli(capsys, "graph", str(root), "--format", "json")
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["version"] == 1 and document["vault"] == str(root)
    assert document["notes"] == [
        {"path": "Other.md", "name": "Other", "aliases": [], "tags": []},
        {"path": "a/Note.md", "name": "Note", "aliases": ["N1"], "tags": ["inline", "project"]},
    ]
    assert document["attachments"] == ["img/x.png"]
    rows = [
        (
            link["source"],
            link["line"],
            link["kind"],
            link["target"],
            link["subpath"],
            link["display"],
            link["resolved"],
            link["generated"],
        )
        for link in document["links"]
    ]
    assert rows == [
        ("Other.md", 2, "wikilink", "Note", None, None, "a/Note.md", False),
        ("a/Note.md", 4, "property", "Other", "#Top", None, "Other.md", False),
        ("a/Note.md", 7, "wikilink", "Other", None, "shown", "Other.md", False),
        ("a/Note.md", 7, "embed", "x.png", None, None, "img/x.png", False),
        ("a/Note.md", 7, "markdown", "../Other.md", None, "md", "Other.md", False),
        ("a/Note.md", 7, "wikilink", "Missing", None, None, None, False),
        ("a/Note.md", 10, "wikilink", "Other", None, None, "Other.md", True),
        ("a/Note.md", 12, "wikilink", "Other", None, None, "Other.md", False),
    ]


def test_graph_dot_through_a_real_process(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", GRAPH_VAULT)
    result = cli("graph", str(root), "--format", "dot")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "digraph vault {" and lines[-1] == "}"
    assert '  "Other.md" [label="Other"];' in lines
    assert '  "a/Note.md" -> "Other.md";' in lines
    assert '  "a/Note.md" -> "img/x.png";' in lines
    assert '  "Other.md" -> "a/Note.md";' in lines
    missing = [line for line in lines if "Missing" in line]
    assert missing and all("dashed" in line for line in missing)
    assert result.stdout == cli("graph", str(root), "--format", "dot").stdout  # deterministic


def test_check_and_rule_through_real_processes(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {"a.md": "[[gone]]\n"})
    result = cli("check", str(root), "--select", "L", "--format", "json")
    assert result.returncode == 1
    (diagnostic,) = json.loads(result.stdout)["diagnostics"]
    assert diagnostic["code"] == "L001"
    listing = cli("rule")
    assert listing.returncode == 0 and "L001" in listing.stdout
    assert cli("rule", "nope").returncode == 2


def test_a_long_report_is_written_whole_before_the_program_exits(tmp_path: Path) -> None:
    # The program ends with os._exit (no heap teardown); its output must be flushed first.
    root = write_vault(tmp_path / "v", {f"n{i}.md": f"[[gone {i}]]\n" for i in range(3000)})
    result = cli("check", str(root), "--no-cache", "--select", "L001")
    assert result.returncode == 1
    assert sum(" L001 " in line for line in result.stdout.splitlines()) == 3000
    assert result.stdout.endswith("Found 3000 problems (0 fixable with 'vaultsync fix').\n")
    assert result.stderr == ""


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["check", "--no-cache"], id="check"),
        pytest.param(["graph", "--no-cache"], id="graph-json"),
        pytest.param(["graph", "--no-cache", "--format", "dot"], id="graph-dot"),
    ],
)
def test_an_unbuffered_stdout_gets_the_same_output(tmp_path: Path, argv: list[str]) -> None:
    # PYTHONUNBUFFERED (set in many containers and CI images) makes stdout write through;
    # the report is then gathered and passed on in pieces, more than one piece here.
    root = write_vault(tmp_path / "v", {f"n{i}.md": f"[[gone {i}]]\n" for i in range(3000)})
    command = [sys.executable, "-m", "vaultsync", argv[0], str(root), *argv[1:]]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    outputs = []
    for unbuffered in ("1", ""):
        env["PYTHONUNBUFFERED"] = unbuffered
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        assert result.stderr == ""
        outputs.append(result.stdout)
    assert len(outputs[0]) > 3 * 65536
    assert outputs[0] == outputs[1]


def test_a_batched_stream_passes_text_on_in_large_pieces() -> None:
    import io

    from vaultsync.commands.common import _Batched

    class Counting(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            return super().write(text)

    target = Counting()
    batched = _Batched(target)
    lines = [f"note {i}.md:1:1: L001 unresolved link\n" for i in range(10_000)]
    batched.writelines(lines)
    batched.write("Found 10000 problems.\n")
    batched.pass_on()
    batched.pass_on()  # nothing left: nothing more is written
    assert target.getvalue() == "".join(lines) + "Found 10000 problems.\n"
    # 10,001 writes in; out, one a 64 KiB piece, and the rest.
    assert 2 <= target.writes <= len(target.getvalue()) // 65536 + 1
    # A large piece goes on as it is, after what was gathered before it.
    before = target.writes
    batched.write("a line\n")
    batched.write("x" * 100_000)
    assert target.writes == before + 2
    assert target.getvalue().endswith("Found 10000 problems.\na line\n" + "x" * 100_000)


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {f"n{i}.md": f"[[gone {i}]]\n" for i in range(3000)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "vaultsync", "check", str(root), "--no-cache"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert b"L001" in proc.stdout.readline()  # like `vaultsync check | head -1`
    proc.stdout.close()
    errors = proc.stderr.read()
    assert proc.wait(timeout=60) == 1
    assert b"Traceback" not in errors and b"Exception ignored" not in errors
