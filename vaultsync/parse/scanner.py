"""One pass over a note: frontmatter, headings, block ids, tags, links, with exact ranges.

The rules follow `obsidian-semantics.md` (R-numbers below) and docs/obsidian-behaviour.md.
A block pass finds code and math blocks (fences, indented code, `$$`) and the `%%`
comment blocks that open at a line's start; one compiled-regex scan over the text
between the code blocks finds everything else, and marks the links inside comments. A
full CommonMark parse costs about ten times as much and serves only as a test oracle
(tests/parse/test_parser_oracle.py).

Speed matters here: every note of a vault goes through `parse` on each check. Each
regex that scans whole text starts with a literal (or an alternation of literals), so
`re` skips ahead at C speed; Python code runs only where something may start.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from typing import Any

from vaultsync.core.model import (
    BlockId,
    Comment,
    Frontmatter,
    Heading,
    Link,
    LinkKind,
    ParsedNote,
    Span,
    Tag,
)
from vaultsync.core.text import LineIndex, nfc
from vaultsync.parse import frontmatter as fm
from vaultsync.parse.linktext import decode_destination

# --- block level -----------------------------------------------------------------------

# A line that may open a block: a fence, `$$`, `%%` or `<!--` line, or an indented line
# after a blank line or a heading (the only places indented code can start, R11). `re`
# pays per line break tried, so the pattern turns lines away early: the first lookahead
# says what every alternative starts with, `(?=[ \t])` what an indented line does, and
# possessive repeats never give back characters the rest cannot use.
_BLOCK_EVENT = re.compile(
    r"\n(?=[ \t]*[`~$%<>\r\n#])"
    r"(?:[ \t]*+(?:```|~~~|\$\$|%%|<!--|>[ \t>]*+(?:```|~~~|\$\$)"
    r"|\r?\n(?=[ \t])(?= {4}| {0,3}\t))"
    r"| {0,3}#{1,6}(?:[ \t][^\n]*+)?\n(?=[ \t])(?= {4}| {0,3}\t))"
)
_FENCE = re.compile(r"`{3,}|~{3,}")
# The markers that put a line in a quote (or callout), and the blanks after them.
_QUOTE_PREFIX = re.compile(r"(?:[ \t]*>)+[ \t]?")
_LIST_ITEM = re.compile(r"([ \t]*)([-*+]|\d{1,9}[.)])([ \t]*)(\S?)")
_THEMATIC_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*\r?$")
# Blocks that end every list when they start at the margin: no lazy continuation.
_MARGIN_BLOCK = re.compile(r"#{1,6}(?:[ \t]|\r?$)|```|~~~|<!--|>")
# How far back to look for the list item an indented line belongs to. Past it the line
# is taken as list content: a link is never hidden on a guess.
_LIST_LOOKBACK_LINES = 64


def _width(indent: str) -> int:
    """Columns of leading whitespace; a tab advances to the next multiple of 4."""
    return len(indent.expandtabs(4)) if "\t" in indent else len(indent)


def _line_end(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl == -1 else nl


def _list_content_indent(
    text: str, line_start: int, floor: int, width: int, ranges: list[tuple[int, int]]
) -> int | None:
    """The content column of the list item a line indented by `width` continues, if any.

    Walks back over the lines before it; code blocks found so far (`ranges`) are
    skipped whole, since list markers inside them are code.
    """
    end = line_start - 1  # the newline before the line
    limit = width  # a parent item must have its content at or left of this column
    # Items whose content starts right of `closing` were closed by a line less indented
    # than their content: one after a blank line (no lazy continuation) or a fence.
    closing = width
    pending: int | None = None  # width of the non-blank line after the current one
    block = len(ranges) - 1
    for _ in range(_LIST_LOOKBACK_LINES):
        if end < floor or closing < 2 or limit < 2:
            return None  # no list item's content starts left of column 2
        while block >= 0 and ranges[block][0] >= end:
            block -= 1
        if block >= 0 and ranges[block][1] >= end:
            block_start = ranges[block][0]
            opener = text[block_start : _line_end(text, block_start)]
            body = opener.lstrip(" \t")
            if body.startswith(("```", "~~~")):
                closing = min(closing, _width(opener[: len(opener) - len(body)]))
            elif opener.startswith(">"):
                return None  # a quote at the margin (its fence or math) ends every list
            end = block_start - 1
            block -= 1
            if pending is not None:  # a line after a code block is no lazy continuation
                closing = min(closing, pending)
                pending = None
            continue
        start = max(text.rfind("\n", floor, end) + 1, floor)
        line = text[start:end]
        end = start - 1
        body = line.lstrip(" \t")
        if not body.strip():
            if pending is not None:
                closing = min(closing, pending)
                pending = None
            continue
        item = _LIST_ITEM.match(line)
        if item is not None and (item.group(3) or not item.group(4)):
            if _THEMATIC_BREAK.match(line):
                return None
            pending = None
            marker = _width(item.group(1))
            spaces = _width(item.group(3))
            # CommonMark: content starts after 1-4 spaces; more means indented code.
            content = marker + len(item.group(2))
            content += spaces if 1 <= spaces <= 4 and item.group(4) else 1
            if content <= limit and content <= closing:
                return content
            # The line is not inside this item (or a less indented line closed it). A
            # parent must hold the item too: one whose content starts right of the
            # marker was closed by it.
            limit = min(limit, marker)
            continue
        indent = _width(line[: len(line) - len(body)])
        if indent == 0 and _MARGIN_BLOCK.match(line):
            return None  # a heading, fence or comment at the margin ends every list
        if body.startswith(("```", "~~~")):
            closing = min(closing, indent)
        pending = indent
    return width  # too far to tell: treat as list content, never hide links on a guess


def _indented_end(text: str, pos: int, need: int) -> int:
    """End of the indented code block whose first line starts at `pos`."""
    n = len(text)
    end = pos
    while pos < n:
        line_end = _line_end(text, pos)
        line = text[pos:line_end]
        body = line.lstrip(" \t")
        if body.strip():
            if _width(line[: len(line) - len(body)]) < need:
                break
            end = line_end
        pos = line_end + 1
    return end


_closing_fences: dict[tuple[str, int, int], re.Pattern[str]] = {}


def _closing_fence(char: str, length: int, indent: int) -> re.Pattern[str]:
    """R10: a fence closes at a line of the same character, at least as long."""
    key = (char, length, indent)
    pattern = _closing_fences.get(key)
    if pattern is None:
        pattern = _closing_fences[key] = re.compile(
            rf"\n {{0,{indent}}}{re.escape(char)}{{{length},}}[ \t]*\r?(?=\n|\Z)"
        )
    return pattern


def _list_fence_end(text: str, pos: int, char: str, length: int, base: int) -> int:
    """End of a fence inside a list item whose content starts at column `base`.

    The fence closes at a fence line indented base..base+3, or ends with its list item:
    at the first line indented less than `base` (CommonMark containers).
    """
    n = len(text)
    end = pos
    while pos < n:
        line_start = pos + 1
        line_end = _line_end(text, line_start)
        line = text[line_start:line_end]
        body = line.lstrip(" \t")
        if body.strip():
            width = _width(line[: len(line) - len(body)])
            if width < base:
                return end
            if width <= base + 3 and body.startswith(char * length):
                run = len(body) - len(body.lstrip(char))
                if run >= length and not body[run:].strip():
                    return line_end
        end = pos = line_end
    return n


def _block_at(
    text: str,
    line_start: int,
    floor: int,
    after_break: bool,
    ranges: list[tuple[int, int]],
    comments: list[tuple[int, int]],
) -> tuple[int, bool]:
    """Record the code, math or `%%` comment block opening at `line_start`, if any.

    Returns where the search goes on, and whether an indented line there would be code:
    after a blank line, a heading, a fence or a comment (not after a paragraph).
    """
    line_end = _line_end(text, line_start)
    line = text[line_start:line_end]
    body = line.lstrip(" \t")
    if not body.strip():
        return line_end, True  # a blank line: the next line may start indented code
    width = _width(line[: len(line) - len(body)])
    base = 0
    if width >= 4 or (width and body.startswith(("```", "~~~"))):
        content = _list_content_indent(text, line_start, floor, width, ranges)
        if content is not None and width >= content:
            base = content  # inside a list item, columns count from its content
    if width - base >= 4:
        if not after_break:
            return line_end, False  # an indented line continues a paragraph
        end = _indented_end(text, line_start, base + 4)
        ranges.append((line_start, end))
        return end, False
    if body[0] == ">":
        return _quoted_block_at(text, line_start, line_end, ranges)
    if body.startswith(("```", "~~~")):
        run = _FENCE.match(body)
        assert run is not None
        if body[0] == "`" and "`" in body[run.end() :]:
            return line_end, False  # a backtick fence's info string has no backtick: inline code
        if base:
            end = _list_fence_end(text, line_end, body[0], run.end(), base)
        else:
            close = _closing_fence(body[0], run.end(), 3).search(text, line_end)
            end = len(text) if close is None else close.end()
        ranges.append((line_start, end))
        return end, True
    if body.startswith("%%"):
        # R14: a comment whose `%%` starts a line runs to the next `%%`, over blank lines
        # and everything else (Obsidian 0.10.12); unclosed, to the end of the note. Its
        # lines open no block; the scan reads its text, inline markdown and all.
        open_at = line_end - len(body)
        close_at = text.find("%%", open_at + 2)
        if close_at == -1:
            comments.append((open_at, len(text)))
            return len(text), False
        comments.append((open_at, close_at))
        end = _line_end(text, close_at)
        return end, not text[close_at + 2 : end].strip()
    if body.startswith("$$"):
        # R15: display math runs to the next `$$` before the paragraph ends (a blank
        # line); without one the line is text, and the scan looks for inline math in it.
        open_at = line_end - len(body)
        blank = _PARAGRAPH_END.search(text, line_end)
        close_at = text.find("$$", open_at + 2, len(text) if blank is None else blank.start())
        if close_at == -1:
            return line_end, False
        ranges.append((line_start, close_at + 2))
        return _line_end(text, close_at), False
    if body.startswith("<!--"):
        # An HTML comment block (R13): its lines open nothing. The scan records it.
        close_at = text.find("-->", line_end - len(body) + 4)
        return (len(text) if close_at == -1 else _line_end(text, close_at)), True
    # Indented code may follow a heading directly, as it may a blank line.
    return line_end, width <= 3 and _HEADING_START.match(body) is not None


@functools.cache
def _quote_markers(depth: int) -> re.Pattern[str]:
    """`depth` quote markers (`>`, each after optional blanks) and one optional blank."""
    return re.compile(rf"(?:[ \t]*>){{{depth}}}[ \t]?")


def _quoted_block_at(
    text: str, line_start: int, line_end: int, ranges: list[tuple[int, int]]
) -> tuple[int, bool]:
    """Record the fence or `$$` math opening inside a quote or callout, if any.

    Either ends where its quote does: at the first line without as many `>` markers
    (CommonMark containers; callouts hold code and math too, Obsidian 0.13.15, 0.14.3).
    Math also ends at a blank quote line, as it does at a blank line outside quotes.
    """
    prefix = _QUOTE_PREFIX.match(text, line_start, line_end)
    assert prefix is not None
    depth = prefix.group().count(">")
    content = text[prefix.end() : line_end]
    inner = content.lstrip(" ")
    if len(content) - len(inner) > 3:
        return line_end, False
    fence = _FENCE.match(inner)
    if fence is None:
        if not inner.startswith("$$") or "$$" in inner[2:]:
            return line_end, False  # no math block (math within the line is inline)
    elif inner[0] == "`" and "`" in inner[fence.end() :]:
        return line_end, False  # inline code, as outside quotes
    n = len(text)
    end = pos = line_end
    while pos < n:
        start = pos + 1
        stop = _line_end(text, start)
        # Exactly the block's own markers: a deeper `>` is content of the block
        # (`> > ```` inside a fence opened by `> ```` is a code line, not its close).
        marks = _quote_markers(depth).match(text, start, stop)
        if marks is None:
            break  # the quote ended, and the block with it
        rest = text[marks.end() : stop]
        if fence is None:
            if not rest.strip():
                return line_end, False  # a blank quote line: no closing `$$`
            close_at = text.find("$$", marks.end(), stop)
            if close_at != -1:
                ranges.append((line_start, close_at + 2))
                return stop, False
        else:
            closing = rest.strip()
            run = fence.end()
            if (
                closing.startswith(inner[0] * run)
                and not closing.strip(inner[0])
                and len(rest) - len(rest.lstrip(" ")) <= 3
            ):
                ranges.append((line_start, stop))
                return stop, True
        end = pos = stop
    if fence is None:
        return line_end, False
    ranges.append((line_start, end))
    return end, True


def _code_blocks(text: str, start: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Ranges of fenced code (R10), indented code (R11) and `$$` math blocks (R15); and
    of the `%%` comment blocks (R14), each from its opening `%%` to its closing one."""
    ranges: list[tuple[int, int]] = []
    comments: list[tuple[int, int]] = []
    n = len(text)
    pos, after_block = start, False
    if start < n:
        pos, after_block = _block_at(text, start, start, True, ranges, comments)
    search = _BLOCK_EVENT.search
    while pos < n:
        if after_block:
            pos, after_block = _block_at(text, pos + 1, start, True, ranges, comments)
            continue
        m = search(text, pos)
        if m is None:
            break
        if m.end() - m.start() > 1 and text[m.end() - 1] == "\n":
            # after a blank line
            pos, after_block = _block_at(text, m.end(), start, True, ranges, comments)
        else:
            pos, after_block = _block_at(text, m.start() + 1, start, False, ranges, comments)
    return ranges, comments


