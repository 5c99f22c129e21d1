"""Property test of backlinks sections over generated vaults (§6, §10.3, §10.4).

Each note is filler text and links to the other notes in several syntaxes, with
LF or CRLF, with or without a BOM and a final newline. Who links to whom is known
from the draw, so the exact bytes after `fix --select S` are known too: the note
as written plus, when something links to it, the section built here. Taking the
links away again must give back the original bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SECTIONS_ON, write_vault
from vaultsync.cli import main

# Slow (hypothesis): plain `pytest` deselects it; the full run (README, .ci/run) has it.
pytestmark = pytest.mark.slow

NOTES = ["Alpha.md", "beta.md", "sub/Gamma.md", "Ünï.md"]
NAMES = {path: path.rsplit("/", 1)[-1][:-3] for path in NOTES}
# (link as written, the note it reaches)
LINKS = [
    ("[[Alpha]]", "Alpha.md"),
    ("[[alpha|shown]]", "Alpha.md"),
    ("![[beta]]", "beta.md"),
    ("[b](beta.md)", "beta.md"),
    ("[[sub/Gamma#h]]", "sub/Gamma.md"),
    ("%% [[Gamma]] %%", "sub/Gamma.md"),
    ("[[Ünï]]", "Ünï.md"),
    ("[u](<Ünï.md>)", "Ünï.md"),
]
FILLER = st.text(alphabet="abcXYZ019 .,;:éßЖ中😀", max_size=10).map(str.lstrip)


@st.composite
def note(draw: st.DrawFn) -> tuple[str, bool, list[str]]:
    """(text, bom, notes linked)."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    segment = st.one_of(FILLER.map(lambda t: (t, "")), st.sampled_from(LINKS))
    parts = draw(st.lists(st.tuples(segment, st.sampled_from([" ", newline])), max_size=8))
    text = "".join(written + separator for (written, _), separator in parts)
    text = text.rstrip(" \r\n")
    if draw(st.booleans()):
        text += newline
    return text, draw(st.booleans()), [target for (_, target), _ in parts if target]


def _section(entries: list[str], nl: str) -> str:
    body = nl + nl.join(["## Backlinks", *entries]) + nl
    digest = hashlib.sha256(body.replace("\r\n", "\n").encode()).hexdigest()[:8]
    return f"<!-- vaultsync:begin backlinks hash={digest} -->{body}<!-- vaultsync:end backlinks -->"


def _expected(text: str, sources: set[str]) -> str:
    """The note after `fix`: a blank line and the section appended in its line endings."""
    if not sources:
        return text
    nl = "\r\n" if "\n" in text and text[text.index("\n") - 1] == "\r" else "\n"
    ordered = sorted(sources, key=lambda p: (NAMES[p].casefold(), p))
    section = _section([f"- [[{NAMES[p]}]]" for p in ordered], nl)
    if not text:
        return section + nl
    if text.endswith("\n"):
        return text + nl + section + nl
    return text + nl + nl + section  # no final newline before, none after


def _fix(root: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["fix", str(root), "--select", "S", "--no-cache"]) in (0, 1)


def _bytes(root: Path) -> dict[str, bytes]:
    return {path: (root / path).read_bytes() for path in NOTES}


def _unlinked(text: str) -> str:
    for written, _target in LINKS:
        text = text.replace(written, "")
    return text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(note(), min_size=len(NOTES), max_size=len(NOTES)))
def test_sections_are_exact_idempotent_and_reversible(
    drawn: list[tuple[str, bool, list[str]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        sources: dict[str, set[str]] = {path: set() for path in NOTES}
        for path, (_text, _bom, targets) in zip(NOTES, drawn, strict=True):
            for target in targets:
                if target != path:
                    sources[target].add(path)
        bom = {path: "\ufeff" if b else "" for path, (_t, b, _l) in zip(NOTES, drawn, strict=True)}
        texts = {path: text for path, (text, _b, _l) in zip(NOTES, drawn, strict=True)}
        write_vault(root, {path: (bom[path] + texts[path]).encode() for path in NOTES})
        (root / ".vaultsync.toml").write_text(SECTIONS_ON, encoding="utf-8")
        _fix(root)
        for path in NOTES:
            expected = bom[path] + _expected(texts[path], sources[path])
            assert (root / path).read_bytes() == expected.encode(), path
        fixed = _bytes(root)
        _fix(root)
        assert _bytes(root) == fixed  # a second run changes nothing
        # Take every link out of the text vaultsync did not write: the sections go, and
        # each note is exactly its text without links again.
        for path in NOTES:
            section = fixed[path].decode()[len(bom[path] + texts[path]) :]
            (root / path).write_bytes((bom[path] + _unlinked(texts[path]) + section).encode())
        _fix(root)
        for path in NOTES:
            assert (root / path).read_bytes() == (bom[path] + _unlinked(texts[path])).encode()
