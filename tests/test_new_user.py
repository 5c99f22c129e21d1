"""Small things a new user hit on a first run (issue 17, item 10): the statistics table,
the README's sample output, a full disk, help texts, daemon logs, very long links."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import run_cli
from tests.conftest import write_vault

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