# --- inline level -----------------------------------------------------------------------

# Tag characters (R70): letters, digits, `_`, `-`, `/` and non-ASCII that is not
# whitespace or common punctuation. ASCII punctuation other than `_ - /` ends a tag.
_TAG_CHAR = r"[^\s!-,.:-@\[-\^`{-~\u2000-\u206f\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]"

# A wikilink's inside: no line break (R6), no `[[` (a nested link keeps only the inner
# one, R6) and no `]]`; a single `]` is part of the target (R6). Possessive, so a long
# unclosed `[[…` fails in linear time.
_WIKI_BODY = r"(?:[^\[\]\n]++|\[(?!\[)|\](?!\]))++"
# `target`, `target#subpath`, `target|display`, `target#subpath|display` with no `\`,
# `[` or `]` and a target that does not start with `|`: most links in a vault.
_WIKI_SIMPLE = (
    r"(?P<{0}_path>[^\[\]\n|#\\]+)(?:(?P<{0}_sub>#[^\[\]\n|\\]*))?"
    r"(?:\|(?P<{0}_display>[^\[\]\n]*))?"
)
_MD_LABEL = r"(?:[^\[\]\\\n]|\\.|\[(?:[^\[\]\\\n]|\\.)*\])*"


def _md_link(label: str, angle: str, bare: str) -> str:
    """`[label](dest "title")`; `<…>` allows spaces, a bare destination does not (R40)."""
    return (
        rf"\[(?P<{label}>{_MD_LABEL})\]"
        rf"\([ \t]*(?:<(?P<{angle}>[^<>\n]*)>"
        rf"|(?P<{bare}>[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*))"
        r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*\)"
    )


