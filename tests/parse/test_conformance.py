"""Parser conformance: one row per Obsidian rule (obsidian-semantics.md §A, §B, §G, §H).

Each row is a note's text and what a user sees Obsidian record for it: the links
(kind, linkpath, subpath, display), the tags, the headings (level, text) and the
block ids. Every list is compared whole, so a row also fails when something extra
is reported. Rows for rules the reference marks [inferred] carry `inferred` in
their id: the parser follows the default the reference (or design.md §2) states,
and the id makes that choice easy to find and change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.clirun import diagnostics
from tests.conftest import SEEDS, write_vault
from vaultsync.core.model import Link, LinkKind, ParsedNote, Span
from vaultsync.core.properties import string_list
from vaultsync.io.files import read_note
from vaultsync.parse.scanner import parse

LinkRow = tuple[str, str, str | None, str | None]


@dataclass(frozen=True)
class Expect:
    links: list[LinkRow] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)


def kind(link: Link) -> str:
    if link.kind is LinkKind.MARKDOWN and link.embed:
        return "markdown-embed"
    return link.kind.value


def outcome(note: ParsedNote) -> Expect:
    return Expect(
        links=[(kind(k), k.linkpath, k.subpath, k.display) for k in note.links],
        tags=[t.name for t in note.tags],
        headings=[(h.level, h.text) for h in note.headings],
        blocks=[b.id for b in note.blocks],
    )


def W(target: str, subpath: str | None = None, display: str | None = None) -> LinkRow:
    return ("wikilink", target, subpath, display)


def E(target: str, subpath: str | None = None, display: str | None = None) -> LinkRow:
    return ("embed", target, subpath, display)


def M(target: str, subpath: str | None = None, display: str | None = None) -> LinkRow:
    return ("markdown", target, subpath, display)


def P(target: str, subpath: str | None = None, display: str | None = None) -> LinkRow:
    return ("property", target, subpath, display)


CASES = [
    # --- A. Wikilink grammar ---------------------------------------------------------
    pytest.param(
        "[[target]] [[target|display]] [[target#Heading]] [[target#H1#H2]]\n"
        "[[target#^blockid]] [[#Heading]] [[#^id]] ![[embed]]\n"
        "[[folder/note]] [[note.md]] [[note#heading|display]]\n",
        Expect(
            links=[
                W("target"),
                W("target", None, "display"),
                W("target", "#Heading"),
                W("target", "#H1#H2"),
                W("target", "#^blockid"),
                W("", "#Heading"),
                W("", "#^id"),
                E("embed"),
                W("folder/note"),
                W("note.md"),
                W("note", "#heading", "display"),
            ]
        ),
        id="R1-every-wikilink-form",
    ),
    pytest.param(
        "[[pa#th/path/x]] and [[a#b#c]]\n",
        Expect(links=[W("pa", "#th/path/x"), W("a", "#b#c")]),
        id="R2-path-ends-at-first-hash",
    ),
    pytest.param(
        "[[a|b|c]] [[#h#s||x]] [[|]] [[|alias]]\n",
        Expect(links=[W("a", None, "b|c"), W("", "#h#s", "|x"), W("|"), W("|alias")]),
        id="R3-display-splits-at-first-pipe-not-first-char",
    ),
    pytest.param(
        "![[img.png|Foo | Bar]]\n",
        Expect(links=[E("img.png", None, "Foo | Bar")]),
        id="R3-only-first-pipe-splits-inferred",
    ),
    pytest.param(
        "| Syntax | Example |\n"
        "| --- | --- |\n"
        "| [[Basic formatting syntax\\|Markdown syntax]] | ![[Engelbart.jpg\\|200]] |\n",
        Expect(
            links=[
                W("Basic formatting syntax", None, "Markdown syntax"),
                E("Engelbart.jpg", None, "200"),
            ]
        ),
        id="R4-escaped-pipe-in-table-is-display-separator",
    ),
    pytest.param(
        "see [[Note\\|shown]] here\n",
        Expect(links=[W("Note", None, "shown")]),
        id="R4-escaped-pipe-outside-table-also-separates-inferred",
    ),
    pytest.param(
        "[[Open Source AI Models | open-source AI models]] [[Sp ace]] [[ Padded ]]\n",
        Expect(
            links=[
                W("Open Source AI Models", None, " open-source AI models"),
                W("Sp ace"),
                W("Padded"),
            ]
        ),
        id="R5-target-trimmed-inner-spaces-kept-inferred",
    ),
    pytest.param(
        "[[Sq]uare]]\n",
        Expect(links=[W("Sq]uare")]),
        id="R6-single-bracket-is-part-of-target",
    ),
    pytest.param(
        "[[Multi\nLine]] and [[After]]\n",
        Expect(links=[W("After")]),
        id="R6-line-break-means-no-link",
    ),
    pytest.param(
        "[[Nested [[Inner]] x]]\n",
        Expect(links=[W("Inner")]),
        id="R6-nested-links-keep-only-inner",
    ),
    pytest.param(
        "[[]] then [[Real]]\n",
        Expect(links=[W("Real")]),
        id="R6-empty-brackets-are-no-link",
    ),
    pytest.param(
        "\\[\\[x\\]\\] and \\[[y]]\n",
        Expect(),
        id="R6-escaped-brackets-are-no-link",
    ),
    pytest.param(
        "[[C# notes]] [[a^b]]\n",
        Expect(links=[W("C", "# notes"), W("a^b")]),
        id="R7-hash-in-name-starts-subpath",
    ),
    pytest.param(
        "![[Engelbart.jpg|100x145]] ![[Engelbart.jpg|100]] ![[Document.pdf#page=3]] "
        "![[Document.pdf#height=400]]\n",
        Expect(
            links=[
                E("Engelbart.jpg", None, "100x145"),
                E("Engelbart.jpg", None, "100"),
                E("Document.pdf", "#page=3"),
                E("Document.pdf", "#height=400"),
            ]
        ),
        id="R8-embeds-size-is-display-pdf-subpath",
    ),
    pytest.param(
        "[[## team]] [[^^block]] [[folder/file|file]]\n",
        Expect(links=[W("", "## team"), W("^^block"), W("folder/file", None, "file")]),
        id="R9-editor-only-forms-read-by-the-generic-grammar",
    ),
    # --- B. Where link syntax is not a link ------------------------------------------
    pytest.param(
        "```\n[[InFence]] #infence\n```\n[[After]]\n",
        Expect(links=[W("After")]),
        id="R10-backtick-fence-hides-links-and-tags",
    ),
    pytest.param(
        "```tasks\nfilter [[{{query.file.property('project')}}]]\n```\n",
        Expect(),
        id="R10-tasks-query-fence-from-tasks-demo",
    ),
    pytest.param(
        "~~~python\n[[Tilde]]\n~~~\n[[After]]\n",
        Expect(links=[W("After")]),
        id="R10-tilde-fence",
    ),
    pytest.param(
        "````md\n```\n[[Inner]]\n```\n[[StillInside]]\n````\n[[Out]]\n",
        Expect(links=[W("Out")]),
        id="R10-longer-fence-nests-shorter",
    ),
    pytest.param(
        "~~~\n```\n[[A]]\n~~~\n[[Out]]\n",
        Expect(links=[W("Out")]),
        id="R10-fence-closes-only-with-same-character",
    ),
    pytest.param(
        "```\n[[Never closed]]\n\n# Not a heading\n",
        Expect(),
        id="R10-unclosed-fence-runs-to-end",
    ),
    pytest.param(
        "``` has ` backtick [[Link]]\n",
        Expect(links=[W("Link")]),
        id="R10-backtick-info-with-backtick-is-no-fence",
    ),
    pytest.param(
        "1. item\n\n   ```\n   [[InListFence]]\n   ```\n\n[[After]]\n",
        Expect(links=[W("After")]),
        id="R10-fence-inside-list-item",
    ),
    pytest.param(
        "Para\n\n    [[Indented]] #code\n    more\n\n[[After]]\n",
        Expect(links=[W("After")]),
        id="R11-indented-code-after-blank-line-inferred",
    ),
    pytest.param(
        "\tcode [[TabIndented]]\n\ntext [[After]]\n",
        Expect(links=[W("After")]),
        id="R11-tab-indented-code-at-start-inferred",
    ),
    pytest.param(
        "Para\n    [[Continuation]]\n",
        Expect(links=[W("Continuation")]),
        id="R11-indented-line-without-blank-is-paragraph",
    ),
    pytest.param(
        "1.  **Step**\n"
        "    *   uses [[open_source_ai_models | open models]] #nested\n"
        "\n"
        "    *   and [[Second]]\n"
        "\n"
        "2.  next\n",
        Expect(
            links=[W("open_source_ai_models", None, " open models"), W("Second")],
            tags=["nested"],
        ),
        id="R11-four-space-list-continuation-is-text",
    ),
    pytest.param(
        "- item\n\n      [[DeepCode]]\n\n  [[ItemPara]]\n",
        Expect(links=[W("ItemPara")]),
        id="R11-indented-code-inside-list-item",
    ),
    pytest.param(
        "`[[#Links In Code Blocks]]` ``a ` [[Double]]`` `` #notag `` [[Out]]\n",
        Expect(links=[W("Out")]),
        id="R12-inline-code-single-and-multiple-backticks",
    ),
    pytest.param(
        "a `` unmatched [[Seen]]\n",
        Expect(links=[W("Seen")]),
        id="R12-unmatched-backticks-are-text",
    ),
    pytest.param(
        "<!-- [[Hidden]] #hidden -->\n"
        "<!--\n# Not a heading\n[[AlsoHidden]]\n-->\n"
        "text <!-- [[Inline]] --> [[Visible]] #shown\n",
        Expect(links=[W("Visible")], tags=["shown"]),
        id="R13-html-comments-hide-links-tags-headings",
    ),
    pytest.param(
        "<!--\n```\n-->\n[[AfterComment]]\n```\n",
        Expect(links=[W("AfterComment")]),
        id="R13-fence-inside-html-comment-is-not-a-fence",
    ),
    pytest.param(
        "%% [[comments_html_style]] %%\n%% #i-am-parsed-by-obsidian %%\n"
        "%%\n# Heading in comment\n[[Multi]]\n%%\n",
        Expect(
            links=[W("comments_html_style"), W("Multi")],
            tags=["i-am-parsed-by-obsidian"],
            headings=[(1, "Heading in comment")],
        ),
        id="R14-links-in-percent-comments-count",
    ),
    pytest.param(
        "%%%% [[Counted]]\n",
        Expect(links=[W("Counted")]),
        id="R14-four-percent-signs-are-not-a-comment-opener",
    ),
    pytest.param(
        "$[[InlineMath]]$ and $$[[Display]]$$\n$$\n[[Block]] #t\n$$\n[[After]]\n",
        Expect(links=[W("After")]),
        id="R15-math-hides-links-inferred",
    ),
    pytest.param(
        "trained for $5.5 million, see [[open_source_ai_models]], unlike $500 billion "
        "[[Stargate]] data centers.\n",
        Expect(links=[W("open_source_ai_models"), W("Stargate")]),
        id="R15-dollar-amounts-are-not-math",
    ),
    pytest.param(
        "\\[\\[#Escaped Links\\]\\] \\#notatag \\![[Still]]\n",
        Expect(links=[W("Still")], tags=["Escaped"]),
        id="R16-backslash-escapes",
    ),
    pytest.param(
        "<div>\n[[InDiv]]\n</div>\n",
        Expect(links=[W("InDiv")]),
        id="R17-html-block-links-still-indexed-inferred",
    ),
    pytest.param(
        '---\nrelated: "[[Other]]"\nlist:\n  - "[[Item|shown]]"\n# [[YamlComment]]\n'
        "link: [[Unquoted]]\n---\n[[Body]]\n",
        Expect(links=[P("Other"), P("Item", None, "shown"), W("Body")]),
        id="R18-frontmatter-links-are-property-links-only",
    ),
    pytest.param(
        "---\ntitle: unclosed\n[[Shown]]\n",
        Expect(links=[W("Shown")]),
        id="R18-unclosed-frontmatter-is-text",
    ),
    # --- G. Markdown links -----------------------------------------------------------
    pytest.param(
        "[x](Test%20Data/x.md) [Three laws of motion](Three%20laws%20of%20motion.md)\n",
        Expect(
            links=[
                M("Test Data/x.md", None, "x"),
                M("Three laws of motion.md", None, "Three laws of motion"),
            ]
        ),
        id="R40-markdown-links-are-percent-decoded",
    ),
    pytest.param(
        "[a](<My Note.md>) [b](Sub/My Note.md) [c](note)\n",
        Expect(links=[M("My Note.md", None, "a"), M("note", None, "c")]),
        id="R40-angle-brackets-allow-spaces-bare-space-is-no-link",
    ),
    pytest.param(
        "[x](note.md#Some%20Heading) [h](#heading) [b](#^block)\n",
        Expect(
            links=[
                M("note.md", "#Some Heading", "x"),
                M("", "#heading", "h"),
                M("", "#^block", "b"),
            ]
        ),
        id="R40-hash-splits-subpath-empty-path-is-same-note",
    ),
    pytest.param(
        "[]() [alias]() [](target)\n",
        Expect(links=[M("target", None, "")]),
        id="R40-empty-destination-is-no-link",
    ),
    pytest.param(
        '![alt](img.png) [t](note.md "Title") [p](a(b).md)\n',
        Expect(
            links=[
                ("markdown-embed", "img.png", None, "alt"),
                M("note.md", None, "t"),
                M("a(b).md", None, "p"),
            ]
        ),
        id="R40-image-title-and-balanced-parentheses",
    ),
    pytest.param(
        "[w](https://example.com/#frag) [m](mailto:me@x.org) [o](obsidian://open?vault=v) "
        "[s](//host/path) <https://auto.link/#x>\n",
        Expect(),
        id="R41-external-destinations-are-not-links",
    ),
    pytest.param(
        "[z](Sub/My%20Note.md) [We!rd (name) [x] #1](Sub/We!rd%20(name)%20[x]%20#1.md)\n",
        Expect(
            links=[
                M("Sub/My Note.md", None, "z"),
                M("Sub/We!rd (name) [x] ", "#1.md", "We!rd (name) [x] #1"),
            ]
        ),
        id="R42-markdown-paths-are-vault-paths-and-hash-splits",
    ),
    # --- H. Tags ---------------------------------------------------------------------
    pytest.param(
        "#y1984 #1984 #a/b #tag_with-dash #日本語 #🚀launch #CamelCase\n- #3344: [link]\n",
        Expect(tags=["y1984", "a/b", "tag_with-dash", "日本語", "🚀launch", "CamelCase"]),
        id="R70-tag-grammar",
    ),
    pytest.param(
        "%% #in-percent %% <!-- #in-html --> \\[\\[#Escaped Links\\]\\]\n",
        Expect(tags=["in-percent", "Escaped"]),
        id="R71-tag-context-percent-html-bracket",
    ),
    pytest.param(
        "#a. #b, (#c) #d! #e? #f; #g: #h's\n",
        Expect(tags=["a", "b", "c", "d", "e", "f", "g", "h"]),
        id="R71-punctuation-ends-a-tag-inferred",
    ),
    pytest.param(
        "# Heading\n## Sub #intag\nhttps://x.com/page#frag C#sharp a#b [h](#anchor)\n",
        Expect(
            links=[M("", "#anchor", "h")],
            tags=["intag"],
            headings=[(1, "Heading"), (2, "Sub #intag")],
        ),
        id="R71-hash-in-urls-words-and-heading-markers-is-no-tag",
    ),
    pytest.param(
        '---\ntags: [fm-one, fm-two]\nnote: "#not-a-tag"\n---\nbody #body\n',
        Expect(tags=["body"]),
        id="R72-frontmatter-tags-are-properties-not-body-tags",
    ),
    # --- Headings and block ids ------------------------------------------------------
    pytest.param(
        "# One\n  ## Two ##\n###### Six\n####### Seven\n#NoSpace\n    # Code\n",
        Expect(
            headings=[(1, "One"), (2, "Two"), (6, "Six")],
            tags=["NoSpace"],
        ),
        id="ATX-headings",
    ),
    pytest.param(
        "Paragraph ^para-id\n- item ^item1\n![[x.png]]^version-history-image\n"
        "[t](y.md)^md\n\n^own-line\n\nnot^inword\n^notatend text\n",
        Expect(
            links=[E("x.png"), M("y.md", None, "t")],
            blocks=["para-id", "item1", "version-history-image", "md", "own-line"],
        ),
        id="R61-R62-block-ids-at-line-end-and-after-embed",
    ),
    # --- Text encodings and scripts --------------------------------------------------
    pytest.param(
        '---\r\nrelated: "[[Prop]]"\r\n---\r\n# Title\r\n[[a]] #t ^id\r\n```\r\n[[no]]\r\n```\r\n',
        Expect(links=[P("Prop"), W("a")], tags=["t"], headings=[(1, "Title")], blocks=["id"]),
        id="CRLF-line-endings",
    ),
    pytest.param(
        "[[日本語のノート]] #日本語 [[中文|显示]]\n## 見出し\n",
        Expect(
            links=[W("日本語のノート"), W("中文", None, "显示")],
            tags=["日本語"],
            headings=[(2, "見出し")],
        ),
        id="CJK-text",
    ),
    pytest.param(
        "[[שלום עולם]] [[مرحبا|تحية]] #עברית\n",
        Expect(links=[W("שלום עולם"), W("مرحبا", None, "تحية")], tags=["עברית"]),
        id="RTL-text",
    ),
    pytest.param(
        "🗂️ [[🗂️ People]] ![[📷️ photo.png]]\n",
        Expect(links=[W("🗂️ People"), E("📷️ photo.png")]),
        id="R33-emoji-with-variation-selector-kept",
    ),
    pytest.param(
        "[[Cafe\u0301]] [c](Cafe%CC%81.md)\n",
        Expect(links=[W("Caf\u00e9"), M("Caf\u00e9.md", None, "c")]),
        id="R33-nfd-target-has-nfc-linkpath",
    ),
    # --- Odd and broken input --------------------------------------------------------
    pytest.param(
        "[[unclosed and [[closed]] [[never closed\n[[next line]]\n",
        Expect(links=[W("closed"), W("next line")]),
        id="unclosed-double-bracket",
    ),
    pytest.param(
        '<a class="yt-timestamp" data-t="00:00:10">[00:00:10]</a> [[Real]] '
        '<a href="#top">x</a> <span style="color:#ff0000">red</span>\n',
        Expect(links=[W("Real")]),
        id="seeds-youtube-timestamp-anchors-are-not-links",
    ),
    pytest.param(
        "[[a]]] and [[b]]\n",
        Expect(links=[W("a"), W("b")]),
        id="R6-first-double-bracket-closes",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_conformance(text: str, expected: Expect) -> None:
    assert outcome(parse(text)) == expected


def test_frontmatter_tags_are_read_from_the_list_property() -> None:
    """R72: list tags in the frontmatter; a hashtag in a text property is no tag."""
    note = parse('---\ntags: [fm-one, fm-two]\nnote: "#not-a-tag"\n---\nbody #body\n')
    assert note.properties is not None
    assert string_list(note.properties["tags"]) == ["fm-one", "fm-two"]
    assert [t.name for t in note.tags] == ["body"]


def test_markdown_embed_and_angle_flags() -> None:
    note = parse("![a](<My Pic.png>) [b](b.md)\n")
    assert [(k.embed, k.angle) for k in note.links] == [(True, True), (False, False)]


def test_property_links_name_their_key() -> None:
    note = parse('---\nrelated: "[[Other]]"\nlist:\n  - "[[Item]]"\n---\n')
    assert [(k.linkpath, k.key) for k in note.links] == [("Other", "related"), ("Item", "list")]


# --- exact positions -----------------------------------------------------------------


def span_text(text: str, span: Span) -> str:
    return text[span.start : span.end]


def lc(span: Span) -> tuple[int, int, int, int]:
    return (span.line, span.column, span.end_line, span.end_column)


POSITIONS = [
    # text, index of the link, source of the link, its target, (line, col, end_line, end_col)
    # of the link, and of the target
    pytest.param(
        "intro\n  see [[Open Source AI Models | open models]] end\n",
        0,
        "[[Open Source AI Models | open models]]",
        "Open Source AI Models",
        (2, 7, 2, 46),
        (2, 9, 2, 30),
        id="R5-target-span-excludes-padding",
    ),
    pytest.param(
        "| a | [[Basic formatting syntax\\|Markdown syntax]] |\n",
        0,
        "[[Basic formatting syntax\\|Markdown syntax]]",
        "Basic formatting syntax",
        (1, 7, 1, 51),
        (1, 9, 1, 32),
        id="R4-target-span-excludes-escaping-backslash",
    ),
    pytest.param(
        "🗂️ x\n🗂️ [[🗂️ People#Top]]\n",
        0,
        "[[🗂️ People#Top]]",
        "🗂️ People",
        (2, 4, 2, 21),
        (2, 6, 2, 15),
        id="R33-columns-count-code-points-with-fe0f",
    ),
    pytest.param(
        "a\r\nb [x](Sub/My%20Note.md#H) c\r\n",
        0,
        "[x](Sub/My%20Note.md#H)",
        "Sub/My%20Note.md",
        (2, 3, 2, 26),
        (2, 7, 2, 23),
        id="R40-crlf-markdown-target-span-is-the-encoded-path",
    ),
    pytest.param(
        '---\ntitle: t\nrelated: "[[Other]]"\n---\n',
        0,
        "[[Other]]",
        "Other",
        (3, 11, 3, 20),
        (3, 13, 3, 18),
        id="R52-property-link-position",
    ),
    pytest.param(
        "مرحبا [[Cafe\u0301|x]]\n",
        0,
        "[[Cafe\u0301|x]]",
        "Cafe\u0301",
        (1, 7, 1, 18),
        (1, 9, 1, 14),
        id="R33-nfd-target-span-covers-the-written-characters",
    ),
]


@pytest.mark.parametrize(("text", "index", "source", "target", "where", "target_where"), POSITIONS)
def test_link_positions(
    text: str,
    index: int,
    source: str,
    target: str,
    where: tuple[int, int, int, int],
    target_where: tuple[int, int, int, int],
) -> None:
    link = parse(text).links[index]
    assert span_text(text, link.span) == source
    assert span_text(text, link.target_span) == link.target == target
    assert lc(link.span) == where
    assert lc(link.target_span) == target_where


def test_heading_tag_and_block_positions() -> None:
    text = "---\na: 1\n---\n\n## Tïtle ##\nword #tag ^blk\n"
    note = parse(text)
    (heading,) = note.headings
    assert lc(heading.span)[:2] == (5, 1) and heading.text == "Tïtle"
    (tag,) = note.tags
    assert span_text(text, tag.span) == "#tag" and lc(tag.span) == (6, 6, 6, 10)
    (block,) = note.blocks
    assert lc(block.span) == (6, 11, 6, 15)


def test_bom_is_stripped_by_the_reader_and_positions_start_after_it(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes('\ufeff---\nrelated: "[[Prop]]"\n---\n[[Body]] #t\n'.encode())
    note_text = read_note(path, 1 << 20)
    assert note_text.bom
    note = parse(note_text.text)
    assert note.frontmatter is not None and note.frontmatter.closed
    assert [(k.linkpath, lc(k.span)[:2]) for k in note.links] == [
        ("Prop", (2, 11)),
        ("Body", (4, 1)),
    ]
    assert note.links[1].span.start == note_text.text.index("[[Body]]")


def test_seeds_notes_parse_to_their_visible_links() -> None:
    """The sample vault: every `[[` outside code is a link; timestamps never are."""
    for path in sorted(SEEDS.glob("*.md")):
        text = read_note(path, 1 << 20).text
        note = parse(text)
        assert note.links, path.name
        assert all(not k.linkpath.startswith("00:") for k in note.links)
        assert len([k for k in note.links if k.kind is LinkKind.WIKILINK]) == text.count("[[")


HIDDEN_AND_SHOWN = (
    '---\nrelated: "[[prop target]]"\nlink: [[unquoted yaml]]\n---\n'
    "```\n[[in fence]]\n```\n"
    "~~~\n[[in tilde fence]]\n~~~\n"
    "text\n\n    [[in indented code]]\n\n"
    "`[[in inline code]]` $[[in math]]$\n"
    "$$\n[[in math block]]\n$$\n"
    "<!-- [[in html comment]] -->\n"
    "\\[\\[escaped\\]\\]\n"
    "%% [[in percent comment]] %%\n"
    "1.  item\n    *   [[in list continuation]]\n\n"
    "| a | [[in table\\|shown]] |\n"
    "$5.5 million [[between dollars]] $500 billion\n"
)


def test_check_reports_exactly_the_links_obsidian_indexes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Done-when of issue 2: nothing in code, HTML comments or math; `%%` links count.

    Links in `%%` comments are checked only with `check-comments` (issue 17): on here.
    """
    config = "[links]\ncheck-comments = true\n"
    root = write_vault(tmp_path / "v", {"Note.md": HIDDEN_AND_SHOWN, ".vaultsync.toml": config})
    found = diagnostics(capsys, root, families="L")
    assert sorted(d["data"]["target"] for d in found if d["code"] == "L001") == [
        "between dollars",
        "in list continuation",
        "in percent comment",
        "in table",
        "prop target",
    ]


