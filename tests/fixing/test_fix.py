"""`vaultsync fix` through the real CLI on fixture vaults on disk."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import apply_edits, diagnostics, run_cli
from tests.conftest import SECTIONS_ON, write_vault
from vaultsync.config.settings import load_config
from vaultsync.core.model import Diagnostic, Edit, Fix, FixKind, Severity, Span
from vaultsync.core.model import apply_edits as apply_fix_edits
from vaultsync.core.text import link_key
from vaultsync.fixing.fix import FixOptions, fix_vault, select_fixes
from vaultsync.lint import engine
from vaultsync.rules import RULES, Selection, define
from vaultsync.rules.checkers import CHECKERS

Capsys = pytest.CaptureFixture[str]

SEED_CANONICAL = {
    "Open Source AI Models",
    "Open Source AI Development",
    "Emerging AI tools and projects",
    "Challenges and Opportunities in Crypto AI",
}


def hashes(root: Path) -> dict[str, str]:
    """sha256 of every file of the vault (dot-folders such as the cache are not notes)."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts[:-1]):
            found[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def fix(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, "fix", *argv)


# --- seeds ------------------------------------------------------------------------------


def test_seeds_variants_rewritten_to_canonical_spellings(capsys: Capsys, seeds_copy: Path) -> None:
    before = {p.name: p.read_bytes() for p in seeds_copy.glob("*.md")}
    variants = diagnostics(capsys, seeds_copy, "--select", "L002")
    assert {d["data"]["canonical"] for d in variants} == SEED_CANONICAL

    code, out, err = fix(capsys, str(seeds_copy))
    assert code == 1, err  # broken links remain
    assert f"Fixed {len(variants)} problems in " in out
    assert diagnostics(capsys, seeds_copy, "--select", "L002") == []
    # Each file is its original with exactly the L002 edits applied: nothing else moved.
    for name, data in before.items():
        edits = [e for d in variants if d["path"] == name for e in d["fix"]["edits"]]
        expected = apply_edits(data.decode("utf-8"), edits).encode("utf-8")
        assert (seeds_copy / name).read_bytes() == expected, name
    for canonical in SEED_CANONICAL:
        assert any(f"[[{canonical}" in (seeds_copy / n).read_text("utf-8") for n in before)

    settled = hashes(seeds_copy)
    code, out, _ = fix(capsys, str(seeds_copy))
    assert code == 1
    assert "Fixed 0 problems in 0 files." in out
    assert hashes(seeds_copy) == settled


def test_diff_writes_nothing_and_exits_1(capsys: Capsys, seeds_copy: Path) -> None:
    before = hashes(seeds_copy)
    code, out, _ = fix(capsys, str(seeds_copy), "--diff")
    assert code == 1
    assert hashes(seeds_copy) == before
    assert "--- a/Comparative analysis of AI models.md" in out
    assert "-A new, previously unknown [[open_source_ai_models | AI model]]" in out
    assert "+A new, previously unknown [[Open Source AI Models | AI model]]" in out
    fix(capsys, str(seeds_copy))
    code, out, _ = fix(capsys, str(seeds_copy), "--diff")
    assert (code, out) == (0, "")


def _section_entries(text: str) -> set[str]:
    body = re.search(r"vaultsync:begin backlinks.*?-->(.*?)<!-- vaultsync:end", text, re.S)
    assert body is not None, text
    entries = set()
    for target in re.findall(r"^- \[\[([^\]|]+)", body.group(1), re.M):
        entries.add(target.rsplit("/", 1)[-1])
    return entries


def test_create_missing_makes_one_stub_per_target_with_backlinks(
    capsys: Capsys, seeds_copy: Path
) -> None:
    seeds = {p.name for p in seeds_copy.glob("*.md")}
    unresolved: dict[str, set[str]] = {}  # link key -> seed notes linking to it
    for d in diagnostics(capsys, seeds_copy, "--select", "L001,L002"):
        unresolved.setdefault(link_key(d["data"]["target"]), set()).add(d["path"][:-3])

    code, _, err = fix(capsys, str(seeds_copy), "--create-missing")
    assert code in (0, 1), err
    stubs = {p.name for p in seeds_copy.glob("*.md")} - seeds
    assert {link_key(s) for s in stubs} == set(unresolved)  # one stub per target, no more
    assert len(stubs) == len(unresolved)
    for stub in stubs:
        text = (seeds_copy / stub).read_text("utf-8")
        assert text.startswith(f"# {stub[:-3]}\n")
        assert _section_entries(text) == unresolved[link_key(stub)], stub
    assert diagnostics(capsys, seeds_copy, "--select", "L001,L002") == []
    settled = hashes(seeds_copy)
    fix(capsys, str(seeds_copy), "--create-missing")
    assert hashes(seeds_copy) == settled


# --- link fixes on small vaults ---------------------------------------------------------

VAULT = {
    "Artificial Intelligence.md": "---\naliases: [AI]\n---\n# Artificial Intelligence\n",
    "Project Plan.md": "# Project Plan\n## Goals\n",
    "aa/Tie.md": "tie a\n",
    "bb/Tie.md": "tie b\n",
}


def test_alias_and_case_fixes_are_safe(capsys: Capsys, tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v",
        {**VAULT, "Note.md": "See [[AI]] and [[project plan#Goals]] and [[Tie]].\n"},
    )
    code, _, _ = fix(capsys, str(root), "--select", "L")
    assert code == 1  # the ambiguous link is only fixed with --unsafe
    text = (root / "Note.md").read_text("utf-8")
    assert text == "See [[Artificial Intelligence|AI]] and [[Project Plan#Goals]] and [[Tie]].\n"
    code, _, _ = fix(capsys, str(root), "--select", "L", "--unsafe")
    assert (root / "Note.md").read_text("utf-8").endswith("and [[aa/Tie]].\n")
    assert code == 0


def test_crlf_bom_and_missing_final_newline_survive(capsys: Capsys, tmp_path: Path) -> None:
    original = "\ufeffline [[open_source]]\r\n\r\nmore [[Open Source]] text\r\nlast [[AI]]"
    root = write_vault(
        tmp_path / "v",
        {"Open Source.md": "# Open Source\n", "Note.md": original.encode("utf-8"), **VAULT},
    )
    fix(capsys, str(root), "--select", "L")
    assert (root / "Note.md").read_bytes() == (
        "\ufeffline [[Open Source]]\r\n\r\nmore [[Open Source]] text\r\n"
        "last [[Artificial Intelligence|AI]]"
    ).encode("utf-8")


def test_paths_limit_what_is_fixed(capsys: Capsys, tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v", {**VAULT, "A.md": "[[project plan]]\n", "B.md": "[[project plan]]\n"}
    )
    fix(capsys, str(root / "A.md"), "--select", "L")
    assert (root / "A.md").read_text("utf-8") == "[[Project Plan]]\n"
    assert (root / "B.md").read_text("utf-8") == "[[project plan]]\n"


def test_excluded_and_unreadable_notes_are_never_written(capsys: Capsys, tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            **VAULT,
            ".vaultsync.toml": 'exclude = ["Private/"]\n',
            "Private/Diary.md": "[[project plan]]\n",
            "Latin1.md": "caf\xe9 [[project plan]]\n".encode("latin-1"),
            "Ok.md": "[[project plan]]\n",
        },
    )
    before = hashes(root)
    code, _, _ = fix(capsys, str(root), "--select", "ALL")  # ALL: L009 too
    assert code == 1  # V001 remains
    after = hashes(root)
    assert after["Private/Diary.md"] == before["Private/Diary.md"]
    assert after["Latin1.md"] == before["Latin1.md"]
    assert (root / "Ok.md").read_text("utf-8").startswith("[[Project Plan]]\n")


