"""One pass over a note: frontmatter, headings, block ids, tags, links, with exact ranges.

The rules follow `obsidian-semantics.md` (R-numbers below). A block pass finds code
and math blocks (fences, indented code, `$$`); one compiled-regex scan over the text
between them finds everything else. A full CommonMark parse costs about ten times as
much and serves only as a test oracle (tests/test_parser_oracle.py).

Speed matters here: every note of a vault goes through `parse` on each check. Each
regex that scans whole text starts with a literal (or an alternation of literals), so
`re` skips ahead at C speed; Python code runs only where something may start.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from vaultsync import frontmatter as fm
from vaultsync.linktext import decode_destination
from vaultsync.model import (
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
from vaultsync.text import LineIndex, nfc

# --- block level -----------------------------------------------------------------------

# A line that may open a block: a fence, `$$` or `<!--` line, or an indented line after a
# blank line or a heading (the only places indented code can start, R11). `re` pays per
# line break tried, so the pattern turns lines away early: the first lookahead says what
# every alternative starts with, `(?=[ \t])` what an indented line does, and possessive
# repeats never give back characters the rest cannot use.
_BLOCK_EVENT = re.compile(
    r"\n(?=[ \t]*[`~$<\r\n#])"
    r"(?:[ \t]*+(?:```|~~~|\$\$|<!--|\r?\n(?=[ \t])(?= {4}| {0,3}\t))"
    r"| {0,3}#{1,6}(?:[ \t][^\n]*+)?\n(?=[ \t])(?= {4}| {0,3}\t))"
)
_FENCE = re.compile(r"`{3,}|~{3,}")
_LIST_ITEM = re.compile(r"([ \t]*)([-*+]|\d{1,9}[.)])([ \t]*)(\S?)")
_THEMATIC_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*\r?$")
# Blocks that end every list when they start at the margin: no lazy continuation.
_MARGIN_BLOCK = re.compile(r"#{1,6}(?:[ \t]|\r?$)|```|~~~|<!--")
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
    text: str, line_start: int, floor: int, after_break: bool, ranges: list[tuple[int, int]]
) -> tuple[int, bool]:
    """Record the code or math block opening at `line_start`, if any.

    Returns where the search goes on, and whether an indented line there would be code:
    after a blank line, a heading, a fence or an HTML comment (not after a paragraph).
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
    if body.startswith("$$"):  # R15: a display math block
        close_at = text.find("$$", line_end - len(body) + 2)
        if close_at == -1:
            return line_end, False
        end = _line_end(text, close_at)
        ranges.append((line_start, end))
        return end, False
    if body.startswith("<!--"):
        # An HTML comment block (R13): its lines open nothing. The scan records it.
        close_at = text.find("-->", line_end - len(body) + 4)
        return (len(text) if close_at == -1 else _line_end(text, close_at)), True
    # Indented code may follow a heading directly, as it may a blank line.
    return line_end, width <= 3 and _HEADING_START.match(body) is not None


