"""The pre-commit hooks, run by the real `pre-commit` in a real git repository.

The hooks come from this repository's `.pre-commit-hooks.yaml`, turned into
`repo: local` hooks that run this checkout's `python -m vaultsync` (`language:
system`): everything the manifest says (entry and its flags, file types, serial,
file passing) is what pre-commit runs, without building a virtualenv and
installing vaultsync from the network for every test run. The manifest itself is
checked with `pre-commit validate-manifest`, and the README's configurations with
`pre-commit validate-config`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO, SECTIONS_ON, write_vault
from vaultsync.cli import main

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
    )
    return env


def local_hooks() -> dict[str, Any]:
    """The manifest's hooks as a `repo: local` config running this checkout's vaultsync."""
    manifest = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hooks = []
    for hook in manifest:
        program, _, arguments = hook["entry"].partition(" ")
        assert program == "vaultsync"
        hooks.append(
            {
                **hook,
                "entry": f"{shlex.quote(sys.executable)} -m vaultsync {arguments}",
                "language": "system",
            }
        )
    return {"repos": [{"repo": "local", "hooks": hooks}]}


class Repo:
    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def git(self, *argv: str) -> subprocess.CompletedProcess[str]:
        result = self.run("git", *argv)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def commit(self, message: str) -> subprocess.CompletedProcess[str]:
        """`git commit` with the installed hook; returns the result, whatever it is."""
        return self.run("git", "commit", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "notes"
    root.mkdir()
    repo = Repo(root, environment(tmp_path))
    repo.git("init", "-q")
    repo.write(".vaultsync.toml", SECTIONS_ON)
    repo.write("Open Source.md", "# Open Source\n\nWhy it matters.\n")
    repo.write("Ideas.md", "# Ideas\n\nNothing yet.\n")
    repo.write(".pre-commit-config.yaml", yaml.safe_dump(local_hooks(), sort_keys=False))
    repo.git("add", ".")
    repo.git("commit", "-q", "-m", "vault")
    installed = repo.run(*PRE_COMMIT, "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return repo


def test_hooks_block_a_broken_link_then_fix_variants_once(repo: Repo) -> None:
    # 1. A broken link: vaultsync-check blocks the commit and shows the diagnostic.
    repo.write("Ideas.md", "# Ideas\n\nSee [[Roadmap 2025]].\n")
    repo.git("add", "Ideas.md")
    blocked = repo.commit("broken link")
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, output
    assert re.search(r"vaultsync check\.+Failed", output), output
    assert re.search(r"vaultsync fix\.+Passed", output), output  # nothing to fix
    assert 'Ideas.md:3:5: L001 Broken link: no note or file matches "Roadmap 2025"' in output
    assert repo.git("log", "--oneline").stdout.count("\n") == 1

    # 2. Variant spellings instead: vaultsync-fix rewrites them and fails once.
    repo.write("Ideas.md", "# Ideas\n\nSee [[open_source]] and [[open-source|this]].\n")
    repo.git("add", "Ideas.md")
    fixed = repo.commit("variants")
    output = fixed.stdout + fixed.stderr
    assert fixed.returncode != 0, output
    assert re.search(r"vaultsync fix\.+Failed", output), output
    assert "files were modified by this hook" in output
    assert "Fixed Ideas.md (L002: 2)" in output
    # Open Source.md was not staged, but its backlinks section has to follow.
    assert "Fixed Open Source.md (S001: 1)" in output
    assert repo.read("Ideas.md") == "# Ideas\n\nSee [[Open Source]] and [[Open Source|this]].\n"
    assert "- [[Ideas]]" in repo.read("Open Source.md")
    assert repo.git("log", "--oneline").stdout.count("\n") == 1

    # 3. With the fixes staged, both hooks pass and the commit goes through.
    repo.git("add", "Ideas.md", "Open Source.md")
    passed = repo.commit("variants, fixed")
    output = passed.stdout + passed.stderr
    assert passed.returncode == 0, output
    assert re.search(r"vaultsync fix\.+Passed", output), output
    assert re.search(r"vaultsync check\.+Passed", output), output
    assert repo.git("log", "--oneline").stdout.count("\n") == 2
    assert repo.git("status", "--porcelain").stdout == ""


def test_hooks_skip_commits_without_notes(repo: Repo) -> None:
    repo.write("script.py", "print('hi')\n")
    repo.git("add", "script.py")
    result = repo.commit("no notes")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"vaultsync check\.+\(no files to check\)Skipped", output), output


def test_manifest_is_valid(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PRE_COMMIT, "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
        env=environment(tmp_path),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for hook in manifest}
    assert set(hooks) == {"vaultsync-check", "vaultsync-fix"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["types"] == ["markdown"]
        assert hook["require_serial"] is True
        assert hook["pass_filenames"] is True
    assert hooks["vaultsync-fix"]["entry"] == "vaultsync fix --exit-zero"


def readme_configs() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL)
    return [block for block in blocks if block.lstrip().startswith(("repos:", "# .pre-commit"))]


def test_readme_configs_are_valid(tmp_path: Path) -> None:
    configs = readme_configs()
    assert len(configs) == 2  # the hooks from this repository, and a local variant
    for i, text in enumerate(configs):
        path = tmp_path / f"config-{i}.yaml"
        path.write_text(text, encoding="utf-8")
        result = subprocess.run(
            [*PRE_COMMIT, "validate-config", str(path)],
            capture_output=True,
            text=True,
            env=environment(tmp_path),
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        ids = [h["id"] for r in yaml.safe_load(text)["repos"] for h in r["hooks"]]
        assert ids == ["vaultsync-fix", "vaultsync-check"]


# `vaultsync fix NOTE…` as the fix hook runs it, in-process: which notes follow.


def fix(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> str:
    capsys.readouterr()
    code = main(["fix", "--exit-zero", *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def test_fix_of_one_note_updates_the_backlinks_it_affects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_vault(
        tmp_path / "vault",
        {
            ".vaultsync.toml": SECTIONS_ON,
            "Hub.md": "# Hub\n",
            "Open Source.md": "# Open Source\n",
            "Ideas.md": "# Ideas\n[[Hub]]\n",
            "Other.md": "# Other\n[[open_source]]\n",  # not passed: must stay as it is
        },
    )
    fix(capsys, root, str(root))  # a consistent vault: Hub lists Ideas, Open Source none
    assert "- [[Ideas]]" in (root / "Hub.md").read_text(encoding="utf-8")
    other = (root / "Other.md").read_text(encoding="utf-8")

    # Ideas stops linking Hub and links a variant of Open Source instead.
    (root / "Ideas.md").write_text("# Ideas\n[[open-source]]\n", encoding="utf-8")
    out = fix(capsys, root, str(root / "Ideas.md"))
    assert out.splitlines()[:3] == [
        "Fixed Hub.md (S001: 1)",  # lost its only backlink: the section goes
        "Fixed Ideas.md (L002: 1)",
        "Fixed Open Source.md (S001: 1)",  # gained one
    ]
    assert "Backlinks" not in (root / "Hub.md").read_text(encoding="utf-8")
    assert "- [[Ideas]]" in (root / "Open Source.md").read_text(encoding="utf-8")
    assert (root / "Other.md").read_text(encoding="utf-8") == other


def test_fix_leaves_other_notes_alone_when_backlinks_are_not_selected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_vault(
        tmp_path / "vault",
        {
            ".vaultsync.toml": SECTIONS_ON,
            "Open Source.md": "# Open Source\n",
            "Ideas.md": "# Ideas\n[[open_source]]\n",
        },
    )
    out = fix(capsys, root, "--select", "L002", str(root / "Ideas.md"))
    assert out.startswith("Fixed Ideas.md (L002: 1)\nFixed 1 problem in 1 file")
    assert (root / "Open Source.md").read_text(encoding="utf-8") == "# Open Source\n"
