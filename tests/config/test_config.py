"""`.vaultsync.toml` (§7): found upward; a bad file is one line naming the key, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import diagnostics, run_cli
from tests.conftest import write_vault

Cap = pytest.CaptureFixture[str]


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        pytest.param("foo = 1\n", ["foo", "unknown key"], id="unknown-key"),
        pytest.param("[links]\nbogus = 1\n", ["links.bogus", "unknown key"], id="nested-unknown"),
        pytest.param("max_file_size = 10\n", ["max_file_size", "unknown key"], id="snake-case"),
        pytest.param('max-file-size = "big"\n', ["max-file-size", "integer"], id="wrong-type"),
        pytest.param("max-file-size = true\n", ["max-file-size", "integer"], id="bool-for-int"),
        pytest.param("max-file-size = 0\n", ["max-file-size", "greater than 0"], id="bad-value"),
        pytest.param('[links]\nkeep-display = "yes"\n', ["links.keep-display", "boolean"]),
        pytest.param("cache = 1\n", ["cache", "boolean"], id="int-for-bool"),
        pytest.param('exclude = "drafts"\n', ["exclude", "list"], id="string-for-list"),
        pytest.param('fail-on = "never"\n', ["fail-on", "'warning'"], id="bad-literal"),
        pytest.param("x = 1\ny = = 2\n", ["invalid TOML", "line 2"], id="bad-toml"),
        pytest.param('select = ["L001", "Z9"]\n', ["select", "'Z9'"], id="unknown-rule-select"),
        pytest.param(
            'ignore = ["nonsense-rule"]\n', ["ignore", "nonsense-rule"], id="unknown-name"
        ),
        pytest.param(
            '[severity]\nL001 = "fatal"\n', ["severity.L001", "'error'"], id="bad-severity"
        ),
        pytest.param('[severity]\nQ1 = "info"\n', ["severity", "'Q1'"], id="severity-unknown-code"),
        pytest.param("[links.canonical]\na = 1\n", ["links.canonical.a", "string"]),
        pytest.param('[links.canonical]\na = ""\n', ["links.canonical", "empty"], id="empty"),
        pytest.param(
            '[links.canonical]\n"c sharp" = "C# notes"\n', ["links.canonical", "'#'"], id="hash"
        ),
        pytest.param("[watch]\ndebounce-ms = -5\n", ["watch.debounce-ms"], id="nested-range"),
    ],
)
def test_config_errors_are_one_line_naming_the_key(
    tmp_path: Path, capsys: Cap, toml: str, names: list[str]
) -> None:
    root = write_vault(tmp_path / "v", {".vaultsync.toml": toml, "a.md": "[[gone]]\n"})
    code, out, err = run_cli(capsys, "check", str(root))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"vaultsync: error: {root / '.vaultsync.toml'}: ")
    for name in names:
        assert name in err


def test_config_error_through_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    root = write_vault(tmp_path / "v", {".vaultsync.toml": "[links]\nkeep_display = true\n"})
    result = subprocess.run(
        [sys.executable, "-m", "vaultsync", "check", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"vaultsync: error: {root / '.vaultsync.toml'}: links.keep_display: unknown key"
    ]


def test_config_not_utf8_and_missing_explicit_file(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(tmp_path / "v", {".vaultsync.toml": b"exclude = ['\xff']\n"})
    code, _, err = run_cli(capsys, "check", str(root))
    assert code == 2 and "not valid UTF-8" in err
    code, _, err = run_cli(capsys, "check", str(root), "--config", str(tmp_path / "nope.toml"))
    assert code == 2 and "nope.toml" in err and err.count("\n") == 1


def test_config_is_discovered_upward_from_the_checked_path(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v",
        {
            ".vaultsync.toml": 'ignore = ["L001"]\nfail-on = "error"\n',
            "deep/er/a.md": "[[gone]] [[open_source]] [[Open Source]]\n",
        },
    )
    found = diagnostics(capsys, root / "deep" / "er" / "a.md")
    assert [d["code"] for d in found] == ["L002"]  # L001 ignored by the root's config
    code, _, _ = run_cli(capsys, "check", str(root / "deep"))
    assert code == 0  # fail-on = error: warnings do not fail


def test_explicit_config_file_replaces_the_vaults(tmp_path: Path, capsys: Cap) -> None:
    root = write_vault(
        tmp_path / "v", {".vaultsync.toml": 'ignore = ["L001"]\n', "a.md": "[[gone]]\n"}
    )
    other = tmp_path / "other.toml"
    other.write_text('ignore = ["L009"]\n', encoding="utf-8")
    assert [d["code"] for d in diagnostics(capsys, root)] == []
    assert [d["code"] for d in diagnostics(capsys, root, "--config", str(other))] == ["L001"]


def test_every_documented_section_is_accepted(tmp_path: Path, capsys: Cap) -> None:
    toml = """
exclude = ["drafts/"]
select = ["L", "V"]
ignore = ["L009"]
fail-on = "error"
all-files = false
max-file-size = 1048576
cache = true
[severity]
L001 = "error"
[links]
keep-display = true
[links.canonical]
"open source" = "Open Source"
[backlinks]
enabled = true
heading = "## Backlinks"
exclude = ["daily/**"]
[index]
enabled = true
[schemas]
dir = ".vaultsync/schemas"
[watch]
debounce-ms = 250
fix = ["S"]
follow-renames = true
[api]
port = 0
allowed-origins = ["app://obsidian.md"]
"""
    root = write_vault(tmp_path / "v", {".vaultsync.toml": toml, "a.md": "[[gone]]\n"})
    code, out, err = run_cli(capsys, "check", str(root))
    assert (code, err) == (1, "")
    assert "L001" in out


def test_the_plain_settings_and_the_schema_list_the_same_fields() -> None:
    # A warm run reads the dataclasses of config/settings.py, a new config file is
    # validated by the pydantic models of config/schema.py: they must never drift.
    from vaultsync.config.settings import schema_differences

    assert schema_differences() == []


def test_a_drift_between_settings_and_schema_is_named() -> None:
    import dataclasses

    from pydantic import BaseModel, StrictInt

    from vaultsync.config.settings import schema_differences

    @dataclasses.dataclass(frozen=True)
    class Plain:
        port: int = 0
        hosts: list[str] = dataclasses.field(default_factory=list)

    class Model(BaseModel):
        port: StrictInt = 1
        host: list[str] = []

    assert schema_differences(Plain, Model, "Api") == [
        "Api: schema fields ['port', 'host'], settings fields ['port', 'hosts']",
        "Api.port: schema default 1, settings default 0",
    ]
