"""Property tests: the parser on generated Obsidian-flavoured markdown.

Documents are built from fragments a real vault holds: frontmatter, headings,
fences of both kinds, indented code, lists with continuation lines, tables with
`\\|` links, HTML and `%%` comments, math, every link form, tags, block ids and
arbitrary (surrogate-free) Unicode. Whatever the input, parsing must not fail and
every range it reports must point at the text it describes, and nothing inside a
closed fence is a link, unless a `%%` comment, `$$` math or `<!--` opened before it
and never closed (Obsidian reads the fence as part of it).

Every example hypothesis has found is pinned with `@example`: the suite must not
depend on a local `.hypothesis/` folder.

`VAULTSYNC_FUZZ_EXAMPLES` raises the example count for nightly runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vaultsync.core.model import LinkKind, ParsedNote, Span
from vaultsync.parse.scanner import parse

# Slow (hypothesis): plain `pytest` deselects it; the full run (README, .ci/run) has it.
pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("VAULTSYNC_FUZZ_EXAMPLES", "200"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

unicode_text = st.text(
    st.characters(exclude_categories=("Cs",)),  # surrogates cannot be written as UTF-8
    max_size=30,
)
word = st.sampled_from(
    [
        "Note",
        "open_source_ai_models",
        "Open Source AI Models",
        "folder/Sub Note",
        "日本語",
        "שלום",
        "🗂️ People",
        "Cafe\u0301",
        "Sq]uare",
        "C# notes",
        "a.b",
        "",
        " padded ",
    ]
)
subpath = st.sampled_from(["", "#Heading", "#^block-1", "#H1#H2", "#", "#page=3"])
display = st.sampled_from(["", "|alias", "| spaced alias", "|100x145", "|a|b", "\\|table"])

wikilink = st.builds(
    lambda bang, t, s, d: f"{bang}[[{t}{s}{d}]]",
    st.sampled_from(["", "!"]),
    word,
    subpath,
    display,
)
markdown_link = st.builds(
    lambda bang, label, dest: f"{bang}[{label}]({dest})",
    st.sampled_from(["", "!"]),
    st.sampled_from(["", "label", "a [b] c", "#1"]),
    st.sampled_from(
        [
            "note.md",
            "Test%20Data/x.md",
            "<My Note.md>",
            "My Note.md",
            "#heading",
            "https://example.com/#x",
            "//host/x",
            "a(b).md",
            'note.md "title"',
            "",
            "Cafe%CC%81.md#Top",
        ]
    ),
)
inline_bits = st.one_of(
    wikilink,
    markdown_link,
    st.sampled_from(
        [
            "#tag",
            "#1984",
            "#nested/tag",
            "#日本",
            " ^block-id",
            "`code [[x]]`",
            "``a ` b``",
            "`",
            "$x^2 [[m]]$",
            "$5.5 million",
            "$$",
            "\\[\\[esc\\]\\]",
            "\\|",
            "[[",
            "]]",
            "[[unclosed",
            "<!-- [[c]] -->",
            "<!--",
            "-->",
            "%% [[p]] %%",
            "%%",
            '<a class="yt-timestamp" data-t="00:00:10">[00:00:10]</a>',
            "\t",
            "  ",
            "\r",
        ]
    ),
    unicode_text,
)
inline_line = st.lists(inline_bits, max_size=6).map(" ".join)


@dataclass(frozen=True)
class Fragment:
    text: str
    fence: bool = False  # a closed fence: nothing inside may be reported
    # It may leave a block open that runs on past it and takes in what follows (a fence
    # too): a line starting a `%%` comment or `$$` math not closed on it, or an `<!--`.
    opens: bool = False


def _may_open(text: str) -> bool:
    for line in text.split("\n"):
        body = line.lstrip()
        if body.startswith("<!--") and "-->" not in body:
            return True
        if any(body.startswith(mark) and body.count(mark) % 2 for mark in ("%%", "$$")):
            return True
    return False


def text_fragment(text: str) -> Fragment:
    return Fragment(text, opens=_may_open(text))


def _comment_block(html: bool, body: str) -> Fragment:
    # Its first delimiter inside the body closes it early and leaves the last one open.
    if html:
        return Fragment(f"<!--\n{body}\n-->", opens="-->" in body)
    return Fragment(f"%%\n{body}\n%%", opens="%%" in body)


def _math_block(body: str) -> Fragment:
    # `$$` math closes before a blank line: a blank body leaves the closing `$$` open.
    lines = body.split("\n")
    return Fragment(
        f"$$\n{body}\n$$", opens="$$" in body or any(not line.strip() for line in lines)
    )


def _fence(char: str, length: int, indent: int, info: str, body: list[str]) -> Fragment:
    run = char * length
    pad = " " * indent  # the body as indented as the fence: it may sit in a list item
    lines = [line.replace("\n", " ").replace("\r", " ") for line in body]
    inner = [pad + line for line in lines if not line.lstrip().startswith(char * 3)]
    lines = [f"{pad}{run}{info}", *inner, f"{pad}{run}"]
    return Fragment("\n".join(lines), fence=True)


fence = st.builds(
    _fence,
    st.sampled_from(["`", "~"]),
    st.integers(3, 5),
    st.integers(0, 3),
    st.sampled_from(["", "python", "tasks", " md"]),
    st.lists(st.one_of(inline_line, wikilink), max_size=4),
)
nested_fence = st.builds(
    lambda inner: Fragment(f"````md\n```\n{inner}\n```\n{inner}\n````", fence=True),
    wikilink,
)
heading = st.builds(
    lambda level, text: text_fragment(f"{'#' * level} {text}"), st.integers(1, 7), inline_line
)
paragraph = st.lists(inline_line, min_size=1, max_size=3).map(
    lambda lines: text_fragment("\n".join(lines))
)
indented = st.lists(inline_line, min_size=1, max_size=3).map(
    lambda lines: text_fragment("\n" + "\n".join("    " + line for line in lines))
)
list_block = st.lists(
    st.tuples(st.sampled_from(["- ", "* ", "1. ", "1.  ", "    *   ", "  - "]), inline_line),
    min_size=1,
    max_size=4,
).map(lambda items: text_fragment("\n".join(marker + text for marker, text in items)))
table = st.lists(st.tuples(inline_line, wikilink), min_size=1, max_size=3).map(
    lambda rows: text_fragment(
        "| a | b |\n| --- | --- |\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)
    )
)
comment_block = st.builds(_comment_block, st.booleans(), inline_line)
math_block = inline_line.map(_math_block)
blank = st.just(Fragment(""))

block = st.one_of(
    paragraph,
    paragraph,
    heading,
    fence,
    nested_fence,
    indented,
    list_block,
    table,
    comment_block,
    math_block,
    blank,
)
frontmatter = st.one_of(
    st.just(""),
    st.builds(
        lambda link, tag: f'---\ntitle: T\nrelated: "{link}"\ntags: [{tag}]\n---\n',
        wikilink,
        st.sampled_from(["a", "b/c", "日本"]),
    ),
    st.just("---\nbroken: [unclosed\n---\n"),
    st.just("---\nnot closed\n"),
)


def assemble(
    head: str, fragments: list[Fragment], newline: str = "\n"
) -> tuple[str, list[tuple[int, int]]]:
    """A note's text and the offset ranges of the closed fences in it that nothing left
    open before them takes in."""
    parts = [head]
    fences: list[tuple[int, int]] = []
    offset = len(head)
    open_before = False
    for fragment in fragments:
        piece = fragment.text.replace("\n", newline) + newline
        if fragment.fence and not open_before:
            fences.append((offset, offset + len(piece)))
        open_before = open_before or fragment.opens
        parts.append(piece)
        offset += len(piece)
    return "".join(parts), fences


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    """A note's text and the offset ranges of the closed fences placed in it."""
    head = draw(frontmatter)
    fragments = draw(st.lists(block, max_size=8))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return assemble(head, fragments, newline)