# An ATX heading's text: everything after the spaces that follow the `#`s, up to an
# optional closing run of `#`s and trailing blanks. Written as a possessive loop over
# runs (a run of blanks is taken only when what follows it is not that closing tail), so
# `re` steps a word at a time; `(.*?)(?:[ \t]+#+)?[ \t]*\r?$` (as _HEADING) is the same
# group but tries the tail after every character.
_HEADING_TEXT = r"(?:[^ \t\r\n]++|\r(?!$)|(?![ \t]*+\r?$|[ \t]++#++[ \t]*+\r?$)[ \t]++)*+"

# Everything inline, one alternative per construct. Each alternative starts with a
# literal character, so `re` only tries the pattern where one of them occurs, and
# only what matches in full costs Python time (a lone `[` or `#` costs none).
_INLINE = re.compile(
    r"\\[^\n]"  # R16: an escaped character is text
    rf"|\[\[{_WIKI_SIMPLE.format('wiki')}\]\]"  # the common shapes, split by `re`
    rf"|!\[\[{_WIKI_SIMPLE.format('embed')}\]\]"
    rf"|\[\[(?P<wiki>{_WIKI_BODY})\]\]"  # all others
    rf"|!\[\[(?P<embed>{_WIKI_BODY})\]\]"
    rf"|{_md_link('label', 'angle', 'bare')}"
    rf"|!{_md_link('alt', 'image_angle', 'image_bare')}"
    r"|``*"  # a code span (R12)
    r"|<!--"  # an HTML comment (R13)
    r"|%%"  # an Obsidian comment (R14)
    r"|\$\$?"  # math (R15)
    # An ATX heading; its text is scanned on for links and tags. It is matched at its
    # first `#`, found by the lookbehinds to start a line (up to 3 spaces in): starting
    # at the line break instead would make every line break a place to try the pattern.
    r"|#(?:(?<=\n#)|(?<=\n #)|(?<=\n  #)|(?<=\n   #))#{0,5}"
    rf"(?=[ \t]+(?P<heading>{_HEADING_TEXT}))"
    rf"|#(?<![^\s\[(]#)(?P<tag>{_TAG_CHAR}+)"  # a tag (R70, R71): after space, `[` or `(`
    r"|\^(?<![^\s\])]\^)(?P<block>[A-Za-z0-9-]+)(?=[ \t]*\r?$)",  # a block id (R61, R62)
    re.MULTILINE,
)
# The scan tells matches apart by `Match.lastindex`, the last group that closed: a
# number, cheaper than a name. The simple wikilink and embed groups are numbered path,
# subpath, display, wikilinks first; a markdown link ends with its destination group.
_GROUP = _INLINE.groupindex
_WIKI_PATH = _GROUP["wiki_path"]
_EMBED_PATH = _GROUP["embed_path"]
_LAST_SIMPLE = _GROUP["embed_display"]
_WIKI, _EMBED = _GROUP["wiki"], _GROUP["embed"]
_LABEL, _ANGLE = _GROUP["label"], _GROUP["angle"]
_ALT, _IMAGE_ANGLE = _GROUP["alt"], _GROUP["image_angle"]
_HEADING_GROUP = _GROUP["heading"]
_TAG, _BLOCK = _GROUP["tag"], _GROUP["block"]
assert _WIKI_PATH == 1 and _EMBED_PATH == 4 and _LAST_SIMPLE == 6 < _WIKI < _ALT

