"""One odd note never blocks the vault (issue 17, item 6).

A note that ends inside an open code fence, `<!--`, `%%` or `$$` cannot take a
backlinks section at its end: it gets S005 and no write, and every other note is
fixed. `fix` used to exit 2 and write nothing ("did not converge after 10 passes"),
`watch --once` appended ten copies of the section per run, and a note ending in an
open `<!--` got a section it then flagged S003 forever.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.clirun import run_cli
from tests.conftest import REPO, snapshot, write_vault
from tests.daemon_harness import Daemon, vault_config, wait_until
from tests.fixing.test_fix import growing_rule  # noqa: F401 - a fixture used below
from tests.parse.test_parser_properties import documents
from vaultsync.config.settings import load_config
from vaultsync.core.model import Diagnostic, Fix, FixKind, Severity
from vaultsync.fixing.fix import FixOptions, fix_vault
from vaultsync.lint import engine
from vaultsync.parse.scanner import parse
from vaultsync.rules import RULES, Selection, define
from vaultsync.rules.checkers import CHECKERS
from vaultsync.vault import sections

Capsys = pytest.CaptureFixture[str]

SECTIONS_ON = "[backlinks]\nenabled = true\n"
# Each ends inside something still open; the line it opened on.
ODD = {
    # A fence opened with two-space indent in a list item and "closed" at the margin:
    # by CommonMark the margin fence ends the item and opens a fence of its own.
    "Fence.md": ("- step\n  ```bash\n  make\n```\nafter [[Plain]]\n", 4),
    "Comment.md": ("text\n<!-- draft, never closed\nmore\n", 2),
    "Percent.md": ("text\n%%\nhidden [[Plain]]\n", 2),
    "Math.md": ("text\n$$\nx = 1\n", 2),
    "Tilde.md": ("~~~\ncode", 1),  # no final newline either
}
LINKER = "".join(f"[[{name[:-3]}]] " for name in ODD) + "[[Plain]]\n"


def _vault(root: Path) -> Path:
    files: dict[str, str | bytes] = {name: text for name, (text, _line) in ODD.items()}
    files |= {".vaultsync.toml": SECTIONS_ON, "Plain.md": "plain\n", "Linker.md": LINKER}
    return write_vault(root, files)


def _check(capsys: Capsys, root: Path) -> list[dict[str, Any]]:
    code, out, err = run_cli(capsys, "check", str(root), "--format", "json", "--select", "S")
    assert code in (0, 1), err
    found: list[dict[str, Any]] = json.loads(out)["diagnostics"]
    return found


def test_a_note_ending_inside_something_open_gets_s005_and_no_section(
    tmp_path: Path, capsys: Capsys
) -> None:
    root = _vault(tmp_path / "v")
    found = {(d["path"], d["code"]): d for d in _check(capsys, root)}
    for name, (_text, line) in ODD.items():
        assert (name, "S001") not in found
        s005 = found[name, "S005"]
        assert s005["line"] == line, name
        assert s005["severity"] == "warning" and s005["fix"] is None
        assert f"opened on line {line} and never closed" in s005["message"]
    assert ("Plain.md", "S001") in found

    before = snapshot(root)
    code, out, err = run_cli(capsys, "fix", str(root))
    assert code == 1, err  # the S005 warnings remain
    assert err == ""
    after = snapshot(root)
    for name in ODD:
        assert after[name] == before[name], name  # not a byte written
    assert after["Plain.md"].count(b"vaultsync:begin backlinks") == 1
    assert "Fixed Plain.md (S001: 1)" in out
    # A second run has nothing left to do, and still writes none of them.
    code, out, _err = run_cli(capsys, "fix", str(root))
    assert code == 1 and "Fixed 0 problems" in out
    assert snapshot(root) == after
    # Closing what was open lets the section in.
    (root / "Comment.md").write_text(ODD["Comment.md"][0] + "-->\n", encoding="utf-8")
    run_cli(capsys, "fix", str(root))
    assert sections.inspect(parse((root / "Comment.md").read_text("utf-8")))[0]
    assert "S005" not in {d["code"] for d in _check(capsys, root) if d["path"] == "Comment.md"}


def test_s005_can_be_selected_alone(tmp_path: Path, capsys: Capsys) -> None:
    root = _vault(tmp_path / "v")
    code, out, err = run_cli(capsys, "check", str(root), "--select", "S005")
    assert code == 1, err
    assert sorted(line.split(":")[0] for line in out.splitlines() if " S005 " in line) == sorted(
        ODD
    )


@pytest.mark.parametrize(
    "text",
    [
        "costs $\\Theta(n)$$ more\n",  # inline math, then a stray `$`: no `$$` opens
        "use `%%` to comment\n",
        "`$$` is display math\n",
        "$$\nx\n$$\n",
        "> $$\n> x\n> $$\n",
        "%% a %% and %%b%%\n",
        "a 50%% rise\n",  # an inline `%%` closes on its line or is text (issue 17, item 3)
        "%% a\nb %% c %%\n",  # the block closes at the next `%%`, the rest is inline
        "$$ a %% b $$\n",  # `%%` inside math
        "- a\n  ```\n  x\n",  # a list item's fence ends with the item
        "```\ncode\n```",  # closed on the last line, no final newline
        "<!-- x -->",
        "text \\<!--",  # escaped: text, and stays text
        "    ```\n    indented code\n",
    ],
)
def test_what_is_not_open_at_the_end(text: str) -> None:
    assert parse(text).unclosed is None


def test_the_rule_is_documented(capsys: Capsys) -> None:
    code, out, _err = run_cli(capsys, "rule", "S005")
    assert code == 0
    assert "unplaceable-section" in out and "`$$` math" in out


def test_watch_once_never_writes_the_section_twice(tmp_path: Path) -> None:
    root = _vault(tmp_path / "v")
    before = snapshot(root)
    for _run in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "vaultsync", "watch", str(root), "--once"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "still changing" not in done.stderr
        after = snapshot(root)
        for name in ODD:
            assert after[name] == before[name], name
        assert after["Plain.md"].count(b"vaultsync:begin backlinks") == 1


def test_the_daemon_leaves_an_open_note_alone_until_it_is_closed(tmp_path: Path) -> None:
    root = _vault(tmp_path / "v")
    vault_config(root)  # it turns the backlinks sections on
    fence = root / "Fence.md"
    with Daemon(root) as daemon:
        daemon.settled()
        assert fence.read_text("utf-8") == ODD["Fence.md"][0]
        codes = [d["code"] for d in daemon.get("/v1/diagnostics?path=Fence.md")["diagnostics"]]
        assert "S005" in codes
        # An edit inside the open fence: checked again, still no section.
        fence.write_text(ODD["Fence.md"][0] + "more\n", encoding="utf-8")
        daemon.settled()
        assert fence.read_text("utf-8") == ODD["Fence.md"][0] + "more\n"
        # Closed at last: the section is added, once.
        fence.write_text(ODD["Fence.md"][0] + "```\n", encoding="utf-8")
        wait_until(lambda: "vaultsync:begin backlinks" in fence.read_text("utf-8"))
        daemon.settled()
        assert fence.read_text("utf-8").count("vaultsync:begin backlinks") == 1
        _out, err = daemon.output()
        assert "still changing" not in err


# --- a section that would not read back is never written ---------------------------------


@pytest.fixture
def blind_rule() -> Iterator[None]:
    """A deliberately wrong rule: it appends a backlinks section whatever the note's end."""
    rule = define("X902", "blind-append", Severity.WARNING, FixKind.SAFE, "Test only.\n")

    def blind(ctx: engine.Context, note: Any) -> Iterator[Diagnostic]:
        parsed = note.parsed
        if note.path == "Fence.md" and not sections.inspect(parsed)[0]:
            section = sections.render(sections.BACKLINKS, "", "\n- [[Plain]]\n")
            fix = Fix(FixKind.SAFE, (sections.append_edit(parsed, section),))
            yield from ctx.emit(rule, note, parsed.end, "appends", fix=fix)

    CHECKERS.append(blind)
    try:
        yield
    finally:
        CHECKERS.remove(blind)
        del RULES["X902"]