def test_comment_closes_are_searched_per_segment() -> None:
    """An unclosed inline `<!--` before a fence must not hide a comment after it (R13)."""
    text = "a <!-- open\n```\ncode\n```\n<!-- [[Hidden]] --> [[Shown]]\n"
    assert [k.linkpath for k in parse(text).links] == ["Shown"]


# --- `%%` comments (R14) and math (R15) next to fences: issue 17, items 3, 11, 12 -------

COMMENT_CASES = [
    pytest.param(
        "%% [[a]] %%\n[[b]] %% [[c]] %%\n%%\n[[d]]\n\n[[e]]\n%% [[f]]\n",
        [("a", True), ("b", False), ("c", True), ("d", True), ("e", True), ("f", False)],
        id="R14-inline-and-block-comments-over-a-blank-line",
    ),
    pytest.param(
        "a %% [[x]]\n[[y]] %%\n",
        [("x", False), ("y", False)],
        id="R14-inline-comment-closes-on-its-line",
    ),
    pytest.param(
        "%%\n```\n%%\n[[After]]\n```\n[[InFence]]\n",
        [("After", False)],
        id="R14-a-fence-line-in-a-comment-opens-no-fence",
    ),
    pytest.param(
        "```\n%%\n```\n[[x]]\n%% [[y]] %%\n",
        [("x", False), ("y", True)],
        id="R14-percent-in-a-fence-opens-no-comment",
    ),
    pytest.param(
        "Use `%%` to comment [[x]]\n%% [[y]] %%\n",
        [("x", False), ("y", True)],
        id="R14-percent-in-inline-code-opens-no-comment",
    ),
    pytest.param(
        "%% unclosed\n[[x]]\n\n```\n\n[[y]]\n```\n",
        [("x", True), ("y", True)],
        id="R14-unclosed-comment-block-runs-to-the-end",
    ),
    pytest.param(
        "%% vaultsync-ignore L001 %% [[x]]\n",
        [("x", False)],
        id="R14-text-after-a-one-line-comment-is-not-in-it",
    ),
    pytest.param(
        "%%\n$$ [[Note]]\n%%\n```\n$$ [[Note]]\n```\n````md\n```\n[[Note]]\n```\n[[Note]]\n````\n",
        [("Note", True)],
        id="R14-R15-issue-17-math-in-a-comment-stays-in-it",
    ),
    pytest.param(
        "$$ a\n```\n[[x]]\n```\n$$\n\n$$\n\n[[y]]\n```\n$$\n```\n",
        [("y", False)],
        id="R15-display-math-takes-in-fence-lines-but-no-blank-line",
    ),
]