_HEADING = re.compile(r"(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*\r?(?=\n|\Z)")
_HEADING_START = re.compile(r" {0,3}#{1,6}[ \t]")

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:|//")
_PARAGRAPH_END = re.compile(r"\n[ \t]*\r?\n")
# A table's delimiter row: only `|`, `-`, `:` and blanks, with a `-` and a `|`.
_TABLE_DELIMITER = r"[ \t]*+(?=[^\n]*?\|)[|: \t]*-[-|: \t]*\r?$"
_DELIMITER_ROW = re.compile(_TABLE_DELIMITER, re.MULTILINE)
# Lines that hold their inline content alone: a heading, or a quote line. (Obsidian's
# quotes and callouts are read a line at a time here: a guess never hides a link.)
_OWN_LINE = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|\r?$)|>)", re.MULTILINE)
# Where an inline unit (a paragraph, a list item's text) ends: at the line break before a
# blank line or a line that starts another block. Code spans and math never cross it.
_UNIT_END = re.compile(
    r"\n(?:[ \t]*\r?$"  # a blank line
    r"|[ \t]*+(?:[-*+]|\d{1,9}[.)])(?:[ \t]|\r?$)"  # a list item
    r"| {0,3}(?:#{1,6}(?:[ \t]|\r?$)|>|<!--"  # a heading, a quote line, an HTML comment
    r"|(?:([-*_])[ \t]*+(?:\1[ \t]*+){2,}|=+[ \t]*+)\r?$)"  # a thematic break, a setext line
    rf"|[^\n|]*+\|[^\n]*+\n(?={_TABLE_DELIMITER}))",  # a table's header row
    re.MULTILINE,
)
# How far back to look for the delimiter row of the table a line with a `|` may be in.
# Past it the line is taken as a table row (its cells then bound code and math).
_TABLE_LOOKBACK_LINES = 64
# Kinds of line, for the inline limit: its content runs on into the next lines; it is
# alone (a heading or quote line); it is a table row, cut into cells.
_FLOWS, _ALONE, _TABLE_ROW = 0, 1, 2
_SUPPRESSION = re.compile(
    r"(?:%%|<!--)[ \t]*vaultsync-ignore(?P<file>-file)?(?P<codes>[^%\n]*?)[ \t]*(?:%%|-->)"
)
_CODE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_PROPERTY_WIKILINK = re.compile(r"\[\[([^\[\]\n]+?)\]\]")

# Records are built with tuple.__new__ (C) instead of the NamedTuple constructors (a
# Python function each): given all of a record's fields in order it is the same value,
# at a third of the cost, and a note makes dozens of them.
_new = tuple.__new__
_WIKILINK_KIND, _EMBED_KIND, _MARKDOWN_KIND = LinkKind.WIKILINK, LinkKind.EMBED, LinkKind.MARKDOWN

_closing_ticks: dict[int, re.Pattern[str]] = {}


def _closing_tick(n: int) -> re.Pattern[str]:
    """A run of exactly `n` backticks."""
    pattern = _closing_ticks.get(n)
    if pattern is None:
        pattern = _closing_ticks[n] = re.compile(rf"`{{{n}}}(?<!`{{{n + 1}}})(?!`)")
    return pattern


def _in_table_row(text: str, line_start: int, at: int) -> bool:
    """Does the line, up to `at`, start a table row (`| cell |`)? A link there writes its
    display separator as `\\|` (R4). Rows written without a leading `|` are not seen."""
    first = text[line_start]
    return first == "|" or (first in " \t" and text[line_start:at].lstrip()[:1] == "|")


