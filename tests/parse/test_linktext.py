"""One encoder and one decoder for markdown link destinations (issue 17, item 9).

For any file name, the destination vaultsync writes must read back, through the
parser, as that very name: otherwise a fix, a move or a generated section would
write a link that no longer resolves.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.clirun import graph_links, run_cli
from tests.conftest import write_vault
from vaultsync.core.model import LinkKind
from vaultsync.parse.linktext import decode_destination, encode_destination
from vaultsync.parse.scanner import parse

Capsys = pytest.CaptureFixture[str]

# Names made of what real vaults hold and what a destination is sensitive to.
_TRICKY = " ()%<>#^|[]\\:!`$*_~\t\u00a0\u3000é日本語🗂️-."
name_char = st.one_of(
    st.sampled_from(list(_TRICKY)),
    # Surrogates cannot be written as UTF-8; a `/` inside a segment would make an empty
    # one (`//0`), which no vault path has.
    st.characters(exclude_categories=("Cs",), exclude_characters="/"),
)
segment = st.text(name_char, min_size=1, max_size=12)
names = st.lists(segment, min_size=1, max_size=3).map(
    lambda parts: unicodedata.normalize("NFC", "/".join(parts))  # vault paths are NFC
)


def _read_back(destination: str, angle: bool) -> tuple[str, LinkKind]:
    written = f"<{destination}>" if angle else destination
    links = parse(f"see [x]({written}) here\n").links
    assert len(links) == 1, (destination, links)
    return links[0].linkpath, links[0].kind


@settings(max_examples=300, deadline=None)
@given(names, st.booleans())
@example("Note (a.md", False)
@example("Note (a).md", False)
@example("a)(b.md", False)
@example("((nested)).md", False)
@example("C# (notes).md", False)
@example("100%25 done.md", False)
@example("<tag>.md", True)
@example("http:x.md", False)
@example("line\nbreak", False)
@example("nbsp\u00a0name.md", False)
@example("x/y z/(w).md", True)
def test_an_encoded_name_reads_back_as_itself(name: str, angle: bool) -> None:
    destination = encode_destination(name, angle)
    assert decode_destination(destination) == name
    linkpath, kind = _read_back(destination, angle)
    assert kind is LinkKind.MARKDOWN
    assert linkpath == name


def test_the_encoding_stays_readable() -> None:
    # Obsidian writes spaces as %20 and keeps parentheses that pair up (R40, R42).
    assert encode_destination("My Note (draft).md") == "My%20Note%20(draft).md"
    assert encode_destination("Note (a.md") == "Note%20%28a.md"
    assert encode_destination("C# notes.md") == "C%23%20notes.md"
    assert encode_destination("My Note (a.md", angle=True) == "My Note (a.md"
    assert encode_destination("日本語.md") == "日本語.md"


def test_a_case_fix_keeps_an_encoded_parenthesis_encoded(tmp_path: Path, capsys: Capsys) -> None:
    """`[x](note%20%28a.md)` became `[x](Note%20(a.md)` after the L009 fix: no link."""
    root = write_vault(
        tmp_path / "v",
        {"Note (a.md": "target\n", "From.md": "[x](note%20%28a.md) and [y](<note (a.md>)\n"},
    )
    assert _resolved(capsys, root) == ["Note (a.md", "Note (a.md"]
    code, _out, err = run_cli(capsys, "fix", str(root), "--select", "L009")
    assert code == 0, err
    text = (root / "From.md").read_text(encoding="utf-8")
    assert text == "[x](Note%20%28a.md) and [y](<Note (a.md>)\n"
    assert _resolved(capsys, root) == ["Note (a.md", "Note (a.md"]


def _resolved(capsys: Capsys, root: Path) -> list[str | None]:
    return [k["resolved"] for k in graph_links(capsys, root) if k["source"] == "From.md"]