@pytest.mark.parametrize(("text", "expected"), COMMENT_CASES)
def test_links_in_comments_are_marked(text: str, expected: list[tuple[str, bool]]) -> None:
    assert [(k.linkpath, k.comment) for k in parse(text).links] == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("- price $10 today\n- see [[Target]]\n- costs US$ more\n", id="list"),
        pytest.param("> price $10 [[Target]]\n> costs US$ more\n", id="quote-line"),
        pytest.param("| $10 | [[Target]] | US$ |\n| - | - | - |\n", id="table-header"),
        pytest.param("price $10\n## see [[Target]] US$\n", id="heading"),
        pytest.param("price $$10\n- see [[Target]]\n- US$$ more\n", id="display-math"),
        pytest.param("price `10\n- see [[Target]]\n- US` more\n", id="code-span"),
    ],
)
def test_math_and_code_spans_stay_in_their_block(text: str) -> None:
    """R15 (issue 17, item 12): `$` in one block never pairs with a `$` in another."""
    assert [k.linkpath for k in parse(text).links] == ["Target"]


def test_check_reports_no_link_inside_a_fence_after_math_in_a_comment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 17, item 11: `check` reported `[[Note]]` on line 9, inside a fence."""
    text = COMMENT_CASES[-2].values[0]
    assert isinstance(text, str)
    root = write_vault(tmp_path / "v", {"Doc.md": text})
    assert diagnostics(capsys, root, families="L") == []  # its one link is commented out
    config = "[links]\ncheck-comments = true\n"
    (root / ".vaultsync.toml").write_text(config, encoding="utf-8")
    found = diagnostics(capsys, root, families="L")
    assert [(d["code"], d["line"]) for d in found] == [("L001", 2)]
