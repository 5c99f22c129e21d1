"""Convergence (§9, §10.5): after a storm of changes the daemon's vault is what `fix` makes.

A seeded, count- and time-bounded storm of edits, creates, deletes and renames hits a
300-note vault while the daemon runs, including saves that land while the daemon is
writing sections. Once it goes quiet: a one-shot `vaultsync fix --select S` of a copy
changes nothing (the daemon already made the same bytes), every edit the storm made is
still there, and no link still names a note that was renamed.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO, write_vault
from tests.daemon_harness import Daemon, vault_config

# Slow (soak): plain `pytest` deselects it; the full run (README, .ci/run) has it.
pytestmark = pytest.mark.slow

NOTES = 300
FOLDERS = ("", "inbox", "projects", "projects/archive", "people")
STORM_OPS = 250
STORM_SECONDS = 12.0
SEED = 20240611


@dataclass
class Model:
    """What the storm believes: where each note is and the edits it made to it."""

    rng: random.Random
    paths: dict[str, str] = field(default_factory=dict)  # stem -> vault path
    tokens: dict[str, list[str]] = field(default_factory=dict)  # stem -> edit tokens
    renamed: list[str] = field(default_factory=list)  # stems that no longer exist by rename
    counter: int = 0

    def stem(self) -> str:
        return self.rng.choice(sorted(self.paths))

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix} {self.counter:04d}"

    def links(self, k: int) -> str:
        return " ".join(f"[[{self.stem()}]]" for _ in range(k))


def make_vault(root: Path, model: Model) -> None:
    files: dict[str, str | bytes] = {}
    for i in range(NOTES):
        stem = f"Note {i:03d}"
        folder = FOLDERS[i % len(FOLDERS)]
        model.paths[stem] = f"{folder}/{stem}.md" if folder else f"{stem}.md"
        model.tokens[stem] = []
    for stem, path in model.paths.items():
        body = "\n".join(
            f"Line {j} about {model.links(model.rng.randint(0, 2))}"
            for j in range(model.rng.randint(1, 4))
        )
        files[path] = f"# {stem}\n\n{body}\n"
    write_vault(root, files)
    vault_config(root)


def edit(root: Path, model: Model) -> None:
    """A user's save: the note as it is now, plus one line (read and written at once)."""
    stem = model.stem()
    path = root / model.paths[stem]
    token = model.fresh("edit")
    try:
        text = path.read_text(encoding="utf-8")
        head, _, rest = text.partition("\n")
        path.write_text(f"{head}\n{token} {model.links(1)}\n{rest}", encoding="utf-8")
    except FileNotFoundError:
        return
    model.tokens[stem].append(token)


def create(root: Path, model: Model) -> None:
    stem = model.fresh("New")
    folder = model.rng.choice(FOLDERS)
    rel = f"{folder}/{stem}.md" if folder else f"{stem}.md"
    token = model.fresh("created")
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(f"# {stem}\n\n{token} {model.links(2)}\n", encoding="utf-8")
    model.paths[stem] = rel
    model.tokens[stem] = [token]


def delete(root: Path, model: Model) -> None:
    stem = model.stem()
    (root / model.paths.pop(stem)).unlink()
    del model.tokens[stem]


def rename(root: Path, model: Model) -> None:
    stem = model.stem()
    new_stem = model.fresh("Renamed")
    folder = model.rng.choice(FOLDERS)
    rel = f"{folder}/{new_stem}.md" if folder else f"{new_stem}.md"
    os.rename(root / model.paths.pop(stem), root / rel)
    model.paths[new_stem] = rel
    model.tokens[new_stem] = model.tokens.pop(stem)
    model.renamed.append(stem)


def storm(root: Path, model: Model) -> int:
    rng = model.rng
    actions = [edit] * 14 + [create] * 2 + [delete] * 1 + [rename] * 3
    deadline = time.monotonic() + STORM_SECONDS
    done = 0
    while done < STORM_OPS and time.monotonic() < deadline:
        rng.choice(actions)(root, model)
        done += 1
        # Mostly faster than the quiet period; sometimes a pause lets the daemon write,
        # so later saves land on notes it is writing or has just written.
        time.sleep(rng.choice((0.0, 0.0, 0.005, 0.02, 0.06, 0.15)))
    return done


def snapshot(root: Path) -> dict[str, bytes]:
    found = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not any(p.startswith(".") for p in rel.split("/")):
            found[rel] = path.read_bytes()
    return found


def test_storm_converges_to_one_shot_fix(tmp_path: Path) -> None:
    model = Model(random.Random(SEED))
    root = tmp_path / "vault"
    make_vault(root, model)
    with Daemon(root) as daemon:
        daemon.settled()
        operations = storm(root, model)
        daemon.settled(quiet=1.0, timeout=60)
        assert daemon.proc.poll() is None
    assert operations >= 100, "the storm was too small to mean anything"
    final = snapshot(root)

    # Every edit the storm made is in the note it made it in (wherever that note went).
    assert set(final) == set(model.paths.values())
    for stem, tokens in model.tokens.items():
        text = final[model.paths[stem]].decode("utf-8")
        missing = [t for t in tokens if t not in text]
        assert not missing, f"{model.paths[stem]} lost edits {missing}"

    # No link still names a note that was renamed outside Obsidian.
    assert model.renamed, "the storm renamed nothing"
    for rel, data in final.items():
        text = data.decode("utf-8")
        stale = [s for s in model.renamed if re.search(rf"\[\[{re.escape(s)}[\]|#]", text)]
        assert not stale, f"{rel} still links to renamed {stale}"

    # A one-shot fix of the same final content changes nothing: the daemon converged.
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".vaultsync"))
    done = subprocess.run(
        [sys.executable, "-m", "vaultsync", "fix", str(copy), "--select", "S", "--exit-zero"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    fixed = snapshot(copy)
    # Nor did the daemon turn any section into a "hand edit" (S004) on the way.
    edited = subprocess.run(
        [sys.executable, "-m", "vaultsync", "check", str(copy), "--select", "S003,S004", "-q"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert edited.returncode == 0, edited.stdout[:2000]
    differs = sorted(p for p in final if fixed.get(p) != final[p])
    assert not differs, f"the daemon's result differs from `fix --select S` in {differs[:5]}"
    assert fixed == final
