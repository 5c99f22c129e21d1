"""Where vaultsync's generated sections sit in a parsed note (§6 marker syntax).

A section is `<!-- vaultsync:begin KIND options hash=xxxxxxxx -->`, a body, and
`<!-- vaultsync:end KIND -->`. The hash is over the body vaultsync last wrote,
with newlines normalised to LF, so a CRLF note and its LF copy hash the same and
a hand edit is recognised whatever the line endings.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from vaultsync.core.model import Comment, ParsedNote

MARKER = re.compile(
    r"^\s*vaultsync:(?P<edge>begin|end)\s+(?P<kind>[a-z][a-z0-9-]*)(?P<rest>.*?)\s*$", re.S
)
# key, key=value, key="value with spaces" or key='value'
_OPTION = re.compile(r"""([A-Za-z_][\w.-]*)(?:=(?:"([^"]*)"|'([^']*)'|([^\s"']+)))?(?=\s|$)""")
_HASH_VALUE = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True, slots=True)
class MarkerPair:
    kind: str
    begin: Comment
    end: Comment
    options: str  # the text after the kind in the opening marker

    @property
    def body_start(self) -> int:
        return self.begin.span.end

    @property
    def body_end(self) -> int:
        return self.end.span.start


@dataclass(frozen=True, slots=True)
class MarkerProblem:
    comment: Comment  # where to report it
    message: str


def marker_pairs(parsed: ParsedNote) -> tuple[list[MarkerPair], list[MarkerProblem]]:
    """Matched begin/end pairs and the problems (unmatched or nested markers)."""
    pairs: list[MarkerPair] = []
    problems: list[MarkerProblem] = []
    open_marker: tuple[str, Comment, str] | None = None
    for comment in parsed.comments:
        if "vaultsync:" not in comment.text:
            continue
        m = MARKER.match(comment.text)
        if m is None:
            continue
        kind = m.group("kind")
        if m.group("edge") == "begin":
            if open_marker is not None:
                problems.append(
                    MarkerProblem(
                        comment,
                        f"`begin {kind}` inside the open `{open_marker[0]}` section "
                        f"of line {open_marker[1].span.line}",
                    )
                )
            open_marker = (kind, comment, m.group("rest").strip())
        elif open_marker is None or open_marker[0] != kind:
            problems.append(MarkerProblem(comment, f"`end {kind}` without its `begin`"))
        else:
            pairs.append(MarkerPair(kind, open_marker[1], comment, open_marker[2]))
            open_marker = None
    if open_marker is not None:
        problems.append(MarkerProblem(open_marker[1], f"`begin {open_marker[0]}` is never ended"))
    return pairs, problems


def has_markers(parsed: ParsedNote) -> bool:
    return any("vaultsync:" in c.text for c in parsed.comments)


def generated_ranges(parsed: ParsedNote) -> list[tuple[int, int]]:
    """Offsets covered by generated sections, markers included."""
    if not has_markers(parsed):
        return []
    pairs, _ = marker_pairs(parsed)
    return [(p.begin.span.start, p.end.span.end) for p in pairs]


def in_ranges(offset: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in ranges)


def parse_options(text: str) -> dict[str, str] | None:
    """`folder="a b" recursive tag=x` -> {"folder": "a b", "recursive": "", "tag": "x"}.

    None when some of the text is not an option (an unbalanced quote, say): the
    marker is then broken rather than silently read another way.
    """
    options: dict[str, str] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _OPTION.match(text, pos)
        if m is None:
            return None
        value = next((g for g in m.groups()[1:] if g is not None), "")
        options[m.group(1)] = value
        pos = m.end()
    return options


def recorded_hash(options: dict[str, str]) -> str | None:
    """The `hash=` of an opening marker; None when absent or not 8 lower-case hex digits."""
    value = options.get("hash")
    return value if value is not None and _HASH_VALUE.fullmatch(value) else None


def body_hash(body: str) -> str:
    """Short hash of a section body, independent of the note's line endings."""
    return hashlib.sha256(body.replace("\r\n", "\n").encode("utf-8")).hexdigest()[:8]


def begin_marker(kind: str, options: str, digest: str) -> str:
    """The opening marker: the user's options as written, then the fresh hash."""
    kept = [m.group(0) for m in _OPTION.finditer(options) if m.group(1) != "hash"]
    return f"<!-- vaultsync:begin {kind} {' '.join([*kept, f'hash={digest}'])} -->"


def end_marker(kind: str) -> str:
    return f"<!-- vaultsync:end {kind} -->"