class _Scanner:
    """Collects inline items from the text between code blocks."""

    def __init__(self, text: str, lines: LineIndex) -> None:
        self.text = text
        self.lines = lines
        self.links: list[Link] = []
        self.blocks: list[BlockId] = []
        self.tags: list[Tag] = []
        self.comments: list[Comment] = []
        self.headings: list[Heading] = []
        self.in_comment = False  # scanning the inside of a `%%` comment (R14)
        # The inline limit's memory: the line last asked about (its start, end and kind),
        # the end of the inline unit that holds it, and the table rows last confirmed.
        # Each is worked out once, however many `$` and backticks a line or unit holds.
        self.line_from, self.line_to, self.line_kind = 0, -1, _FLOWS
        self.unit_end = -1
        self.table_from, self.table_to = 0, -1
        # Inline code, math and `%%` comments: `%%` and `$$` inside them open nothing
        # (see _unclosed).
        self.code_spans: list[tuple[int, int]] = []
        self.math_spans: list[tuple[int, int]] = []
        self.comment_spans: list[tuple[int, int]] = []
        self.no_comment_close = len(text)  # no `-->` from here to the segment end
        # A line cursor: the scan asks for positions in increasing order, so counting
        # newlines since the previous one is cheaper than any lookup.
        self.cursor = 0
        self.line = 1
        self.line_start = 0

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of `offset`, moving the cursor there."""
        cursor = self.cursor
        if offset < cursor:
            return self.lines.position(offset)
        text = self.text
        newlines = text.count("\n", cursor, offset)
        if newlines:
            self.line += newlines
            self.line_start = text.rfind("\n", cursor, offset) + 1
        self.cursor = offset
        return self.line, offset - self.line_start + 1

    def span(self, start: int, end: int) -> Span:
        line, column = self.position(start)
        if self.text.find("\n", start, end) == -1:
            return _new(Span, (start, end, line, column, line, column + end - start))
        end_line, end_column = self.lines.position(end)
        return _new(Span, (start, end, line, column, end_line, end_column))

    def scan(self, start: int, end: int) -> None:
        text = self.text
        search = _INLINE.search
        add_link = self.links.append
        comment = self.in_comment
        self.no_comment_close = end  # a new segment: searches so far say nothing of it
        pos = start
        if (start == 0 or text[start - 1] == "\n") and _HEADING_START.match(text, start, end):
            heading = _HEADING.match(text, text.index("#", start), end)
            if heading is not None:
                pos = self._heading(start, heading)
        while True:
            m = search(text, pos, end)
            if m is None:
                return
            i, pos = m.span()
            kind = m.lastindex
            if kind is None:
                char = text[i]
                if char == "`":
                    pos = self._code_span(pos, pos - i, end)
                elif char == "<":
                    pos = self._comment(i, end)
                elif char == "$":
                    pos = self._math(i, pos, end)
                elif char == "%":
                    pos = self._inline_comment(i, end)
                # "\\": the escaped character is skipped with the match
                continue
            # Every item but a comment lies on one line (no group crosses a line end):
            # the position of its start gives every column of it. The line cursor is
            # inlined: this runs per item.
            cursor = self.cursor
            if i >= cursor:
                newlines = text.count("\n", cursor, i)
                if newlines:
                    self.line += newlines
                    self.line_start = text.rfind("\n", cursor, i) + 1
                self.cursor = i
                line = self.line
                column = i - self.line_start + 1
            else:
                line, column = self.lines.position(i)
            if kind <= _LAST_SIMPLE:
                # The most common match by far, so handled here without calls.
                embed = kind >= _EMBED_PATH
                first = _EMBED_PATH if embed else _WIKI_PATH
                raw, sub, display = m.group(first, first + 1, first + 2)
                target = raw.strip()  # R5
                t_start = m.start(first)
                if target[:1] != raw[:1]:
                    t_start += len(raw) - len(raw.lstrip())
                add_link(
                    _new(
                        Link,
                        (
                            _EMBED_KIND if embed else _WIKILINK_KIND,
                            _new(Span, (i, pos, line, column, line, column + pos - i)),
                            target,
                            t_start,
                            target if target.isascii() else nfc(target),
                            None if sub is None else sub.rstrip(),
                            display,
                            embed,
                            False,
                            None,
                            comment,
                            _in_table_row(text, i - column + 1, i),
                        ),
                    )
                )
            elif kind == _HEADING_GROUP:
                # The match is the run of `#`s; the heading's span starts with its line.
                at = i - column + 1
                end_at = m.end(kind)
                span = _new(Span, (at, end_at, line, 1, line, 1 + end_at - at))
                self.headings.append(_new(Heading, (pos - i, m.group(kind), span)))
            elif kind == _TAG:
                name = m.group(kind)
                if not name.replace("/", "").isdigit():  # R70: `#1984` is no tag
                    span = _new(Span, (i, pos, line, column, line, column + pos - i))
                    self.tags.append(_new(Tag, (name, span)))
            elif kind == _BLOCK:
                span = _new(Span, (i, pos, line, column, line, column + pos - i))
                self.blocks.append(_new(BlockId, (m.group(kind), span)))
            elif kind <= _EMBED:
                self._wikilink(m, kind, line, column)
            else:
                self._markdown_link(m, kind, line, column)

    def _heading(self, line_start: int, heading: re.Match[str]) -> int:
        self.headings.append(
            Heading(
                len(heading.group(1)),
                heading.group(2),
                self.span(line_start, heading.end(2)),
            )
        )
        return heading.end(1)  # its text may hold links and tags

    def _inline_limit(self, pos: int, end: int) -> int:
        """Where a code span (R12) or math (R15) that starts at `pos` must close.

        Neither crosses the end of its paragraph, list item, heading, quote line or table
        cell (docs/obsidian-behaviour.md, "Math"), nor the end of the scanned segment.
        """
        text = self.text
        if not self.line_from <= pos <= self.line_to:
            line_from = text.rfind("\n", 0, pos) + 1
            line_to = _line_end(text, pos)
            if _OWN_LINE.match(text, line_from, line_to):
                kind = _ALONE
            elif text.find("|", line_from, line_to) != -1 and self._in_table(line_from, line_to):
                kind = _TABLE_ROW
            else:
                kind = _FLOWS
            self.line_from, self.line_to, self.line_kind = line_from, line_to, kind
        kind = self.line_kind
        if kind == _FLOWS:
            # Every line of a unit shares its end: found once, kept until passed.
            if pos >= self.unit_end or self.unit_end > end:
                m = _UNIT_END.search(text, self.line_to, end)
                self.unit_end = m.start() if m else end
            return self.unit_end
        if kind == _TABLE_ROW:  # the cell ends at the next `|` that is not escaped
            bar = text.find("|", pos, self.line_to)
            while bar != -1 and text[bar - 1] == "\\":
                bar = text.find("|", bar + 1, self.line_to)
            if bar != -1:
                return min(bar, end)
        return min(self.line_to, end)

    def _in_table(self, line_from: int, line_to: int) -> bool:
        """Is the line, which holds a `|`, a row of a table (a header or body row)?"""
        text = self.text
        if self.table_from <= line_from <= self.table_to + 1:
            self.table_to = max(self.table_to, line_to)  # the row after the last one known
            return True
        if line_to < len(text) and _DELIMITER_ROW.match(
            text, line_to + 1, _line_end(text, line_to + 1)
        ):
            self.table_from, self.table_to = line_from, line_to  # the header row
            return True
        # A body row: the lines above it hold a `|` up to the delimiter row.
        above_to = line_from - 1
        for _ in range(_TABLE_LOOKBACK_LINES):
            if above_to < 0:
                return False
            above_from = text.rfind("\n", 0, above_to) + 1
            if _DELIMITER_ROW.match(text, above_from, above_to):
                self.table_from, self.table_to = above_from, line_to
                return True
            if text.find("|", above_from, above_to) == -1:
                return False
            above_to = above_from - 1
        return True  # too far to tell: its cells bound code and math, never hiding a link

    def _code_span(self, pos: int, ticks: int, end: int) -> int:
        close = _closing_tick(ticks).search(self.text, pos, self._inline_limit(pos, end))
        if close is None:
            return pos  # unmatched backticks are text
        self.code_spans.append((pos - ticks, close.end()))
        return close.end()

    def _comment(self, i: int, end: int) -> int:
        text = self.text
        pos = i + 4
        # Once a search for `-->` failed from some point, it fails from any later one: a
        # line of a million `<!--` costs one search, not a million (quadratic).
        close_at = -1 if self.no_comment_close <= pos else text.find("-->", pos, end)
        if close_at == -1:
            self.no_comment_close = min(self.no_comment_close, pos)
            before = i
            while before > 0 and text[before - 1] in " \t":
                before -= 1
            if before > 0 and text[before - 1] != "\n":
                return pos  # an inline `<!--` without an end is text
            inner, stop = text[pos:end], end  # an unclosed comment block runs to the end
        else:
            inner, stop = text[pos:close_at], close_at + 3
        self.comments.append(Comment(inner, self.span(i, stop)))
        return stop

    def _math(self, i: int, pos: int, end: int) -> int:
        """Skip the math that opens at `i`, if any (R15; docs/obsidian-behaviour.md)."""
        text = self.text
        if pos - i == 2:
            # `$$`: display math, without the rules on spaces and digits that `$` has
            # (Obsidian 0.8.11). Unclosed, its second `$` may still open inline math.
            close_at = text.find("$$", pos, self._inline_limit(pos, end))
            if close_at == -1:
                return i + 1
            self.math_spans.append((i, close_at + 2))
            return close_at + 2
        if pos >= end or text[pos].isspace() or (i and text[i - 1].isdigit()):
            return pos  # `$ 5` and `5$x` open nothing
        # The first `$` after it that is not escaped decides: math only when it has no
        # blank before it and no digit after it (`$5 and $10`, `$1,5$2`: none).
        limit = self._inline_limit(pos, end)
        close = text.find("$", pos, limit)
        while close != -1:
            before = close
            while text[before - 1] == "\\":
                before -= 1
            if (close - before) % 2 == 0:
                break
            close = text.find("$", close + 1, limit)
        if close == -1 or text[close - 1].isspace() or text[close + 1 : close + 2].isdigit():
            return pos
        self.math_spans.append((i, close + 1))
        return close + 1

    def _inline_comment(self, i: int, end: int) -> int:
        """An Obsidian comment within a line (R14): `%%` … `%%`, both on that line."""
        text = self.text
        line_end = text.find("\n", i + 2, end)
        close_at = text.find("%%", i + 2, end if line_end == -1 else line_end)
        if close_at == -1:
            return i + 2  # only a comment whose `%%` starts a line may span lines
        self.comment_spans.append((i, close_at + 2))
        self.scan_comment(i + 2, close_at)
        return close_at + 2

    def scan_comment(self, start: int, end: int) -> None:
        """Scan the inside of a `%%` comment: its links are marked as commented out."""
        no_comment_close = self.no_comment_close
        self.in_comment = True
        try:
            self.scan(start, end)
        finally:
            self.in_comment = False
            self.no_comment_close = no_comment_close

    def _wikilink(self, m: re.Match[str], group: int, line: int, column: int) -> None:
        """Any other wikilink or embed (`group`); `line`, `column`: where it starts."""
        content = m.group(group)
        pipe = content.find("|", 1)  # R3: the first `|` that is not the first character
        if pipe == -1:
            head = content
            display = None
        else:
            display = content[pipe + 1 :]
            # R4: `\|` (tables) is the display separator; the backslash is not target.
            head = content[: pipe - 1] if content[pipe - 1] == "\\" else content[:pipe]
        hash_at = head.find("#")  # R2: the path ends at the first `#`
        if hash_at == -1:
            raw = head
            subpath = None
        else:
            raw = head[:hash_at]
            subpath = head[hash_at:].strip() or None
        start, end = m.span()
        target = raw.strip()  # R5
        t_start = m.start(group) + len(raw) - len(raw.lstrip())
        embed = group == _EMBED
        self.links.append(
            _new(
                Link,
                (
                    _EMBED_KIND if embed else _WIKILINK_KIND,
                    _new(Span, (start, end, line, column, line, column + end - start)),
                    target,
                    t_start,
                    nfc(target),
                    subpath,
                    display,
                    embed,
                    False,
                    None,
                    self.in_comment,
                    _in_table_row(self.text, start - column + 1, start),
                ),
            )
        )

    def _markdown_link(self, m: re.Match[str], group: int, line: int, column: int) -> None:
        """`[label](dest)` or `![alt](dest)`; `group` is its destination's group."""
        dest = m.group(group)
        if not dest or _SCHEME.match(dest):
            return  # R40/R41: empty or external
        embed = group >= _IMAGE_ANGLE
        start, end = m.span()
        dest_start = m.start(group)
        hash_at = dest.find("#")
        path = dest if hash_at == -1 else dest[:hash_at]
        subpath = None if hash_at == -1 else decode_destination(dest[hash_at:]) or None
        self.links.append(
            _new(
                Link,
                (
                    _MARKDOWN_KIND,
                    _new(Span, (start, end, line, column, line, column + end - start)),
                    path,
                    dest_start,
                    nfc(decode_destination(path)),
                    subpath,
                    m.group(_ALT if embed else _LABEL),
                    embed,
                    group in (_ANGLE, _IMAGE_ANGLE),
                    None,
                    self.in_comment,
                    False,  # a label, not `|`, holds what a markdown link shows
                ),
            )
        )


