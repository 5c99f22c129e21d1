"""Rule selection (design §4, §7): --select/--ignore/[severity] by code, prefix or name; the
most specific selector wins, as in ruff."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import diagnostics, run_cli
from tests.conftest import write_vault
from vaultsync.core.model import Severity
from vaultsync.rules import RULES, Selection

Cap = pytest.CaptureFixture[str]

# One problem of each link kind: L001, L002, L003, L006 (info), L008 (error), L009 (info).
VAULT: dict[str, str | bytes] = {
    "Open Source AI Models.md": "---\naliases: [OSAI]\n---\n# Intro\n",
    "a/x.md": (
        "[[missing]] [[open_source_ai_models]] [[Open Source AI Models#Nope]]\n"
        "[[OSAI]] [[../../up]] [[open source ai models]]\n"
    ),
}
ALL_CODES = ["L001", "L002", "L003", "L006", "L008", "L009"]
# With nothing selected: the default rule set, every rule but L009 (§4).
DEFAULT_CODES = ["L001", "L002", "L003", "L006", "L008"]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    return write_vault(tmp_path / "v", VAULT)


def codes(found: list[dict[str, object]]) -> list[str]:
    return sorted(str(d["code"]) for d in found)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        pytest.param([], DEFAULT_CODES, id="default-set"),
        pytest.param(["--select", "ALL"], ALL_CODES, id="select-all"),
        pytest.param(["--select", "L001"], ["L001"], id="select-code"),
        pytest.param(["--select", "L00"], ALL_CODES, id="select-prefix"),
        pytest.param(["--select", "link-variant"], ["L002"], id="select-name"),
        pytest.param(["--select", "broken-link,L00"], ALL_CODES, id="comma-list"),
        pytest.param(
            ["--select", "L", "--ignore", "L002"], ["L001", "L003", "L006", "L008", "L009"]
        ),
        pytest.param(["--ignore", "broken-link"], ["L002", "L003", "L006", "L008"]),
        pytest.param(["--select", "L001", "--ignore", "L"], ["L001"], id="code-beats-prefix"),
        pytest.param(["--select", "L00", "--ignore", "L"], ALL_CODES, id="longer-prefix-wins"),
        pytest.param(["--select", "L", "--ignore", "L00"], [], id="ignore-longer-prefix"),
        pytest.param(["--select", "V"], [], id="other-family"),
        pytest.param(["--select", "L001", "--select", "L009"], ["L001", "L009"], id="repeat"),
        pytest.param(["--ignore", "ALL", "--select", "L008"], ["L008"], id="ignore-all"),
    ],
)
def test_select_and_ignore_on_the_command_line(
    vault: Path, capsys: Cap, argv: list[str], expected: list[str]
) -> None:
    assert codes(diagnostics(capsys, vault, *argv, families="L")) == expected


def test_config_select_ignore_and_cli_override(vault: Path, capsys: Cap) -> None:
    (vault / ".vaultsync.toml").write_text('select = ["L00"]\nignore = ["L001", "L009"]\n')
    assert codes(diagnostics(capsys, vault)) == ["L002", "L003", "L006", "L008"]
    # --ignore adds to the config's ignore list.
    # --select replaces the config's selection, like ruff's command line does.
    assert codes(diagnostics(capsys, vault, "--select", "L009")) == ["L009"]
    assert codes(diagnostics(capsys, vault, "--ignore", "L002")) == ["L003", "L006", "L008"]


def test_L009_runs_only_when_a_selector_names_it(vault: Path, capsys: Cap) -> None:
    # A spelling preference in a case-insensitive system: not in the default set (§4).
    assert "L009" not in codes(diagnostics(capsys, vault))
    run_cli(capsys, "fix", str(vault))
    fixed = (vault / "a/x.md").read_text(encoding="utf-8")
    assert fixed.endswith(" [[open source ai models]]\n")  # the default fix leaves it alone
    assert "[[Open Source AI Models]]" in fixed  # while L002 respelled its variant
    for config in ('select = ["L009"]\n', 'select = ["ALL"]\n', 'select = ["inconsistent-case"]\n'):
        (vault / ".vaultsync.toml").write_text(config)
        assert "L009" in codes(diagnostics(capsys, vault)), config
    (vault / ".vaultsync.toml").write_text('ignore = ["L001"]\n')
    assert "L009" not in codes(diagnostics(capsys, vault))
    code, out, _ = run_cli(capsys, "rule", "L009")
    assert code == 0 and "Not in the default rule set" in out


@pytest.mark.parametrize("selector", ["L9", "X", "broken_link", "L0011", ""])
def test_unknown_selector_on_the_command_line_is_a_usage_error(
    vault: Path, capsys: Cap, selector: str
) -> None:
    code, out, err = run_cli(capsys, "check", str(vault), "--select", f"L001,{selector}x")
    assert code == 2 and out == ""
    assert f"{selector}x" in err and "Traceback" not in err


def test_severity_overrides_most_specific_wins(vault: Path, capsys: Cap) -> None:
    (vault / ".vaultsync.toml").write_text(
        '[severity]\nL = "info"\nL001 = "error"\nlink-variant = "warning"\n'
    )
    found = diagnostics(capsys, vault, "--select", "ALL")
    assert {d["code"]: d["severity"] for d in found} == {
        "L001": "error",
        "L002": "warning",
        "L003": "info",
        "L006": "info",
        "L008": "info",
        "L009": "info",
    }


def test_selection_rules_every_rule_resolvable_by_code_and_name() -> None:
    for code, rule in RULES.items():
        by_code = Selection.build([code], [])
        by_name = Selection.build([rule.name], [])
        assert by_code.enabled == by_name.enabled == frozenset({code})
        assert by_code.severities[code] is rule.severity
    assert Selection.build(["ALL"], []).enabled == frozenset(RULES)
    assert Selection.build([], []).enabled == frozenset(RULES) - {"L009"}
    lowered = Selection.build([], [], {"ALL": "info", "V001": "error"})
    assert {c for c, s in lowered.severities.items() if s is not Severity.INFO} == {"V001"}
