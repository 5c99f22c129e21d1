"""Where vaultsync's generated sections sit in a parsed note (§6 marker syntax)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vaultsync.model import Comment, ParsedNote

MARKER = re.compile(
    r"^\s*vaultsync:(?P<edge>begin|end)\s+(?P<kind>[a-z][a-z0-9-]*)(?P<rest>.*?)\s*$", re.S
)


@dataclass(frozen=True, slots=True)
class MarkerPair:
    kind: str
    begin: Comment
    end: Comment
    options: str  # the text after the kind in the opening marker


def marker_pairs(parsed: ParsedNote) -> tuple[list[MarkerPair], list[str]]:
    """Matched begin/end pairs and a list of problems (unmatched or nested markers)."""
    pairs: list[MarkerPair] = []
    problems: list[str] = []
    open_marker: tuple[str, Comment, str] | None = None
    for comment in parsed.comments:
        m = MARKER.match(comment.text)
        if m is None:
            continue
        kind = m.group("kind")
        if m.group("edge") == "begin":
            if open_marker is not None:
                problems.append(
                    f"line {comment.span.line}: `begin {kind}` inside the open "
                    f"`{open_marker[0]}` section of line {open_marker[1].span.line}"
                )
            open_marker = (kind, comment, m.group("rest").strip())
        elif open_marker is None or open_marker[0] != kind:
            problems.append(f"line {comment.span.line}: `end {kind}` without its `begin`")
        else:
            pairs.append(MarkerPair(kind, open_marker[1], comment, open_marker[2]))
            open_marker = None
    if open_marker is not None:
        problems.append(f"line {open_marker[1].span.line}: `begin {open_marker[0]}` is never ended")
    return pairs, problems


def generated_ranges(parsed: ParsedNote) -> list[tuple[int, int]]:
    """Offsets covered by generated sections, markers included."""
    if not any("vaultsync:" in c.text for c in parsed.comments):
        return []
    pairs, _ = marker_pairs(parsed)
    return [(p.begin.span.start, p.end.span.end) for p in pairs]
