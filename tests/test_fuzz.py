"""Fuzzing the whole engine on generated vaults: `fix` and `graph` through the real CLI.

Notes come from the parser property tests' generator (frontmatter, fences of both kinds,
nested fences, comments of both kinds, tables, math, lists, every link form, arbitrary
Unicode, LF or CRLF); the parser's own properties live there. Here, for whole vaults:

- `fix` never fails (exit 0 or 1), and a second `fix` changes nothing (§10.3);
- `fix` changes only bytes inside links and appends or rewrites generated sections: the
  text outside every link of the original note survives, in order (§10.4);
- `graph` is the same whatever order the files were created in.

Example counts are modest for CI; `VAULTSYNC_FUZZ_EXAMPLES=2000` is the nightly profile.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import write_vault
from tests.parse.test_parser_properties import documents
from vaultsync.cli import main
from vaultsync.parse.scanner import parse

# Slow (fuzz): plain `pytest` deselects it; the full run (README, .ci/run) has it.
pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("VAULTSYNC_FUZZ_EXAMPLES", "50"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# fix fsyncs every write: on a busy disk that, not vaultsync, is most of the time. These
# tests check logic, not durability (test_writer and the SIGKILL test do that): use RAM.
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None

# Notes the generated links point at (the generator's link targets), so links resolve,
# resolve under another spelling (fixable) or stay broken.
TARGETS: dict[str, str | bytes] = {
    "Note.md": "# Note\n## Heading\n## H1\n### H2\nx ^block-1\n",
    "Open Source AI Models.md": "---\naliases: [AI models]\n---\n# Open Source AI Models\n",
    "folder/Sub Note.md": "# Sub Note\n",
    "日本語.md": "# 日本語\n",
    "Café.md": "# Café\n",
    "a.b.md": "# a.b\n",
}

generated_vault = st.lists(documents(), min_size=1, max_size=4).map(
    lambda docs: {f"gen{i}.md": text for i, (text, _fences) in enumerate(docs)}
)


def _cli(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    assert code in (0, 1), err.getvalue()
    return code, out.getvalue()


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*.md"))
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
    }


def _preserved(original: str, fixed: str) -> bool:
    """Does `fixed` hold every character of `original` outside its links, in order, with
    only link text changed in between and generated sections added at the end?"""
    note = parse(original)
    spans = sorted((link.span.start, link.span.end) for link in note.links)
    pieces: list[str] = []
    pos = 0
    for start, end in spans:
        if start < pos:  # a link inside another one (a property link, a nested form)
            continue
        pieces.append(re.escape(original[pos:start]))
        pos = end
    pieces.append(re.escape(original[pos:]))
    # Each link may be rewritten (on one line: links never span lines); a generated
    # section may follow the text (or replace one already at its end).
    pattern = "[^\n]*?".join(pieces) + ".*"
    return re.fullmatch(pattern, fixed, re.DOTALL) is not None


@FUZZ
@given(generated_vault)
def test_fix_is_idempotent_and_keeps_the_text_outside_its_edits(notes: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        root = write_vault(Path(tmp) / "vault", {**TARGETS, **notes})
        _cli("fix", str(root), "--no-cache")
        once = _files(root)
        for name, text in notes.items():
            fixed = once[name].decode("utf-8")
            assert _preserved(text, fixed), (name, text, fixed)
        _cli("fix", str(root), "--no-cache")
        assert _files(root) == once, "a second fix changed the vault"
        code, out = _cli("fix", str(root), "--no-cache", "--diff")
        assert (code, out) == (0, "")


def _graph(root: Path) -> dict[str, object]:
    _, out = _cli("graph", str(root), "--format", "json", "--no-cache")
    document: dict[str, object] = json.loads(out)
    document.pop("vault", None)  # the folder's own path differs between the two vaults
    return document


@FUZZ
@given(generated_vault, st.randoms(use_true_random=False))
def test_graph_does_not_depend_on_file_creation_order(notes: dict[str, str], rng: object) -> None:
    files = {**TARGETS, **notes}
    names = list(files)
    shuffled = names[:]
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp:
        first = write_vault(Path(tmp) / "a", {n: files[n] for n in names})
        second = write_vault(Path(tmp) / "b", {n: files[n] for n in reversed(shuffled)})
        # Different modification times too, newest first in one vault, last in the other.
        for i, name in enumerate(shuffled):
            os.utime(second / name, (1_000_000 + i, 1_000_000 + i))
        assert _graph(first) == _graph(second)