def test_fix_writes_no_section_that_would_be_swallowed(
    tmp_path: Path, capsys: Capsys, blind_rule: None
) -> None:
    root = _vault(tmp_path / "v")
    before = snapshot(root)
    code, _out, err = run_cli(capsys, "fix", str(root), "--select", "S001,X902")
    assert code == 1
    assert err.splitlines() == [
        "vaultsync: skipped Fence.md: a section added at its end would not be readable there; "
        "left as it was (this is a bug in vaultsync, please report it)"
    ]
    after = snapshot(root)
    assert after["Fence.md"] == before["Fence.md"]
    assert after["Plain.md"].count(b"vaultsync:begin backlinks") == 1


def test_a_growing_note_is_held_back_in_a_dry_run_too(
    tmp_path: Path,
    capsys: Capsys,
    growing_rule: None,  # noqa: F811
) -> None:
    root = write_vault(
        tmp_path / "v", {".vaultsync.toml": SECTIONS_ON, "Grow.md": "[[A]]\n", "A.md": "a\n"}
    )
    vault = engine.load(root, load_config(root))
    result = fix_vault(vault, Selection.build(["S001", "X901"], []), None, FixOptions(dry_run=True))
    assert result.converged
    assert list(result.changes) == ["A.md"]
    assert list(result.skipped) == ["Grow.md"]


# --- where a section can go, for any note --------------------------------------------------

OPENERS = ["", "```\n", "  ```\n", "~~~~\n", "<!--\n", "%%\n", "$$\n", "- a\n  ```\n```\n"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.sampled_from(OPENERS), st.integers(0, 10_000), st.sampled_from(["", "x"]))
@example(("- item\n  ```python\n  code\n```\nafter\n", []), "", 10_000, "")
@example(("text\n<!-- open\n", []), "", 10_000, "")
@example(("```\ncode\n```", []), "", 10_000, "")
@example(("`%%` is a comment mark\n", []), "", 10_000, "")
@example(("# \n", []), "<!--\n", 1, "")  # `#<!--`: inline, yet the section's `-->` closes it
@example(("", []), "a <!--", 0, "")
@example(("", []), "1. x\n   ```\n", 0, "")  # a list item's fence ends with the item
def test_a_section_is_appended_only_where_it_reads_back(
    doc: tuple[str, list[tuple[int, int]]], opener: str, cut: int, tail: str
) -> None:
    """Whatever the note, either it is flagged unclosed, or the appended section reads
    back as a section with its links (and, for fences and comments, flagged means the
    section really would be swallowed)."""
    text = doc[0][: cut % (len(doc[0]) + 1)] + opener + tail
    parsed = parse(text)
    section = sections.render(
        sections.BACKLINKS, "", parsed.newline + "- [[Some Note]]" + parsed.newline
    )
    edit = sections.append_edit(parsed, section)
    new_text = text + edit.new_text
    after = parse(new_text)
    reads = sections.reads_back(after, {sections.BACKLINKS}) and any(
        link.linkpath == "Some Note" and link.span.start >= len(text) for link in after.links
    )
    if parsed.unclosed is None:
        assert reads, text
    elif parsed.unclosed[0] in ("```", "~~~", "````", "~~~~", "<!--") and sections.writable(parsed):
        assert not reads, text