def _property_links(
    text: str, block: Frontmatter, properties: dict[str, Any], lines: LineIndex
) -> list[Link]:
    """Quoted wikilinks in property values (R52); unquoted `[[x]]` is a YAML list."""
    strings: dict[str, str] = {}
    for key, value in properties.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, str) and "[[" in item:
                strings[item] = str(key)
    links: list[Link] = []
    if not strings:
        return links
    for m in _PROPERTY_WIKILINK.finditer(text, block.body_start, block.body_end):
        owner = next((k for s, k in strings.items() if m.group(0) in s), None)
        if owner is None:
            continue
        content = m.group(1)
        pipe = content.find("|", 1)
        target_part = content if pipe == -1 else content[:pipe]
        hash_at = target_part.find("#")
        raw = target_part if hash_at == -1 else target_part[:hash_at]
        lead = len(raw) - len(raw.lstrip())
        target = raw.strip()
        t_start = m.start(1) + lead
        links.append(
            Link(
                kind=LinkKind.PROPERTY,
                span=lines.span(m.start(), m.end()),
                target=target,
                target_start=t_start,
                linkpath=nfc(target),
                subpath=None if hash_at == -1 else target_part[hash_at:].strip() or None,
                display=None if pipe == -1 else content[pipe + 1 :],
                key=owner,
            )
        )
    return links