def test_stub_folder_and_naming_style(capsys: Capsys, tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            **VAULT,
            ".vaultsync.toml": '[stubs]\nfolder = "Inbox"\n',
            "Note.md": "[[road_map_2025]] [[Solo]] [[deep/Nested Idea]]\n",
        },
    )
    code, out, err = fix(capsys, str(root), "--create-missing", "--select", "L")
    assert code == 0, out + err
    assert (root / "Inbox/road map 2025.md").read_text("utf-8") == "# road map 2025\n"
    assert (root / "Inbox/Solo.md").read_text("utf-8") == "# Solo\n"
    assert (root / "Inbox/deep/Nested Idea.md").read_text("utf-8") == "# Nested Idea\n"
    # The snake_case link was respelled to the stub's name so that it resolves.
    assert (root / "Note.md").read_text("utf-8") == (
        "[[road map 2025]] [[Solo]] [[deep/Nested Idea]]\n"
    )
    assert "Created Inbox/Solo.md (L001: 1)" in out


def test_create_missing_never_overwrites_and_diff_creates_nothing(
    capsys: Capsys, tmp_path: Path
) -> None:
    root = write_vault(tmp_path / "v", {"Note.md": "[[Missing]]\n"})
    code, out, _ = fix(capsys, str(root), "--create-missing", "--diff")
    assert code == 1
    assert "--- /dev/null\n+++ b/Missing.md\n" in out
    assert not (root / "Missing.md").exists()


