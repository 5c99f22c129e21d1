"""Property tests of `fix` over generated notes: exact edits, idempotence, CAS (§10.2-§10.4).

Each generated note is a sequence of segments: filler text (that can form no syntax) and
links of every form. Every segment's fixed spelling is known in advance, so the fixed note
must be exactly the concatenation of the expected segments: any byte changed outside an
edit, any lost BOM, CRLF or final newline fails the test.
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

from tests.conftest import write_vault
from vaultsync.cli import main
from vaultsync.config.settings import load_config
from vaultsync.fixing.fix import fix_vault
from vaultsync.lint import engine
from vaultsync.rules import Selection

# Slow (hypothesis): plain `pytest` deselects it; the full run (README, .ci/run) has it.
pytestmark = pytest.mark.slow

STATIC = {
    "Open Source AI Models.md": "# Open Source AI Models\n## Intro\n",
    "Alpha Beta.md": "# Alpha Beta\n",
    "Artificial Intelligence.md": "---\naliases: [AI]\n---\n# Artificial Intelligence\n",
}

# (as written, as `fix --select L` must leave it)
LINKS = [
    ("[[open_source_ai_models]]", "[[Open Source AI Models]]"),
    ("[[open-source AI models|what you read]]", "[[Open Source AI Models|what you read]]"),
    ("[[ open_source_ai_models | padded ]]", "[[ Open Source AI Models | padded ]]"),
    ("[[open_source_ai_models#Intro]]", "[[Open Source AI Models#Intro]]"),
    ("![[alpha_beta]]", "![[Alpha Beta]]"),
    ("[md](open_source_ai_models.md)", "[md](Open%20Source%20AI%20Models.md)"),
    ("[md](<open-source ai models.md>)", "[md](<Open Source AI Models.md>)"),
    ("[[AI]]", "[[Artificial Intelligence|AI]]"),
    ("[[alpha beta]]", "[[Alpha Beta]]"),  # L009: resolves, spelled unlike the file
    ("[[Missing Note]]", "[[Missing Note]]"),  # L001: no safe fix
    ("`[[open_source_ai_models]]`", "`[[open_source_ai_models]]`"),  # code is not a link
    # Obsidian comments hold links, but commented-out ones are not checked (check-comments)
    ("%% [[alpha_beta]] %%", "%% [[alpha_beta]] %%"),
    ("[[Open Source AI Models]]", "[[Open Source AI Models]]"),
]

# Letters, digits and a few marks that start no Markdown or Obsidian syntax.
FILLER = st.text(alphabet="abcXYZ019 .,;:éßЖ中😀", max_size=12).map(str.lstrip)
SEGMENT = st.one_of(
    FILLER.map(lambda t: (t, t)),
    st.sampled_from(LINKS),
)


@st.composite
def notes(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """(note bytes as written, the bytes `fix --select L` must produce)."""
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    parts = draw(st.lists(st.tuples(SEGMENT, st.sampled_from([" ", newline])), max_size=14))
    written = "".join(seg[0] + sep for seg, sep in parts)
    expected = "".join(seg[1] + sep for seg, sep in parts)
    if parts and not draw(st.booleans()):  # without a final line ending
        written, expected = written.rstrip(" \r\n"), expected.rstrip(" \r\n")
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + written).encode("utf-8"), (bom + expected).encode("utf-8")


def _fix(root: Path, *argv: str) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(["fix", str(root), *argv])


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.glob("*.md")
    }


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(notes())
def test_fix_changes_exactly_the_edits_and_is_idempotent(note: tuple[bytes, bytes]) -> None:
    written, expected = note
    with tempfile.TemporaryDirectory() as tmp:
        root = write_vault(Path(tmp) / "v", {**STATIC, "Gen.md": written})
        assert _fix(root, "--select", "L") in (0, 1)
        assert (root / "Gen.md").read_bytes() == expected
        # With every rule (generated sections too), a second run changes no byte.
        assert _fix(root) in (0, 1)
        settled = _hashes(root)
        assert _fix(root) in (0, 1)
        assert _hashes(root) == settled
        assert (root / "Gen.md").read_bytes() == expected  # nobody links to it: no section


@PROPERTY
@given(notes(), FILLER)
def test_a_note_changed_after_the_read_is_never_overwritten(
    note: tuple[bytes, bytes], typed: str
) -> None:
    written, _ = note
    with tempfile.TemporaryDirectory() as tmp:
        root = write_vault(Path(tmp) / "v", {**STATIC, "Gen.md": written})
        vault = engine.load(root, load_config(root))
        edited = written + ("user typed " + typed).encode("utf-8")
        (root / "Gen.md").write_bytes(edited)
        result = fix_vault(vault, Selection.build([], []))
        assert (root / "Gen.md").read_bytes() == edited
        assert "Gen.md" not in result.changes
