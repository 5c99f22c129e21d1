"""The one-regex-pass baseline: the machine's CPU speed, to put vaultsync's figures beside.

design.md §11 quotes 0.7 s for one compiled regex over every note of the 10,000-note
benchmark vault. This machine's speed drifts (other work shares its cores), so a figure
means something only as a ratio to this pass measured in the same run.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path

# One compiled pattern for wikilinks, markdown links and tags: the "single regex pass"
# design.md §11 quotes (0.7 s on 10,000 notes) to give a sense of the machine's speed.
ONE_PASS = re.compile(r"!?\[\[([^\[\]\n]+)\]\]|\[([^\]\n]*)\]\(([^)\n]+)\)|#[\w/-]+")


def note_texts(vault: Path) -> list[str]:
    """Every note's text (not `.obsidian/`), in path order: the pass's input, read once."""
    return [
        p.read_text(encoding="utf-8")
        for p in sorted(vault.rglob("*.md"))
        if ".obsidian" not in p.parts
    ]


def regex_pass(texts: Sequence[str]) -> int:
    """One pass of `ONE_PASS` over every text; the number of matches."""
    return sum(1 for text in texts for _ in ONE_PASS.finditer(text))


def timed_regex_pass(texts: Sequence[str]) -> float:
    """Seconds one `regex_pass` takes, in this process."""
    start = time.perf_counter()
    matches = regex_pass(texts)
    elapsed = time.perf_counter() - start
    assert matches > 100_000, f"only {matches} matches: not the 10k benchmark vault?"
    return elapsed