def test_json_output(capsys: Capsys, tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {**VAULT, "A.md": "[[project plan]] [[Gone]]\n"})
    code, out, _ = fix(capsys, str(root), "--format", "json", "--select", "L")
    assert code == 1
    document: dict[str, Any] = json.loads(out)
    assert document["fixed"] == {"L009": 1}
    assert document["changes"] == [{"path": "A.md", "created": False, "fixed": {"L009": 1}}]
    assert [d["code"] for d in document["diagnostics"]] == ["L001"]
    assert document["skipped"] == []


def test_force_rewrites_hand_edited_sections(capsys: Capsys, tmp_path: Path) -> None:
    root = write_vault(
        tmp_path / "v", {".vaultsync.toml": SECTIONS_ON, "A.md": "[[B]]\n", "B.md": "# B\n"}
    )
    fix(capsys, str(root))
    generated = (root / "B.md").read_text("utf-8")
    assert "- [[A]]" in generated
    edited = generated.replace("- [[A]]", "- [[A]] my own words")
    (root / "B.md").write_text(edited, "utf-8")
    code, _, _ = fix(capsys, str(root))
    assert code == 1  # S004 stays
    assert (root / "B.md").read_text("utf-8") == edited
    code, _, _ = fix(capsys, str(root), "--unsafe")
    assert (root / "B.md").read_text("utf-8") == edited  # --unsafe is not --force
    code, _, _ = fix(capsys, str(root), "--force")
    assert code == 0
    assert (root / "B.md").read_text("utf-8") == generated


# --- safety: compare-and-swap, convergence ----------------------------------------------


def test_file_changed_after_read_is_skipped(capsys: Capsys, tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {**VAULT, "A.md": "[[project plan]]\n", "B.md": "[[AI]]\n"})
    vault = engine.load(root, load_config(root))
    (root / "A.md").write_text("[[project plan]] typed meanwhile\n", "utf-8")
    result = fix_vault(vault, Selection.build(["L"], []))
    assert list(result.skipped) == ["A.md"]
    assert (root / "A.md").read_text("utf-8") == "[[project plan]] typed meanwhile\n"
    assert (root / "B.md").read_text("utf-8") == "[[Artificial Intelligence|AI]]\n"
    assert list(result.changes) == ["B.md"]