# Found by hypothesis (issue 17, item 11): `$$` inside a `%%` comment opened display math
# that ran through the next fence and closed inside it, so the fence after that was
# read from its middle and `[[Note]]` on line 9, inside four backticks, was reported.
ISSUE_17_NESTED_FENCE = assemble(
    "",
    [
        _comment_block(False, "$$ [[Note]]"),
        _fence("`", 3, 0, "", ["$$ [[Note]]"]),
        Fragment("````md\n```\n[[Note]]\n```\n[[Note]]\n````", fence=True),
    ],
)
assert ISSUE_17_NESTED_FENCE[0] == (
    "%%\n$$ [[Note]]\n%%\n```\n$$ [[Note]]\n```\n````md\n```\n[[Note]]\n```\n[[Note]]\n````\n"
)
# Found by hypothesis once `%%` blocks ran on (Obsidian 0.10.12): a lone `%%` line comments
# out the rest of the note, fence included, so that fence is not one the test protects.
UNCLOSED_COMMENT_BEFORE_FENCE = assemble(
    "", [text_fragment("%%"), _fence("`", 3, 0, "", ["", "[[Note]]"])]
)


def expected_position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def all_spans(note: ParsedNote) -> list[Span]:
    spans = [note.end]
    for link in note.links:
        spans += [link.span, link.target_span]
    spans += [h.span for h in note.headings]
    spans += [b.span for b in note.blocks]
    spans += [t.span for t in note.tags]
    spans += [c.span for c in note.comments]
    if note.frontmatter is not None:
        spans.append(note.frontmatter.span)
    return spans


def check_spans(text: str, note: ParsedNote) -> None:
    for span in all_spans(note):
        assert 0 <= span.start <= span.end <= len(text), span
        assert (span.line, span.column) == expected_position(text, span.start), span
        assert (span.end_line, span.end_column) == expected_position(text, span.end), span


@SETTINGS
@given(documents())
@example(ISSUE_17_NESTED_FENCE)
@example(UNCLOSED_COMMENT_BEFORE_FENCE)
def test_generated_notes_parse_with_consistent_ranges(
    document: tuple[str, list[tuple[int, int]]],
) -> None:
    text, fences = document
    note = parse(text)
    check_spans(text, note)
    for link in note.links:
        assert not any(start < link.span.start < end for start, end in fences), link
        assert text[link.target_span.start : link.target_span.end] == link.target
        if link.kind is not LinkKind.MARKDOWN:
            assert text[link.span.start : link.span.end].endswith("]]")
            assert "\n" not in text[link.span.start : link.span.end]  # R6
    for tag in note.tags:
        assert text[tag.span.start : tag.span.end] == "#" + tag.name
        assert not tag.name.replace("/", "").isdigit()  # R70
    for heading in note.headings:
        assert 1 <= heading.level <= 6
    assert note.length == len(text)
    assert note.line_count == text.count("\n") + 1


@SETTINGS
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=300))
def test_arbitrary_text_never_breaks_the_parser(text: str) -> None:
    check_spans(text, parse(text))


@SETTINGS
@given(
    st.text(
        st.sampled_from(list("[]!#|\\`$%<>-~^() \n\tax1/.:")),
        max_size=200,
    )
)
def test_syntax_soup_never_breaks_the_parser(text: str) -> None:
    note = parse(text)
    check_spans(text, note)
    for link in note.links:
        assert text[link.target_span.start : link.target_span.end] == link.target
