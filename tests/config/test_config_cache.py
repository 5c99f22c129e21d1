"""A config validated once is read back from the vault's cache, keyed by its bytes.

What a user notices: start-up stays lean (pydantic, which validates the file, is not
even imported when the file is unchanged), yet any edit to the file is validated
again, and a damaged cache never hides an error or crashes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_vault

REPO = Path(__file__).resolve().parents[2]
# Runs `vaultsync ARGS` in a fresh interpreter, then prints whether pydantic was imported.
_PROBE = (
    "import sys\n"
    "from vaultsync.cli import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "except SystemExit as exc:\n"
    "    code = exc.code\n"
    "print(code, 'pydantic' in sys.modules, file=sys.stderr)\n"
)

CONFIG = '[links]\nkeep-display = true\n\n[severity]\nL001 = "error"\n'


def _run(*args: str) -> tuple[int, bool, str]:
    """(exit code, was pydantic imported, stderr before the probe's own line)."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    *rest, last = proc.stderr.strip().splitlines()
    code, imported = last.split()
    return int(code), imported == "True", "\n".join(rest)


def _vault(tmp_path: Path, config: str = CONFIG) -> Path:
    return write_vault(tmp_path / "v", {".vaultsync.toml": config, "a.md": "[[gone]]\n"})


def test_unchanged_config_is_not_validated_again(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    first = _run("check", "--format", "json", str(vault))
    second = _run("check", "--format", "json", str(vault))
    assert first[:2] == (1, True)  # validated with pydantic the first time
    assert second[:2] == (1, False)  # read back: pydantic is never imported


def test_settings_read_back_are_the_validated_ones(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    outputs = []
    for _ in range(2):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "vaultsync",
                "check",
                "--format",
                "json",
                "--no-cache",
                str(vault),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
        )
        outputs.append(proc.stdout)
    cached = subprocess.run(
        [sys.executable, "-m", "vaultsync", "check", "--format", "json", str(vault)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    cached = subprocess.run(  # the second cached run reads the validated settings back
        [sys.executable, "-m", "vaultsync", "check", "--format", "json", str(vault)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert outputs[0] == outputs[1] == cached.stdout
    found = json.loads(cached.stdout)["diagnostics"]
    assert [(d["code"], d["severity"]) for d in found if d["code"] == "L001"] == [
        ("L001", "error")  # the config's severity override is in effect
    ]


def test_an_edited_config_is_validated_again(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    assert _run("check", str(vault))[0] == 1
    (vault / ".vaultsync.toml").write_text("bogus = 1\n" + CONFIG, encoding="utf-8")
    code, imported, err = _run("check", str(vault))
    assert (code, imported) == (2, True)
    assert "bogus: unknown key" in err and "Traceback" not in err


def test_a_damaged_config_cache_is_ignored(tmp_path: Path) -> None:
    vault = _vault(tmp_path, 'fail-on = "never"\n' + CONFIG)
    assert _run("check", str(vault))[0] == 2  # invalid: nothing is cached
    (vault / ".vaultsync.toml").write_text(CONFIG, encoding="utf-8")
    assert _run("check", str(vault))[:2] == (1, True)
    store = vault / ".vaultsync" / "cache" / "config.pickle"
    assert store.is_file()
    for damage in (b"", b"garbage\x00\x01", store.read_bytes()[:20]):
        store.write_bytes(damage)
        code, imported, err = _run("check", str(vault))
        assert (code, imported) == (1, True)  # validated afresh, and the same answer
        assert "Traceback" not in err


def test_no_cache_always_validates(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    assert _run("check", str(vault))[:2] == (1, True)
    assert _run("check", "--no-cache", str(vault))[:2] == (1, True)


def test_cold_check_without_config_or_schemas_never_imports_pydantic(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "v", {"a.md": "---\ntags: [x]\n---\n[[gone]]\n"})
    assert _run("check", "--no-cache", str(vault))[:2] == (1, False)
