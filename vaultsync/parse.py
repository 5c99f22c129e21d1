"""One pass over a note: frontmatter, headings, block ids, tags, links, with exact ranges.

The rules follow `obsidian-semantics.md` (R-numbers below). The scanner is a
line pass for block structure (fences, indented code, math blocks) followed by
one compiled-regex pass over the remaining text; a full CommonMark parse costs
about ten times as much and is used only as a test oracle.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from vaultsync import frontmatter as fm
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

_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
# An ATX heading, matched at its first `#` once the scan knows it opens a line.
_HEADING = re.compile(r"(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*\r?(?=\n|\Z)")

# --- inline level -----------------------------------------------------------------------

# Tag characters (R70): letters, digits, `_`, `-`, `/` and non-ASCII that is not
# whitespace or common punctuation. ASCII punctuation other than `_ - /` ends a tag.
_TAG_CHAR = r"[^\s!-,.:-@\[-\^`{-~\u2000-\u206f\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]"

# Every inline construct starts with one of these characters. A plain character class
# lets `re` skip ahead at C speed; an alternation with lookbehinds is ~25x slower.
_TRIGGER = re.compile(r"[\\`\[$#^<]")
_TAG = re.compile(rf"{_TAG_CHAR}+")
_TAG_PRECEDERS = frozenset(" \t\n\r\f\v[(")
_BLOCK_ID = re.compile(r"[A-Za-z0-9-]+(?=[ \t]*\r?(?:\n|\Z))")
_BLOCK_PRECEDERS = frozenset(" \t\n\r])")

_MD_LINK = re.compile(
    r"!?\[(?:[^\[\]\\\n]|\\.|\[(?:[^\[\]\\\n]|\\.)*\])*\]"
    r"\([ \t]*(?:<(?P<angle>[^<>\n]*)>|(?P<bare>[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*))"
    r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*\)"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:|//")
_PARAGRAPH_END = re.compile(r"\n[ \t]*\r?\n")
_MATH_CLOSE = re.compile(r"(?<![\s\\])\$(?!\d)")
_SUPPRESSION = re.compile(
    r"(?:%%|<!--)[ \t]*vaultsync-ignore(?P<file>-file)?(?P<codes>[^%\n]*?)[ \t]*(?:%%|-->)"
)
_CODE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_PROPERTY_WIKILINK = re.compile(r"\[\[([^\[\]\n]+?)\]\]")

_closing_ticks: dict[int, re.Pattern[str]] = {}


def _closing_tick(n: int) -> re.Pattern[str]:
    pattern = _closing_ticks.get(n)
    if pattern is None:
        pattern = _closing_ticks[n] = re.compile(rf"(?<!`)`{{{n}}}(?!`)")
    return pattern


def _paragraph_end(text: str, pos: int, limit: int) -> int:
    m = _PARAGRAPH_END.search(text, pos, limit)
    return m.start() if m else limit


# What can open a code or math block: a fence run, `$$`, or a blank line followed by an
# indented line. Each is found with str.find or a literal-led regex: `re` gets no
# literal prefix for an alternation of them and is ~20x slower.
_BLANK_THEN_INDENT = re.compile(r"\n[ \t]*\r?\n(?= {4}|\t)")
_FENCE_RUN = re.compile(r"`+|~+")


def _next_block_event(text: str, pos: int) -> tuple[int, str] | None:
    """The next (offset, token) that may open a block: "```…", "~~~…", "$$" or "\n"."""
    best: tuple[int, str] | None = None
    for literal in ("```", "~~~", "$$"):
        at = text.find(literal, pos)
        if at != -1 and (best is None or at < best[0]):
            best = (at, literal)
    blank = _BLANK_THEN_INDENT.search(text, pos, best[0] if best else len(text))
    if blank is not None:
        return blank.start(), text[blank.start() : blank.end()]
    if best is not None and best[1] != "$$":
        run = _FENCE_RUN.match(text, best[0])
        assert run is not None
        return best[0], run.group()
    return best


_INDENTED = (" " * 4, "\t")
_LIST_LOOKBACK_LINES = 400


def _in_list(text: str, blank_at: int, start: int) -> bool:
    """Is the blank line at `blank_at` inside a list? Walk back to the last unindented line."""
    end = blank_at
    for _ in range(_LIST_LOOKBACK_LINES):
        if end <= start:
            return False
        line_start = max(text.rfind("\n", start, end - 1) + 1, start)
        line = text[line_start:end]
        if line.strip() and line[0] not in " \t":
            return _LIST_ITEM.match(line) is not None
        end = line_start
    return True  # a very long indented run: treat as list content, never hide links


def _indented_end(text: str, pos: int) -> int:
    """End of an indented code block starting at line `pos`: before the next unindented line."""
    n = len(text)
    end = pos
    while pos < n:
        nl = text.find("\n", pos)
        line_end = n if nl == -1 else nl
        line = text[pos:line_end]
        if line.strip():
            if not line.startswith(_INDENTED):
                break
            end = line_end
        pos = line_end + 1
    return end


def _line_end(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl == -1 else nl


def _code_blocks(text: str, start: int) -> list[tuple[int, int]]:
    """Ranges of fenced code (R10), indented code (R11) and `$$` math blocks (R15)."""
    ranges: list[tuple[int, int]] = []
    pos = start
    if text.startswith(_INDENTED, start):  # indented code on the first body line
        end = _indented_end(text, start)
        ranges.append((start, end))
        pos = end
    while True:
        event = _next_block_event(text, pos)
        if event is None:
            return ranges
        at, token = event
        token_end = at + len(token)
        if token[0] == "\n":
            code_start = token_end
            if _in_list(text, at, start):
                pos = code_start
                continue
            end = _indented_end(text, code_start)
            ranges.append((code_start, end))
            pos = end
            continue
        line_start = text.rfind("\n", start, at) + 1 if at > start else start
        line_start = max(line_start, start)
        prefix = text[line_start:at]
        if len(prefix) > 3 or prefix.strip():
            pos = token_end  # not at the start of a line: inline backticks or `$$`
            continue
        if token[0] == "$":
            close_at = text.find("$$", token_end)
            if close_at == -1:
                pos = token_end
                continue
            end = _line_end(text, close_at)
        else:
            info_end = _line_end(text, token_end)
            if token[0] == "`" and "`" in text[token_end:info_end]:
                pos = token_end  # a backtick fence's info string has no backtick
                continue
            # R10: closed by a line of the same character, at least as long.
            close = re.compile(
                rf"^ {{0,3}}{re.escape(token[0])}{{{len(token)},}}[ \t]*\r?$", re.MULTILINE
            ).search(text, min(info_end + 1, len(text)))
            end = len(text) if close is None else close.end()
        ranges.append((line_start, end))
        pos = end


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
        self.hidden: list[tuple[int, int]] = []  # comment ranges: no headings there (R13)

    def scan(self, start: int, end: int) -> None:
        text = self.text
        search = _TRIGGER.search
        pos = start
        while True:
            m = search(text, pos, end)
            if m is None:
                return
            i = m.start()
            char = text[i]
            pos = i + 1
            if char == "[":
                opener = i - 1 if i > start and text[i - 1] == "!" else i
                if text.startswith("[", pos):
                    pos = self._wikilink(opener, pos + 1, end)
                else:
                    pos = self._markdown_link(opener, pos, end)
            elif char == "\\":
                if pos < end and text[pos] != "\n":
                    pos += 1  # R16: an escaped character is text
            elif char == "<":
                if text.startswith("<!--", i):
                    pos = self._comment(i, end)
            elif char == "`":
                pos = self._code_span(i, end)
            elif char == "$":
                pos = self._math(i, pos + 1 if text.startswith("$", pos) else pos, end)
            elif char == "#":
                line_start = text.rfind("\n", 0, i) + 1
                if i - line_start <= 3 and not text[line_start:i].strip(" "):
                    heading = _HEADING.match(text, i, end)
                    if heading is not None:
                        self.headings.append(
                            Heading(
                                len(heading.group(1)),
                                heading.group(2),
                                self.lines.span(line_start, heading.end(2)),
                            )
                        )
                        pos = heading.end(1)  # its text may hold links and tags
                        continue
                if i == 0 or text[i - 1] in _TAG_PRECEDERS:
                    tag = _TAG.match(text, pos, end)
                    if tag is not None:
                        name = tag.group()
                        if not name.replace("/", "").isdigit():  # R70: `#1984` is no tag
                            self.tags.append(Tag(name, self.lines.span(i, tag.end())))
                        pos = tag.end()
            elif i == 0 or text[i - 1] in _BLOCK_PRECEDERS:  # char == "^"
                block = _BLOCK_ID.match(text, pos, end)
                if block is not None:
                    self.blocks.append(BlockId(block.group(), self.lines.span(i, block.end())))
                    pos = block.end()

    def _code_span(self, i: int, end: int) -> int:
        text = self.text
        pos = i + 1
        while pos < end and text[pos] == "`":
            pos += 1
        close = _closing_tick(pos - i).search(text, pos, _paragraph_end(text, pos, end))
        return pos if close is None else close.end()

    def _comment(self, i: int, end: int) -> int:
        text = self.text
        pos = i + 4
        close_at = text.find("-->", pos, end)
        if close_at == -1:
            line_start = text.rfind("\n", 0, i) + 1
            if text[line_start:i].strip():
                return pos  # an inline `<!--` without an end is text
            close_at = end - 3
        stop = min(close_at + 3, end)
        self.comments.append(Comment(text[pos : max(close_at, pos)], self.lines.span(i, stop)))
        self.hidden.append((i, stop))
        return stop

    def _math(self, start: int, pos: int, end: int) -> int:
        text = self.text
        if pos - start == 2:
            close_at = text.find("$$", pos, end)
            return pos if close_at == -1 else close_at + 2
        if pos >= end or text[pos].isspace():
            return pos
        close = _MATH_CLOSE.search(text, pos, _paragraph_end(text, pos, end))
        return pos if close is None else close.end()

    def _wikilink(self, start: int, pos: int, end: int) -> int:
        text = self.text
        close_at = text.find("]]", pos, end)
        if close_at == -1:
            return pos
        newline = text.find("\n", pos, close_at)
        if newline != -1:
            return pos  # R6: a line break means no link
        inner_open = text.rfind("[[", pos, close_at)
        if inner_open != -1:
            # R6: nested links keep only the inner one.
            start = inner_open - 1 if text[inner_open - 1 : inner_open] == "!" else inner_open
            pos = inner_open + 2
        content_start = pos
        if close_at == content_start:
            return close_at + 2  # `[[]]` is no link
        embed = text[start] == "!"
        pipe = text.find("|", content_start + 1, close_at)
        if pipe == -1:
            target_end = close_at
            display = None
        else:
            display = text[pipe + 1 : close_at]
            # R4: `\|` (tables) is the display separator; the backslash is not target.
            target_end = pipe - 1 if text[pipe - 1] == "\\" else pipe
        hash_at = text.find("#", content_start, target_end)
        path_end = target_end if hash_at == -1 else hash_at
        subpath = None if hash_at == -1 else text[hash_at:target_end].strip()
        raw = text[content_start:path_end]
        lead = len(raw) - len(raw.lstrip())
        target = raw.strip()
        t_start = content_start + lead
        span = self.lines.span(start, close_at + 2)
        t_column = span.column + t_start - start  # a wikilink never spans lines (R6)
        self.links.append(
            Link(
                kind=LinkKind.EMBED if embed else LinkKind.WIKILINK,
                span=span,
                target=target,
                target_span=Span(
                    t_start,
                    t_start + len(target),
                    span.line,
                    t_column,
                    span.line,
                    t_column + len(target),
                ),
                linkpath=nfc(target),
                subpath=subpath or None,
                display=display,
                embed=embed,
            )
        )
        return close_at + 2

    def _markdown_link(self, start: int, pos: int, end: int) -> int:
        m = _MD_LINK.match(self.text, start, end)
        if m is None:
            return pos
        angle = m.group("angle")
        dest = angle if angle is not None else m.group("bare")
        dest_start = m.start("angle") if angle is not None else m.start("bare")
        if not dest or _SCHEME.match(dest):
            return m.end()  # R40/R41: empty or external
        hash_at = dest.find("#")
        path = dest if hash_at == -1 else dest[:hash_at]
        subpath = None if hash_at == -1 else unquote(dest[hash_at:])
        embed = self.text[start] == "!"
        label_end = self.text.index("](", start)
        self.links.append(
            Link(
                kind=LinkKind.MARKDOWN,
                span=self.lines.span(start, m.end()),
                target=path,
                target_span=self.lines.span(dest_start, dest_start + len(path)),
                linkpath=nfc(unquote(path)),
                subpath=subpath or None,
                display=self.text[start + (2 if embed else 1) : label_end],
                embed=embed,
                angle=angle is not None,
            )
        )
        return m.end()


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
                target_span=lines.span(t_start, t_start + len(target)),
                linkpath=nfc(target),
                subpath=None if hash_at == -1 else target_part[hash_at:].strip() or None,
                display=None if pipe == -1 else content[pipe + 1 :],
                key=owner,
            )
        )
    return links


def _suppressions(
    text: str, lines: LineIndex
) -> tuple[tuple[tuple[int, frozenset[str]], ...], frozenset[str] | None]:
    if "vaultsync-ignore" not in text:
        return (), None
    per_line: list[tuple[int, frozenset[str]]] = []
    whole: set[str] | None = None
    for m in _SUPPRESSION.finditer(text):
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
    per_line, whole = _suppressions(text, lines)
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
        line_count=lines.line_count,
        length=len(text),
        end=lines.span(len(text), len(text)),
        newline="\r\n" if _first_line_end(text) == "\r\n" else "\n",
        final_newline=text.endswith("\n"),
        marked_text=text if any("vaultsync:" in c.text for c in scanner.comments) else None,
    )


def _first_line_end(text: str) -> str:
    nl = text.find("\n")
    return "\r\n" if nl > 0 and text[nl - 1] == "\r" else "\n"