def _suppressions(
    text: str, lines: LineIndex, code: list[tuple[int, int]]
) -> tuple[tuple[tuple[int, frozenset[str]], ...], frozenset[str] | None]:
    if "vaultsync-ignore" not in text:
        return (), None
    per_line: list[tuple[int, frozenset[str]]] = []
    whole: set[str] | None = None
    for m in _SUPPRESSION.finditer(text):
        if any(start <= m.start() < end for start, end in code):
            continue  # a suppression shown in a code example suppresses nothing
        codes = frozenset(_CODE_WORD.findall(m.group("codes")))
        if m.group("file"):
            whole = (whole or set()) | codes if codes and whole != set() else set()
        else:
            per_line.append((lines.position(m.start())[0], codes))
    return tuple(per_line), None if whole is None else frozenset(whole)


def parse(text: str) -> ParsedNote:
    """Parse a note's text (BOM already removed)."""
    lines = LineIndex(text)
    block = fm.find_block(text, lines)
    properties: dict[str, Any] | None = None
    yaml_error: tuple[str, int, int] | None = None
    body_start = 0
    if block is not None and block.closed:
        body_start = block.span.end
        properties, yaml_error = fm.load(text, block, lines)

    scanner = _Scanner(text, lines)
    code_blocks, comment_blocks = _code_blocks(text, body_start)
    segment_start = body_start
    blocks = [(start, end, False) for start, end in code_blocks]
    if comment_blocks:
        blocks = sorted(blocks + [(start, end, True) for start, end in comment_blocks])
    for block_start, block_end, comment in blocks:
        scanner.scan(segment_start, block_start)
        if comment:  # from after its opening `%%` to its closing one
            scanner.scan_comment(block_start + 2, block_end)
            block_end = min(block_end + 2, len(text))
        segment_start = block_end
    scanner.scan(segment_start, len(text))

    links = scanner.links
    if block is not None and properties:
        links = _property_links(text, block, properties, lines) + links
    per_line, whole = _suppressions(text, lines, code_blocks)
    # The scanner's line cursor is at its last item: from there to the end is all that
    # is left to count (LineIndex would count the whole text, twice).
    end = scanner.span(len(text), len(text))
    return ParsedNote(
        frontmatter=block,
        properties=properties,
        yaml_error=yaml_error,
        links=tuple(links),
        headings=tuple(scanner.headings),
        blocks=tuple(scanner.blocks),
        tags=tuple(scanner.tags),
        comments=tuple(scanner.comments),
        suppressions=per_line,
        file_suppressions=whole,
        line_count=end.line,
        length=len(text),
        end=end,
        newline="\r\n" if _first_line_end(text) == "\r\n" else "\n",
        final_newline=text.endswith("\n"),
        marked_text=text if any("vaultsync:" in c.text for c in scanner.comments) else None,
        unclosed=_open_span(
            _unclosed(text, body_start, code_blocks, comment_blocks, scanner), lines
        ),
    )


