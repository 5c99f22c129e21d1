#!/usr/bin/env python3
"""Deterministic generator of realistic Obsidian vaults for vaultsync's benchmarks.

    python benchmarks/generate.py OUT_DIR --notes 10000 [--seed 0]

The same ``(notes, seed)`` always yields a byte-identical vault: every random
choice comes from ``random.Random`` instances seeded with strings (hashed with
SHA-512 by the stdlib, never with ``hash()``), nothing depends on the clock or on
set iteration order, and files are written as raw UTF-8 bytes with ``\\n`` line
endings. (Identity is guaranteed for a given CPython minor version; ``random``'s
algorithms have been stable for years, but the stdlib does not promise it.)

What a vault holds (see ``benchmarks/README.md`` for the full list):

* ``notes`` markdown files, ~4.5 KB each on average (log-normal sizes), in about
  ``notes / 75`` leaf folders two levels deep, plus a few notes at the root and
  in top-level folders; Title Case names with spaces, some sentence-case, dotted,
  CJK, accented and emoji (U+FE0F) names, and some basenames repeated in other
  folders (ambiguous or shortest-path links);
* frontmatter on most notes (title, tags, aliases, date, status, videoId,
  property links), ATX headings, paragraphs, lists with 4-space continuation
  lines, tables with ``[[Note\\|alias]]``, callouts, block ids, tags;
* every link form of ``design.md`` §2 with Zipf-distributed popularity, broken
  links, link variants (``[[open_source_ai_models]]``), alias links, padded links;
* noise that is not a link (code, inline code, HTML comments, math, escapes,
  YouTube timestamp anchors) and ``%% … %%`` comments, whose links do count;
* ``attachments/`` with small real PNG files (some embeds point at missing ones)
  and ``.obsidian/app.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import itertools
import math
import re
import shutil
import struct
import sys
import time
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from urllib.parse import quote

GENERATOR_VERSION = "1"
"""Bump whenever the output for a given (notes, seed) changes."""

MARKER_NAME = ".generator-version"
"""Written last at the vault root; its presence means the vault is complete."""

MEAN_NOTE_BYTES = 4500

# --------------------------------------------------------------------------- vocabulary


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_PROSE = _words(
    """
    the the the the of of of and and and to to in in is is that for it as with was on be
    by this are from at an or have which has but not can more will their they its also
    been these other into such would than new only some most over about when many where
    while after through between both each like because those however within much first
    large could even during model models data training compute research developers
    community teams systems approach results performance cost costs efficiency release
    open access users companies market value risk growth network protocol tokens agents
    inference benchmark ecosystem infrastructure innovation impact adoption scale scaling
    capability capabilities quality process method techniques architecture parameters
    weights license licenses privacy security governance regulation policy incentives
    liquidity validators consensus latency throughput memory storage hardware chips energy
    experts mixture reasoning alignment evaluation dataset datasets pipeline deployment
    product products platform tooling workflow feedback significant important different
    recent early major key potential global public private local traditional efficient
    effective powerful smaller larger faster cheaper better source sources layer chain
    builders founders investors funding capital attention context window windows prompts
    outputs errors accuracy hallucinations chunks answers steps fewer less trained
    released announced reported described suggests allows enables requires reduces
    improves supports remains becomes shows uses makes helps means leads offers provides
    """
)

_TITLE_WORDS = _words(
    """
    Open Source AI Models Development Emerging Tools Projects Challenges Opportunities
    Crypto Agents Inference Training Compute Research Scaling Laws Benchmarks Evaluation
    Alignment Safety Governance Regulation Policy Markets Tokens Protocols Networks
    Consensus Validators Liquidity Incentives Infrastructure Hardware Chips Energy Data
    Datasets Pipelines Deployment Latency Memory Storage Privacy Security Licensing
    Community Ecosystem Adoption Innovation Efficiency Costs Experts Mixture Reasoning
    Language Vision Speech Robotics Embeddings Retrieval Search Ranking Frameworks
    Libraries Startups Funding Venture Capital Economics Strategy Roadmap Meeting Notes
    Ideas Reading Review Summary Overview Guide Tutorial Comparison Analysis History
    Future Trends Risks Lessons Principles Patterns Architecture Design Systems
    Distributed Decentralized Federated Synthetic Multimodal Quantization Distillation
    Tuning Prompting Context Windows Tokenization Transformers Diffusion Attention Sparse
    Dense Large Small Local Cloud Edge Mobile Web Browser Wallets Bridges Rollups Layer
    Stablecoins Oracles Staking Mining Journal Weekly Quarterly Personal Team Product
    Marketing Sales Hiring Onboarding Interview Podcast Episode Book Paper Article Course
    Lecture Workshop Conference Travel Health Fitness Finance Budget Garden Recipes
    Cooking Music Photography Writing Drafts Inbox Archive Backlog Sprint Release Bugs
    DeFi DAO NFT LLM GPU API RAG MoE RLHF SQL DeepSeek OpenAI Meta Google Anthropic Mistral
    Nvidia Ethereum Bitcoin Solana China Europe India Berlin Tokyo
    """
)

_PROPER = frozenset(
    _words(
        """
    AI DeFi DAO NFT LLM GPU API RAG MoE RLHF SQL DeepSeek OpenAI Meta Google Anthropic
    Mistral Nvidia Ethereum Bitcoin Solana China Europe India Berlin Tokyo
    """
    )
)

_SMALL = ("and", "of", "in", "for", "the", "with", "vs", "on")

_FOLDER_TOP = (
    "Projects",
    "Research",
    "Areas",
    "Resources",
    "Archive",
    "Journal",
    "People",
    "Meetings",
    "Reading",
    "Clippings",
    "Topics",
    "Inbox",
    "Work",
    "Personal",
    "Learning",
    "Writing",
    "Podcasts",
    "Videos",
    "Courses",
    "Companies",
    "Ideas",
    "References",
    "Templates",
    "Travel",
    "Health",
    "Finance",
    "Home",
    "Hobbies",
    "Events",
    "Notes",
)

_CJK_NAMES = (
    "人工智能概述",
    "机器学习基础",
    "開放原始碼模型",
    "日本語メモ",
    "深度学习与大模型",
    "区块链应用",
    "대규모 언어 모델",
    "読書ノート",
    "会議メモ",
    "数据集整理",
)
_ACCENTED_NAMES = (
    "Café Économie",
    "Zürich Meetup",
    "Crème Brûlée Protocol",
    "Über Scaling",
    "Naïve Bayes Revisited",
    "Résumé Tips",
    "São Paulo Hackathon",
    "Kraków Conference",
    "Ångström Units",
    "Façade Pattern",
    "Málaga Offsite",
    "Déjà Vu Bugs",
)
_EMOJI = ("🗂️", "⚙️", "🏷️", "🗒️", "✏️", "☁️", "❤️", "⭐", "📚", "🧠")

_TAGS = (
    "ai",
    "llm",
    "crypto",
    "open-source",
    "research",
    "todo",
    "idea",
    "meeting",
    "people",
    "topic/ai",
    "topic/crypto",
    "topic/open-source",
    "status/draft",
    "status/done",
    "project/alpha",
    "project/beta-2",
    "reading/book",
    "reading/paper",
    "area/health",
    "review/weekly",
    "year/2024",
    "日本語",
    "café",
    "to-read",
    "inbox",
)
_STATUSES = ("draft", "in-progress", "published", "evergreen", "archived", "idea")
_CALLOUTS = ("note", "tip", "warning", "info", "question", "example", "quote", "abstract")
_LANGS = ("python", "js", "bash", "json", "yaml", "markdown", "sql", "dataview", "")
_DOMAINS = (
    "github.com/vaultsync/vaultsync",
    "arxiv.org/abs/2401.01234",
    "en.wikipedia.org/wiki/Mixture_of_experts",
    "www.youtube.com/watch?v=3ezFd3x718A",
    "huggingface.co/deepseek-ai",
    "example.com/blog/2024/03/post",
    "docs.python.org/3/",
    "help.obsidian.md/Linking+notes+and+files/Internal+links",
    "news.ycombinator.com/item",
)
_VIDEO_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
_BLOCK_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"

# Link kinds and their relative frequencies (body text outside tables).
_LINK_KINDS: tuple[tuple[str, int], ...] = (
    ("plain", 28),
    ("display", 12),
    ("padded", 5),
    ("heading", 8),
    ("block", 3),
    ("self_heading", 3),
    ("path", 3),
    ("dotmd", 1),
    ("case", 2),
    ("variant", 5),
    ("broken", 5),
    ("alias", 2),
    ("embed_img", 4),
    ("embed_note", 1),
    ("md", 5),
    ("md_angle", 3),
    ("md_img", 1),
    ("external", 6),
)
_LINK_NAMES = tuple(k for k, _ in _LINK_KINDS)
_LINK_CUM = tuple(itertools.accumulate(w for _, w in _LINK_KINDS))

_BLOCK_KINDS: tuple[tuple[str, int], ...] = (
    ("paragraph", 55),
    ("list", 14),
    ("table", 4),
    ("callout", 6),
    ("fence", 4),
    ("quote", 3),
    ("html_comment", 2),
    ("obsidian_comment", 1),
    ("math", 1),
    ("hr", 1),
    ("embed", 3),
)
_BLOCK_NAMES = tuple(k for k, _ in _BLOCK_KINDS)
_BLOCK_CUM = tuple(itertools.accumulate(w for _, w in _BLOCK_KINDS))

_PUNCT_RE = re.compile(r"[^\w\s]+")
_SPACE_RE = re.compile(r"\s+")


# --------------------------------------------------------------------------- plan


@dataclass
class _Note:
    name: str
    folder: str  # "" for the vault root, else "Top/Sub" with "/" separators
    target_bytes: int
    headings: list[tuple[int, str]] = field(default_factory=list)
    block_ids: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{self.folder}/{self.name}.md" if self.folder else f"{self.name}.md"


@dataclass
class _Plan:
    notes: list[_Note]
    zipf_cum: list[int]
    missing: list[str]
    missing_cum: list[int]
    attachments: list[str]
    alias_holders: list[int]
    multiword: list[int]  # indexes of notes whose name has a space (variant material)


def _key(text: str) -> str:
    """Link key of design.md §3: NFC, casefold, runs of space/_/- folded."""
    folded = re.sub(r"[\s_-]+", " ", unicodedata.normalize("NFC", text).casefold())
    return folded.strip()


def _case(words: Sequence[str], title: bool) -> str:
    out: list[str] = []
    for i, w in enumerate(words):
        if w in _PROPER:
            out.append(w)
        elif w in _SMALL:
            out.append(w.capitalize() if i == 0 else w)
        elif title or i == 0:
            out.append(w[:1].upper() + w[1:])
        else:
            out.append(w.lower())
    return " ".join(out)


def _plain_title(rng: Random) -> str:
    n = rng.choice((2, 2, 3, 3, 3, 3, 4, 4, 5))
    words = rng.sample(_TITLE_WORDS, n)
    if n >= 3 and rng.random() < 0.45:
        words.insert(rng.randint(1, n - 1), rng.choice(_SMALL))
    return _case(words, title=rng.random() < 0.78)


def _special_title(rng: Random) -> str:
    r = rng.random()
    w1, w2 = rng.sample(_TITLE_WORDS, 2)
    if r < 0.35:  # dotted
        return rng.choice(
            (
                f"Python 3.{rng.randint(6, 13)} {w1}",
                f"Node.js {w1} {w2}",
                f"v{rng.randint(0, 4)}.{rng.randint(0, 20)} Release Notes",
                f"{w1} {w2} {rng.randint(1, 4)}.0",
                f"Web3.py {w1}",
                f"ASP.NET {w1}",
                rng.choice(("Node.js", "Next.js", "Socket.io", "D3.js", "Three.js")),
            )
        )
    if r < 0.55:
        base = rng.choice(_CJK_NAMES)
        return base if rng.random() < 0.5 else f"{base} {w1}"
    if r < 0.75:
        base = rng.choice(_ACCENTED_NAMES)
        return base if rng.random() < 0.5 else f"{base} {w1}"
    return f"{rng.choice(_EMOJI)} {_plain_title(rng)}"


def _heading_text(rng: Random) -> str:
    r = rng.random()
    a, b, c = rng.sample(_TITLE_WORDS, 3)
    if r < 0.14:
        return rng.choice(
            (
                f"{a} vs {b}",
                f"{a}/{b} {c}",
                f"{a} & {b}",
                f"Why {a} {b.lower()}?",
                f"{a} ({rng.randint(2015, 2026)})",
                f"{a} {rng.randint(1, 9)}.{rng.randint(0, 9)} vs {rng.randint(1, 9)}.0",
                f"{a}: {b} {c}",
                f"Step {rng.randint(1, 9)}. {a}",
                f"{a}'s {b}",
            )
        )
    n = rng.choice((1, 2, 2, 3, 3, 4))
    return _case(rng.sample(_TITLE_WORDS, n), title=rng.random() < 0.6)


def _block_id(rng: Random) -> str:
    if rng.random() < 0.7:  # Obsidian's own 6-character ids
        return "".join(rng.choices(_BLOCK_ID_CHARS, k=6))
    return "-".join(w.lower() for w in rng.sample(_TITLE_WORDS, 2))


def _zipf_cum(rng: Random, n: int, s: float) -> list[int]:
    ranks = list(range(n))
    rng.shuffle(ranks)
    weights = [0] * n
    for item, rank in enumerate(ranks):
        # integers, so the cumulative table is exact on every platform
        weights[item] = max(1, round(1e9 / (rank + 1) ** s))
    return list(itertools.accumulate(weights))


def _folders(rng: Random, notes: int) -> tuple[list[str], list[str]]:
    n_leaf = min(2000, max(3, round(notes / 75)))
    n_top = max(2, round(math.sqrt(n_leaf)))
    tops: list[str] = []
    seen: set[str] = set()
    pool = list(_FOLDER_TOP)
    rng.shuffle(pool)
    while len(tops) < n_top:
        if len(tops) < len(pool):
            cand = pool[len(tops)]
        else:
            cand = f"{rng.choice(pool)} {rng.choice(_TITLE_WORDS)}"
        if cand.casefold() not in seen:
            seen.add(cand.casefold())
            tops.append(cand)
    leaves: list[str] = []
    seen_leaves: set[str] = set()
    while len(leaves) < n_leaf:
        top = rng.choice(tops)
        sub = _case(rng.sample(_TITLE_WORDS, rng.choice((1, 1, 2, 2, 3))), title=True)
        path = f"{top}/{sub}"
        if path.casefold() not in seen_leaves:
            seen_leaves.add(path.casefold())
            leaves.append(path)
    return tops, leaves


def _plan(notes: int, seed: int) -> _Plan:
    rng = Random(f"vaultsync-bench:{GENERATOR_VERSION}:{seed}:{notes}:plan")
    tops, leaves = _folders(rng, notes)
    leaf_weights = list(itertools.accumulate(int(rng.paretovariate(1.5) * 1000) for _ in leaves))

    def pick_folder() -> str:
        r = rng.random()
        if r < 0.02:
            return ""
        if r < 0.12:
            return rng.choice(tops)
        return rng.choices(leaves, cum_weights=leaf_weights)[0]

    n_dup = max(2, notes // 70) if notes >= 20 else 0
    n_unique = notes - n_dup
    taken: set[str] = set()  # link keys of names and aliases
    paths: set[str] = set()
    plan_notes: list[_Note] = []
    mu = math.log(MEAN_NOTE_BYTES * 0.85) - 0.6**2 / 2

    def new_note(name: str, folder: str) -> _Note:
        target = min(80_000, max(300, int(rng.lognormvariate(mu, 0.6))))
        note = _Note(name=name, folder=folder, target_bytes=target)
        if rng.random() < 0.25:
            note.headings.append((1, name))
        level = 2
        for _ in range(max(1, round(target / 850 * rng.uniform(0.7, 1.3)))):
            level = 3 if level >= 2 and rng.random() < 0.35 else 2
            note.headings.append((level, _heading_text(rng)))
        note.block_ids = [_block_id(rng) for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3)))]
        return note

    while len(plan_notes) < n_unique:
        name = _special_title(rng) if rng.random() < 0.02 else _plain_title(rng)
        name = unicodedata.normalize("NFC", name)
        if _key(name) in taken:
            continue
        folder = pick_folder()
        taken.add(_key(name))
        paths.add(f"{folder}/{name}".casefold())
        plan_notes.append(new_note(name, folder))

    # Repeated basenames: half of them in a folder whose path has the same length as
    # the original's (a tie: L005 ambiguous-link), the rest anywhere (shortest path wins).
    by_len: dict[int, list[str]] = {}
    for f in [*tops, *leaves]:
        by_len.setdefault(len(f), []).append(f)
    dups: list[_Note] = []
    attempts = 0
    while len(dups) < n_dup and attempts < n_dup * 50:
        attempts += 1
        orig = plan_notes[rng.randrange(n_unique)]
        same = [f for f in by_len.get(len(orig.folder), []) if f != orig.folder]
        folder = rng.choice(same) if same and rng.random() < 0.5 else pick_folder()
        if f"{folder}/{orig.name}".casefold() in paths:
            continue
        paths.add(f"{folder}/{orig.name}".casefold())
        dups.append(new_note(orig.name, folder))
    while len(plan_notes) + len(dups) < notes:  # tiny vaults: fill with fresh names
        name = _plain_title(rng)
        if _key(name) not in taken:
            taken.add(_key(name))
            dups.append(new_note(name, pick_folder()))
    plan_notes.extend(dups)

    # Aliases: acronyms or two-word short forms, never equal to a name or another alias.
    alias_holders: list[int] = []
    for i, note in enumerate(plan_notes):
        if rng.random() >= 0.15:
            continue
        words = note.name.split()
        cands = []
        if len(words) >= 3:
            cands.append("".join(w[0].upper() for w in words if w not in _SMALL and w[0].isalnum()))
        if len(words) >= 2:
            cands.append(f"{words[0]} {words[-1]}")
        cands.append(f"The {words[-1]} {rng.choice(_TITLE_WORDS)}")
        for alias in cands[: rng.randint(1, 2)]:
            if len(alias) >= 2 and _key(alias) not in taken:
                taken.add(_key(alias))
                note.aliases.append(alias)
        if note.aliases:
            alias_holders.append(i)

    missing: list[str] = []
    while len(missing) < max(5, notes // 10):
        name = _plain_title(rng)
        if _key(name) not in taken:
            taken.add(_key(name))
            missing.append(name)

    attachments: list[str] = []
    for i in range(max(5, notes // 25)):
        r = rng.random()
        day = _dt.date(2021, 1, 1) + _dt.timedelta(days=rng.randrange(1500))
        hms = f"{rng.randrange(24):02d}{rng.randrange(60):02d}{rng.randrange(60):02d}"
        if r < 0.45:
            attachments.append(f"Pasted image {day:%Y%m%d}{hms}.png")
        elif r < 0.7:
            attachments.append(f"Figure {i + 1}.png")
        elif r < 0.85:
            attachments.append(f"Screenshot {day:%Y-%m-%d} at {hms[:2]}.{hms[2:4]}.{hms[4:]}.png")
        else:
            attachments.append(f"diagram-{rng.choice(_TITLE_WORDS).lower()}-{i}.png")

    return _Plan(
        notes=plan_notes,
        zipf_cum=_zipf_cum(rng, len(plan_notes), 0.9),
        missing=missing,
        missing_cum=_zipf_cum(rng, len(missing), 1.0),
        attachments=attachments,
        alias_holders=alias_holders,
        multiword=[i for i, n in enumerate(plan_notes) if " " in n.name],
    )


# --------------------------------------------------------------------------- rendering


def _enc_spaces(text: str) -> str:
    return text.replace(" ", "%20")


def _fold_heading(text: str) -> str:
    return _SPACE_RE.sub(" ", _PUNCT_RE.sub(" ", text)).strip()


class _Writer:
    """Renders one note. All randomness comes from ``self.rng``."""

    def __init__(self, plan: _Plan, index: int, seed: int) -> None:
        self.plan = plan
        self.index = index
        self.note = plan.notes[index]
        self.rng = Random(f"vaultsync-bench:{GENERATOR_VERSION}:{seed}:note:{index}")
        self.video = self.rng.random() < 0.15
        self.seconds = self.rng.randrange(5, 30)
        self.pending_ids = list(self.note.block_ids)
        self.link_p = self.rng.uniform(0.15, 0.45)

    # ----- link targets

    def target(self) -> _Note:
        i = self.rng.choices(range(len(self.plan.notes)), cum_weights=self.plan.zipf_cum)[0]
        return self.plan.notes[i]

    def missing(self) -> str:
        return self.rng.choices(self.plan.missing, cum_weights=self.plan.missing_cum)[0]

    def display(self, name: str) -> str:
        r = self.rng.random()
        if r < 0.4:
            return name.lower()
        if r < 0.6:
            return name.lower().replace(" ", "-", 1)
        return " ".join(self.rng.choices(_PROSE, k=self.rng.randint(1, 3)))

    def heading_of(self, note: _Note) -> str:
        rng = self.rng
        if not note.headings or rng.random() < 0.1:
            return _heading_text(rng)  # most likely missing in the target
        k = rng.randrange(len(note.headings))
        level, text = note.headings[k]
        if level == 3 and rng.random() < 0.25:  # nested form #H2#H3
            for j in range(k - 1, -1, -1):
                if note.headings[j][0] == 2:
                    return f"{note.headings[j][1]}#{text}"
        if rng.random() < 0.2:
            folded = _fold_heading(text)
            return folded.lower() if rng.random() < 0.5 else folded
        return text

    def attachment(self) -> str:
        rng = self.rng
        if rng.random() < 0.15:
            return f"Pasted image 2019{rng.randrange(10**10):010d}.png"  # missing
        return rng.choice(self.plan.attachments)

    def variant(self) -> str:
        rng = self.rng
        if self.plan.multiword and rng.random() < 0.7:
            i = self.plan.multiword[rng.randrange(len(self.plan.multiword))]
            base = self.plan.notes[i].name
        else:
            base = self.missing()
        r = rng.random()
        if r < 0.45:
            return base.lower().replace(" ", "_")
        if r < 0.8:
            return base.lower().replace(" ", "-")
        if r < 0.9:
            return base.replace(" ", "_")
        return base.lower().replace(" ", "-", 1)

    def link(self, pipe: str = "|") -> str:
        """One link-like token; ``pipe`` is ``\\|`` inside table cells."""
        rng = self.rng
        kind = rng.choices(_LINK_NAMES, cum_weights=_LINK_CUM)[0]
        if kind == "plain":
            return f"[[{self.target().name}]]"
        if kind == "display":
            name = self.target().name
            return f"[[{name}{pipe}{self.display(name)}]]"
        if kind == "padded":
            name = self.target().name
            return f"[[{name} {pipe} {self.display(name)}]]"
        if kind == "heading":
            note = self.target()
            return f"[[{note.name}#{self.heading_of(note)}]]"
        if kind == "block":
            note = self.target()
            for _ in range(4):  # people link to blocks of notes that have block ids
                if note.block_ids:
                    break
                note = self.target()
            if note.block_ids and rng.random() < 0.9:
                return f"[[{note.name}#^{rng.choice(note.block_ids)}]]"
            return f"[[{note.name}#^{_block_id(rng)}]]"
        if kind == "self_heading":
            return f"[[#{self.heading_of(self.note)}]]"
        if kind == "path":
            note = self.target()
            path = f"{note.folder}/{note.name}" if note.folder else note.name
            return f"[[{path}{pipe}{note.name}]]" if rng.random() < 0.5 else f"[[{path}]]"
        if kind == "dotmd":
            return f"[[{self.target().name}.md]]"
        if kind == "case":
            name = self.target().name
            return f"[[{name.lower() if rng.random() < 0.7 else name.upper()}]]"
        if kind == "variant":
            v = self.variant()
            return f"[[{v} {pipe} {self.display(v)}]]" if rng.random() < 0.4 else f"[[{v}]]"
        if kind == "broken":
            name = self.missing()
            return f"[[{name}{pipe}{self.display(name)}]]" if rng.random() < 0.2 else f"[[{name}]]"
        if kind == "alias":
            if not self.plan.alias_holders:
                return f"[[{self.target().name}]]"
            holder = self.plan.notes[rng.choice(self.plan.alias_holders)]
            return f"[[{rng.choice(holder.aliases)}]]"
        if kind == "embed_img":
            att = self.attachment()
            r = rng.random()
            if r < 0.15:
                return f"![[{att}{pipe}{rng.choice((100, 200, 300, 480))}]]"
            if r < 0.2:
                return f"![[attachments/{att}]]"
            return f"![[{att}]]"
        if kind == "embed_note":
            note = self.target()
            if rng.random() < 0.3:
                return f"![[{note.name}#{self.heading_of(note)}]]"
            return f"![[{note.name}]]"
        if kind == "md":
            r = rng.random()
            text = " ".join(rng.choices(_PROSE, k=rng.randint(1, 3)))
            if r < 0.1:
                return f"[{text}]({_enc_spaces(self.missing())}.md)"
            note = self.target()
            if r < 0.2:
                return f"[{text}]({quote(note.path)})"  # full percent-encoding, folder path
            if r < 0.3:
                return f"[{text}]({_enc_spaces(note.name)})"  # no .md
            if r < 0.4:
                return f"[{text}]({_enc_spaces(note.name)}.md#{_enc_spaces(self.heading_of(note))})"
            if r < 0.45:
                return f"[{text}](#{_enc_spaces(self.heading_of(self.note))})"
            return f"[{text}]({_enc_spaces(note.name)}.md)"
        if kind == "md_angle":
            return f"[{rng.choice(_PROSE)}](<{self.target().name}.md>)"
        if kind == "md_img":
            return f"![{rng.choice(_PROSE)}](attachments/{_enc_spaces(self.attachment())})"
        # external
        url = f"https://{rng.choice(_DOMAINS)}"
        r = rng.random()
        if r < 0.6:
            return f"[{' '.join(rng.choices(_PROSE, k=rng.randint(1, 4)))}]({url})"
        if r < 0.8:
            return url
        if r < 0.9:
            return f"<{url}>"
        return f"[mail](mailto:someone{rng.randrange(100)}@example.com)"

    # ----- inline pieces

    def tag(self) -> str:
        return f"#{self.rng.choice(_TAGS)}"

    def noise(self, math_ok: bool) -> str:
        """Link-like text that is not a link, or a %% comment (which is one)."""
        rng = self.rng
        name = self.target().name
        r = rng.random()
        if r < 0.2:
            return f"`[[{name}]]`"
        if r < 0.3:
            return f"`{self.tag()}`"
        if r < 0.45:
            return f"<!-- [[{name}]] {self.tag()} -->"
        if r < 0.55 and math_ok:
            return f"$[[{rng.choice(_PROSE)}]]$"
        if r < 0.6 and math_ok:
            return f"$x^2 + y_{rng.randint(1, 9)}$"
        if r < 0.8:
            return f"%% [[{name}]] %%"
        if r < 0.85:
            return f"%% {self.tag()} %%"
        if r < 0.93:
            return f"\\[\\[{name}\\]\\]"
        return f"#{rng.randint(1, 2030)}"  # not a tag (R70)

    def timestamp(self) -> str:
        self.seconds += self.rng.randrange(3, 40)
        s = self.seconds
        t = f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
        return f'<a class="yt-timestamp" data-t="{t}">[{t}]</a>'

    def sentence(self, links: bool = True, money: bool = False, math_ok: bool = True) -> str:
        rng = self.rng
        n = rng.randint(7, 22)
        words = rng.choices(_PROSE, k=n)
        if rng.random() < 0.3:
            words[rng.randrange(1, n)] = rng.choice(_TITLE_WORDS)
        if rng.random() < 0.08:
            i = rng.randrange(n)
            words[i] = f"**{words[i]}**"
        if money:
            words.insert(rng.randint(1, n - 1), f"${rng.randint(1, 999)} million")
        if links and rng.random() < self.link_p:
            words.insert(rng.randint(1, len(words)), self.link())
            if rng.random() < 0.2:
                words.insert(rng.randint(1, len(words)), self.link())
        if rng.random() < 0.05:
            words.insert(rng.randint(1, len(words) - 1), self.tag())
        if rng.random() < 0.025:
            words.insert(rng.randint(1, len(words)), self.noise(math_ok))
        first = words[0]
        words[0] = first[:1].upper() + first[1:]
        end = "." if rng.random() < 0.94 else rng.choice(("?", "!", ":"))
        if self.video and rng.random() < 0.85:
            return f"{' '.join(words)} {self.timestamp()}{end}"
        return f"{' '.join(words)}{end}"

    def take_id(self, p: float) -> str:
        if self.pending_ids and self.rng.random() < p:
            return f" ^{self.pending_ids.pop(0)}"
        return ""

    # ----- blocks

    def paragraph(self) -> str:
        rng = self.rng
        n = rng.randint(1, 6)
        money_at = rng.randrange(n) if rng.random() < 0.1 else -1
        text = " ".join(self.sentence(money=i == money_at, math_ok=money_at < 0) for i in range(n))
        return text + self.take_id(0.25)

    def list_block(self) -> str:
        rng = self.rng
        style = rng.random()
        lines: list[str] = []
        for i in range(rng.randint(2, 7)):
            if style < 0.35:
                marker, indent = "- ", "    "
            elif style < 0.55:
                marker, indent = "*   ", "    "
            elif style < 0.8:
                marker, indent = f"{i + 1}.  ", "    "
            else:
                marker, indent = f"- [{'x' if rng.random() < 0.4 else ' '}] ", "    "
            body = self.sentence()
            if rng.random() < 0.2:
                head = " ".join(rng.sample(_TITLE_WORDS, rng.randint(1, 3)))
                body = f"**{head}**: {body}"
            lines.append(f"{marker}{body}{self.take_id(0.08)}")
            r = rng.random()
            if r < 0.2:  # lazy continuation, 4-space indent, no blank line
                lines.append(f"{indent}{self.sentence()}")
            elif r < 0.3:  # loose continuation paragraph after a blank line
                lines.append("")
                lines.append(f"{indent}{self.sentence()}")
                lines.append("")
            elif r < 0.5:  # nested items
                sub = "*   " if marker.startswith("*") or marker[0].isdigit() else "- "
                for _ in range(rng.randint(1, 3)):
                    lines.append(f"{indent}{sub}{self.sentence()}")
        return "\n".join(lines)

    def table(self) -> str:
        rng = self.rng
        cols = rng.randint(2, 4)
        header = ["Name", *rng.sample(("Category", "Score", "Status", "Notes", "Owner"), cols - 1)]
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] * cols) + "|"]
        for _ in range(rng.randint(2, 8)):
            r = rng.random()
            if r < 0.6:
                name = self.target().name
                first = f"[[{name}\\|{self.display(name)}]]"
            elif r < 0.8:
                first = self.link(pipe="\\|")
            else:
                first = " ".join(rng.choices(_PROSE, k=2))
            cells = [first]
            for _ in range(cols - 1):
                c = rng.random()
                if c < 0.4:
                    cells.append(rng.choice(_PROSE))
                elif c < 0.6:
                    cells.append(f"{rng.randint(0, 100)}.{rng.randint(0, 9)}")
                elif c < 0.75:
                    cells.append(self.link(pipe="\\|"))
                elif c < 0.85:
                    cells.append(self.tag())
                else:
                    cells.append(" ".join(rng.choices(_PROSE, k=rng.randint(2, 6))))
            lines.append("| " + " | ".join(cells) + " |")
        table = "\n".join(lines)
        own_id = self.take_id(0.15)
        return f"{table}\n\n{own_id.strip()}" if own_id else table

    def callout(self) -> str:
        rng = self.rng
        kind = rng.choice(_CALLOUTS)
        fold = rng.choice(("", "", "-", "+"))
        title = f" {_heading_text(rng)}" if rng.random() < 0.6 else ""
        lines = [f"> [!{kind}]{fold}{title}"]
        for _ in range(rng.randint(1, 3)):
            lines.append(f"> {self.sentence()}")
        if rng.random() < 0.3:
            lines.append(f"> - {self.sentence()}")
        return "\n".join(lines)

    def quote(self) -> str:
        return "\n".join(f"> {self.sentence()}" for _ in range(self.rng.randint(1, 3)))

    def fence(self) -> str:
        rng = self.rng
        lang = rng.choice(_LANGS)
        name = self.target().name
        body = [
            f"# [[{name}]] is not a heading and not a link",
            f'x = "[[{self.missing()}]]"  {self.tag()}',
            f"see: ![[{rng.choice(self.plan.attachments)}]] and [text]({_enc_spaces(name)}.md)",
            f"%% [[{name}]] %% inside code is just text",
        ]
        if lang == "dataview":
            body = [f"LIST FROM [[{name}]] OR #{rng.choice(_TAGS)}", 'WHERE status = "draft"']
        rng.shuffle(body)
        body = body[: rng.randint(1, len(body))]
        r = rng.random()
        if r < 0.6:
            return "\n".join([f"```{lang}", *body, "```"])
        if r < 0.85:
            return "\n".join([f"~~~{lang}", *body, "~~~"])
        # a longer fence containing a shorter one
        return "\n".join(["````markdown", "```", *body, "```", f"#{rng.choice(_TAGS)}", "````"])

    def html_comment(self) -> str:
        name = self.target().name
        return "\n".join(
            [
                "<!--",
                f"## {_heading_text(self.rng)}",
                f"TODO: link [[{name}]] and {self.tag()}",
                "-->",
            ]
        )

    def obsidian_comment(self) -> str:
        # Links and tags inside %% … %% DO count in Obsidian (R14).
        return "\n".join(["%%", f"Review later: [[{self.target().name}]] {self.tag()}", "%%"])

    def math(self) -> str:
        w = self.rng.choice(_PROSE)
        return "\n".join(["$$", f"\\text{{[[{w}]]}} = \\sum_{{i=1}}^{{n}} x_i^2", "$$"])

    def embed_line(self) -> str:
        return self.link() if self.rng.random() < 0.2 else f"![[{self.attachment()}]]"

    def block(self) -> str:
        kind = self.rng.choices(_BLOCK_NAMES, cum_weights=_BLOCK_CUM)[0]
        if kind == "paragraph":
            return self.paragraph()
        if kind == "list":
            return self.list_block()
        if kind == "table":
            return self.table()
        if kind == "callout":
            return self.callout()
        if kind == "fence":
            return self.fence()
        if kind == "quote":
            return self.quote()
        if kind == "html_comment":
            return self.html_comment()
        if kind == "obsidian_comment":
            return self.obsidian_comment()
        if kind == "math":
            return self.math()
        if kind == "hr":
            return self.rng.choice(("---", "***", "- - -"))
        return self.embed_line()

    # ----- frontmatter

    def frontmatter(self) -> str:
        rng = self.rng
        note = self.note
        lines = ["---"]
        if rng.random() < 0.9:
            lines.append(f"title: {_yaml_scalar(note.name)}")
        tags = rng.sample(_TAGS, rng.randint(0, 4))
        if tags or rng.random() < 0.3:
            if rng.random() < 0.2:
                lines.append(f"tags: [{', '.join(tags)}]")
            else:
                lines.append("tags:" if tags else "tags: []")
                lines.extend(f"  - {t}" for t in tags)
        if note.aliases:
            lines.append("aliases:")
            lines.extend(f"  - {_yaml_scalar(a)}" for a in note.aliases)
        day = _dt.date(2019, 1, 1) + _dt.timedelta(days=rng.randrange(2500))
        if rng.random() < 0.85:
            lines.append(f"date: {day.isoformat()}")
        if rng.random() < 0.2:
            hh, mm = rng.randrange(24), rng.randrange(60)
            lines.append(f"created: {day.isoformat()}T{hh:02d}:{mm:02d}:00")
        if rng.random() < 0.7:
            lines.append(f"status: {rng.choice(_STATUSES)}")
        if self.video:
            lines.append(f"videoId: {''.join(rng.choices(_VIDEO_ID_CHARS, k=11))}")
        if rng.random() < 0.12:
            lines.append(f'related: "{self.property_link()}"')
        if rng.random() < 0.08:
            lines.append("sources:")
            lines.extend(f'  - "{self.property_link()}"' for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.05:
            lines.append(f"rating: {rng.randint(1, 5)}")
        if rng.random() < 0.05:
            lines.append(f"publish: {'true' if rng.random() < 0.5 else 'false'}")
        if rng.random() < 0.05:
            lines.append(f"source: https://{rng.choice(_DOMAINS)}")
        lines.append("---")
        return "\n".join(lines) + "\n"

    def property_link(self) -> str:
        r = self.rng.random()
        if r < 0.8:
            return f"[[{self.target().name}]]"
        if r < 0.9:
            return f"[[{self.missing()}]]"
        return f"[[{self.variant()}]]"

    # ----- whole note

    def render(self) -> str:
        rng = self.rng
        note = self.note
        parts: list[str] = []
        size = 0
        if rng.random() < 0.85:
            fm = self.frontmatter()
            parts.append(fm)
            size += len(fm)
        if self.video:
            parts.append(f"From: {self.link()} <br/> \n")
        headings = note.headings
        if headings and headings[0][0] == 1:
            parts.append(f"# {headings[0][1]}\n")
            headings = headings[1:]
        intro = self.paragraph()
        parts.append(intro + "\n")
        size += len(intro)
        # Section k ends once the note has reached its k-th share of the target, so
        # the overshoot of the last block does not accumulate over the sections.
        share = max(150, (note.target_bytes - size) // max(1, len(headings)))
        goal = size
        for level, text in headings:
            heading = f"{'#' * level} {text}\n"
            parts.append(heading)
            size += len(heading) + 1
            goal += share
            while True:
                block = self.block()
                parts.append(block + "\n")
                size += len(block) + 2
                if size >= goal:
                    break
        while self.pending_ids:
            text = " ".join(self.sentence() for _ in range(self.rng.randint(1, 3)))
            parts.append(text + self.take_id(1.0) + "\n")
        return "\n".join(parts)


def _yaml_scalar(text: str) -> str:
    """A plain YAML scalar when that is safe, else a double-quoted one."""
    risky = any(c in text for c in ":#[]{},&*!|>'\"%@`") or text[:1] in "-?0123456789 "
    if risky or text.lower() in ("yes", "no", "true", "false", "on", "off", "null", "~"):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def _png(seed: int) -> bytes:
    """A small valid RGB PNG (16×16 gradient), deterministic for ``seed``."""
    w = h = 16
    r0, g0, b0 = (seed * 67) % 256, (seed * 131) % 256, (seed * 29) % 256
    rows = []
    for y in range(h):
        row = bytearray(b"\x00")  # filter type 0
        for x in range(w):
            row += bytes(((r0 + x * 8) % 256, (g0 + y * 8) % 256, b0))
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- entry points


def generate_vault(root: Path, notes: int, seed: int = 0) -> None:
    """Write a vault of ``notes`` notes into ``root`` (created if needed).

    ``root`` should be empty or absent; existing files with the same paths are
    overwritten and others are left alone. The version marker ``MARKER_NAME`` is
    written last, so its presence means the generation finished.
    """
    if notes < 1:
        raise ValueError("notes must be >= 1")
    plan = _plan(notes, seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / ".obsidian").mkdir(exist_ok=True)
    (root / ".obsidian" / "app.json").write_bytes(b"{}")
    made: set[str] = set()
    for i, note in enumerate(plan.notes):
        if note.folder not in made:
            (root / note.folder).mkdir(parents=True, exist_ok=True)
            made.add(note.folder)
        text = _Writer(plan, i, seed).render()
        (root / note.path).write_bytes(text.encode("utf-8"))
    att_dir = root / "attachments"
    att_dir.mkdir(exist_ok=True)
    for i, name in enumerate(plan.attachments):
        (att_dir / name).write_bytes(_png(seed * 7919 + i))
    # Generated sections are opt-in (design §6); the figures in benchmarks/README.md were
    # taken with them on, so the benchmark vault turns them on.
    (root / ".vaultsync.toml").write_text(BENCH_CONFIG, encoding="utf-8", newline="\n")
    (root / MARKER_NAME).write_text(marker_text(notes, seed), encoding="utf-8", newline="\n")


BENCH_CONFIG = "[backlinks]\nenabled = true\n"


def marker_text(notes: int, seed: int) -> str:
    # `config=1`: vaults generated before the config file was written are made again
    # (the notes themselves are the same).
    return f"vaultsync-bench-generator {GENERATOR_VERSION} config=1 notes={notes} seed={seed}\n"


def _vault_stats(root: Path) -> tuple[int, int, int]:
    files = md = size = 0
    for p in root.rglob("*"):
        if p.is_file() and ".obsidian" not in p.relative_to(root).parts:
            files += 1
            n = p.stat().st_size
            size += n
            if p.suffix == ".md":
                md += n
    return files, md, size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--notes", type=int, required=True, help="number of notes")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--force",
        action="store_true",
        help=f"replace OUT_DIR if it is a vault this tool generated (has {MARKER_NAME})",
    )
    args = parser.parse_args(argv)
    out: Path = args.out_dir
    if out.exists() and any(out.iterdir()):
        if not args.force:
            parser.error(f"{out} is not empty (use --force to replace a generated vault)")
        if not (out / MARKER_NAME).is_file():
            parser.error(f"refusing to delete {out}: no {MARKER_NAME}, not a generated vault")
        shutil.rmtree(out)
    start = time.perf_counter()
    generate_vault(out, args.notes, args.seed)
    elapsed = time.perf_counter() - start
    files, md, total = _vault_stats(out)
    print(
        f"{out}: {args.notes} notes, {files} files, {md / 1e6:.1f} MB markdown, "
        f"{total / 1e6:.1f} MB total, {elapsed:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