def test_cli_reports_a_file_changed_during_the_run(
    capsys: Capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_vault(tmp_path / "v", {**VAULT, "A.md": "[[project plan]]\n"})
    real_load = engine.load

    def load_then_user_saves(*args: Any, **kwargs: Any) -> engine.Vault:
        vault = real_load(*args, **kwargs)
        (root / "A.md").write_text("[[project plan]] saved by the user\n", "utf-8")
        return vault

    monkeypatch.setattr(engine, "load", load_then_user_saves)
    code, _out, err = fix(capsys, str(root), "--select", "L")
    assert code == 1
    assert "skipped A.md: changed since it was read" in err
    assert (root / "A.md").read_text("utf-8") == "[[project plan]] saved by the user\n"


@pytest.fixture
def growing_rule() -> Iterator[None]:
    """A deliberately broken rule whose fix never converges (appends forever)."""
    rule = define("X901", "always-grows", Severity.WARNING, FixKind.SAFE, "Test only.\n")

    def grows(ctx: engine.Context, note: Any) -> Iterator[Diagnostic]:
        if note.path == "Grow.md":
            end = note.parsed.end
            yield from ctx.emit(rule, note, end, "grows", fix=Fix(FixKind.SAFE, (Edit(end, "x"),)))

    CHECKERS.append(grows)
    try:
        yield
    finally:
        CHECKERS.remove(grows)
        del RULES["X901"]


def test_a_note_that_does_not_converge_is_left_alone_and_the_rest_is_written(
    capsys: Capsys, tmp_path: Path, growing_rule: None
) -> None:
    """It used to block the whole vault: exit 2, nothing written (issue 17, item 6)."""
    root = write_vault(
        tmp_path / "v",
        {
            **VAULT,
            ".vaultsync.toml": "[backlinks]\nenabled = true\n",
            "Grow.md": "g [[project plan]]\n",
            "A.md": "[[project plan]]\n",
        },
    )
    grow = (root / "Grow.md").read_bytes()
    code, out, err = fix(capsys, str(root), "--select", "L009,S001,X901")
    assert code == 1  # problems remain: the note left alone
    assert err.splitlines() == [
        "vaultsync: skipped Grow.md: its fixes did not converge after 10 passes; left as it "
        "was (this is a bug in vaultsync, please report it)"
    ]
    assert (root / "Grow.md").read_bytes() == grow
    assert (root / "A.md").read_text("utf-8") == "[[Project Plan]]\n"
    # The backlinks count Grow.md's link as it is on disk: it still resolves.
    plan = (root / "Project Plan.md").read_text("utf-8")
    assert "- [[A]]\n- [[Grow]]\n" in plan
    assert "Fixed A.md (L009: 1)" in out
    code, _out, err = fix(capsys, str(root), "--select", "L009,S001,X901")
    assert code == 1 and "skipped Grow.md" in err  # and so on, every run: never written
    assert (root / "Grow.md").read_bytes() == grow


# --- the pass mechanics -----------------------------------------------------------------


def _edit(start: int, end: int, text: str) -> Edit:
    return Edit(Span(start, end, 1, start + 1, 1, end + 1), text)


def _diag(code: str, *edits: Edit) -> Diagnostic:
    span = edits[0].span
    return Diagnostic("N.md", span, code, "m", Severity.WARNING, {}, Fix(FixKind.SAFE, edits))


def test_overlapping_fixes_wait_for_the_next_pass() -> None:
    first = _diag("L002", _edit(0, 5, "AAAAA"))
    overlapping = _diag("L006", _edit(3, 8, "B"))
    at_edge = _diag("L009", _edit(5, 5, "+"))  # insertion right after the first fix
    own_edge = _diag("L006", _edit(10, 12, "C"), _edit(12, 12, "|c"))  # one fix: allowed
    duplicate = _diag("L002", _edit(0, 5, "AAAAA"))
    taken, counts, held = select_fixes([overlapping, first, at_edge, own_edge, duplicate])
    assert held == 2
    assert counts == {"L002": 2, "L006": 1}
    assert apply_fix_edits("0123456789abcdef", taken) == "AAAAA56789C|ccdef"


def test_overlap_resolved_by_a_second_pass_in_a_real_vault(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {"Note.md": "hello\n"})
    vault = engine.load(root, load_config(root))
    result = fix_vault(vault, Selection.build(["L"], []), options=FixOptions(dry_run=True))
    assert result.passes == 1 and result.changes == {}


def test_pooled_and_serial_fix_write_the_same_bytes(
    tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch, forks: list[int]
) -> None:
    # 500 notes, each with a variant spelling to respell and a backlinks section to add:
    # enough rewrites that fix re-parses them in a forked child too.
    files = {
        f"f{i % 7}/Note {i}.md": (
            f"# Note {i}\n[[Note {(i * 7) % 500}]] [[note_{(i * 3) % 500}]] #t{i % 5}\n"
        )
        for i in range(500)
    }
    files[".vaultsync.toml"] = SECTIONS_ON
    serial_vault = write_vault(tmp_path / "serial", files)
    pooled_vault = write_vault(tmp_path / "pooled", files)
    monkeypatch.setenv("VAULTSYNC_JOBS", "1")
    assert run_cli(capsys, "fix", str(serial_vault), "--no-cache", "--exit-zero")[0] == 0
    monkeypatch.setenv("VAULTSYNC_JOBS", "2")
    assert run_cli(capsys, "fix", str(pooled_vault), "--no-cache", "--exit-zero")[0] == 0
    assert len(forks) >= 2  # the vault was parsed, then the rewrites, in two processes
    after = hashes(serial_vault)
    assert after == hashes(pooled_vault)
    assert after != {rel: hashlib.sha256(text.encode()).hexdigest() for rel, text in files.items()}
    linked = (serial_vault / "f3/Note 3.md").read_text(encoding="utf-8")
    assert "vaultsync:begin backlinks" in linked
    assert "[[Note 3]]" in (serial_vault / "f1/Note 1.md").read_text(encoding="utf-8")