def _code_blocks(text: str, start: int) -> list[tuple[int, int]]:
    """Ranges of fenced code (R10), indented code (R11) and `$$` math blocks (R15)."""
    ranges: list[tuple[int, int]] = []
    n = len(text)
    pos, after_block = start, False
    if start < n:
        pos, after_block = _block_at(text, start, start, True, ranges)
    search = _BLOCK_EVENT.search
    while pos < n:
        if after_block:
            pos, after_block = _block_at(text, pos + 1, start, True, ranges)
            continue
        m = search(text, pos)
        if m is None:
            break
        if m.end() - m.start() > 1 and text[m.end() - 1] == "\n":
            pos, after_block = _block_at(text, m.end(), start, True, ranges)  # after a blank
        else:
            pos, after_block = _block_at(text, m.start() + 1, start, False, ranges)
    return ranges


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
_MATH_CLOSE = re.compile(r"\$(?<![\s\\]\$)(?!\d)")
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
        # Inline code and math: `%%` and `$$` inside them open nothing (see _unclosed).
        self.code_spans: list[tuple[int, int]] = []
        self.math_spans: list[tuple[int, int]] = []
        self.paragraph_end = -1  # where the paragraph holding the scan position ends
        # (from, limit): a range already searched in vain for a closing `$`. Every later `$`
        # inside it shares that answer, so a paragraph of a million unclosed `$a` costs one
        # search instead of a million (each to the paragraph's end: quadratic).
        self.no_math_close = (0, -1)
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

    def _paragraph_limit(self, pos: int, end: int) -> int:
        """End of the paragraph holding `pos`: inline code and math never cross it."""
        if pos >= self.paragraph_end or self.paragraph_end > end:
            m = _PARAGRAPH_END.search(self.text, pos, end)
            self.paragraph_end = m.start() if m else end
        return self.paragraph_end

    def _code_span(self, pos: int, ticks: int, end: int) -> int:
        close = _closing_tick(ticks).search(self.text, pos, self._paragraph_limit(pos, end))
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
        text = self.text
        if pos - i == 2:
            close_at = text.find("$$", pos, end)
            if close_at == -1:
                return pos
            self.math_spans.append((i, close_at + 2))
            return close_at + 2
        if pos >= end or text[pos].isspace():
            return pos  # `$ 5` opens nothing
        limit = self._paragraph_limit(pos, end)
        searched_from, searched_to = self.no_math_close
        if searched_from <= pos and searched_to == limit:
            return pos
        close = _MATH_CLOSE.search(text, pos, limit)
        if close is None:
            self.no_math_close = (pos, limit)
            return pos  # `$5.5 … $500`: no math
        self.math_spans.append((i, close.end()))
        return close.end()

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
    code_blocks = _code_blocks(text, body_start)
    segment_start = body_start
    for code_start, code_end in code_blocks:
        scanner.scan(segment_start, code_start)
        segment_start = code_end
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
        unclosed=_open_span(_unclosed(text, body_start, code_blocks, scanner), lines),
    )


def _open_span(found: tuple[str, int] | None, lines: LineIndex) -> tuple[str, Span] | None:
    if found is None:
        return None
    mark, at = found
    return mark, lines.span(at, at + len(mark))


_AFTER_ANY = 1 << 62  # bisects to after every range that starts at a given offset


def _unclosed(
    text: str, start: int, code_blocks: list[tuple[int, int]], scanner: _Scanner
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
            if _code_blocks(probe, start)[-1][1] == len(probe):
                return fence.group(), text.index(fence.group(), block_start)
    # A `<!--` with no `-->` after it: a comment block running to the end, or inline text
    # that the first `-->` appended (a section's marker) would make a comment.
    if scanner.no_comment_close < n:
        return "<!--", scanner.no_comment_close - 4
    if text.endswith("<!--") and not (code_blocks and code_blocks[-1][1] == n):
        backslashes = len(text[:-4]) - len(text[:-4].rstrip("\\"))
        if backslashes % 2 == 0:  # `\<!--` is text, and stays text
            return "<!--", n - 4
    marks = _marks(text, "%%", start)
    dollars = _marks(text, "$$", start)
    if dollars:
        marks = sorted(marks + dollars) if marks else dollars
    if not marks:
        return None
    # `%%` comments and `$$` math pair up in order, each hiding the other's marks; marks
    # inside code, inline code, HTML comments and math the scanner paired (a `$$` there
    # is a pair, or the end of `$x$` and a stray `$`) are text.
    open_mark: tuple[str, int] | None = None
    for at in marks:
        if (
            _inside(code_blocks, at)
            or _inside(scanner.code_spans, at)
            or _inside(scanner.math_spans, at)
            or _inside_comment(scanner.comments, at)
        ):
            continue
        mark = text[at : at + 2]
        if open_mark is None:
            open_mark = (mark, at)
        elif open_mark[0] == mark:
            open_mark = None
    return open_mark


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