def _open_span(found: tuple[str, int] | None, lines: LineIndex) -> tuple[str, Span] | None:
    if found is None:
        return None
    mark, at = found
    return mark, lines.span(at, at + len(mark))


_AFTER_ANY = 1 << 62  # bisects to after every range that starts at a given offset


def _unclosed(
    text: str,
    start: int,
    code_blocks: list[tuple[int, int]],
    comment_blocks: list[tuple[int, int]],
    scanner: _Scanner,
) -> tuple[str, int] | None:
    """What is still open where the text ends (a code fence, `<!--`, `%%` or `$$`), and
    the offset it opened at; None when text appended at the end would stand on its own."""
    n = len(text)
    if code_blocks and code_blocks[-1][1] == n:
        block_start = code_blocks[-1][0]
        opener = text[block_start : _line_end(text, block_start)].lstrip(" \t")
        fence = _FENCE.match(opener)
        if fence is not None:
            # Open, or closed on the last line, or in a list item that the next line at
            # the margin ends: add what `sections.append_edit` adds before a section (a
            # blank line, then a line at the margin) and see whether the fence takes it.
            probe = text + ("\n" if text.endswith("\n") else "\n\n") + "x"
            probe_blocks = _code_blocks(probe, start)[0]
            if probe_blocks and probe_blocks[-1][1] == len(probe):
                return fence.group(), text.index(fence.group(), block_start)
    # A `<!--` with no `-->` after it: a comment block running to the end, or inline text
    # that the first `-->` appended (a section's marker) would make a comment.
    if scanner.no_comment_close < n:
        return "<!--", scanner.no_comment_close - 4
    if text.endswith("<!--") and not (code_blocks and code_blocks[-1][1] == n):
        backslashes = len(text[:-4]) - len(text[:-4].rstrip("\\"))
        if backslashes % 2 == 0:  # `\<!--` is text, and stays text
            return "<!--", n - 4
    # A `%%` comment block still open runs to the end (an inline one closes on its line).
    if comment_blocks and comment_blocks[-1][1] == n:
        return "%%", comment_blocks[-1][0]
    dollars = _marks(text, "$$", start)
    if not dollars:
        return None
    # `$$` math never spans a blank line (docs/obsidian-behaviour.md), so none takes in a
    # section appended after one; but whether Obsidian's does is not recorded, so a `$$`
    # left unpaired still keeps the section out. Marks inside code, inline code, HTML
    # and `%%` comments and math the scanner paired (a `$$` there is a pair, or the end
    # of `$x$` and a stray `$`) are text.
    comments = [(opened, min(closed + 2, n)) for opened, closed in comment_blocks]
    if scanner.comment_spans:
        comments = sorted(comments + scanner.comment_spans)
    open_at: int | None = None
    for at in dollars:
        if (
            _inside(code_blocks, at)
            or _inside(scanner.code_spans, at)
            or _inside(scanner.math_spans, at)
            or _inside(comments, at)
            or _inside_comment(scanner.comments, at)
        ):
            continue
        open_at = at if open_at is None else None
    return None if open_at is None else ("$$", open_at)


def _marks(text: str, mark: str, start: int) -> list[int]:
    """Offsets of the two-character `mark` from `start` on, not overlapping.

    Found by its first character: `str.find` of one character runs at memchr speed,
    of two about ten times slower, and this runs on every note.
    """
    found: list[int] = []
    char = mark[0]
    at = text.find(char, start)
    while at != -1:
        if text.startswith(mark, at):
            found.append(at)
            at = text.find(char, at + 2)
        else:
            at = text.find(char, at + 1)
    return found


def _inside(ranges: list[tuple[int, int]], at: int) -> bool:
    """Is `at` inside one of `ranges` (sorted, not overlapping)?"""
    i = bisect_right(ranges, (at, _AFTER_ANY)) - 1
    return i >= 0 and at < ranges[i][1]


def _inside_comment(comments: list[Comment], at: int) -> bool:
    i = bisect_right(comments, at, key=_comment_start) - 1
    return i >= 0 and at < comments[i].span.end


def _comment_start(comment: Comment) -> int:
    return comment.span.start


def _first_line_end(text: str) -> str:
    nl = text.find("\n")
    return "\r\n" if nl > 0 and text[nl - 1] == "\r" else "\n"
