"""Set up a vault: a starter .vaultsync.toml, proposed schemas, index notes."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vaultsync.config import CONFIG_NAME, Config, load_config
from vaultsync.errors import UsageError

STARTER_CONFIG = """\
# vaultsync configuration. Every key is optional; the values shown are the defaults,
# except where `vaultsync init` wrote your answer (generated sections).
# See the README ("Configuration", "Frontmatter") and `vaultsync rule CODE`.

# Notes to index but never lint or write (gitignore syntax), e.g. ["Drafts/"].
exclude = []
# Templates (gitignore syntax), besides the folders Obsidian's Templates and Templater
# settings name: indexed, but no frontmatter or placeholder-link problems, no sections.
templates = []
# Rules to run and to skip: codes (L001), prefixes (L, F), names (broken-link) or "ALL".
# Empty: the default rule set, every rule but L009 (a spelling preference).
select = []
ignore = []
# The lowest severity that makes `vaultsync check` exit 1: "info", "warning" or "error".
fail-on = "warning"

[severity]
# L001 = "error"

[links]
# Fixes that respell a link (L002, L009, `vaultsync mv`) change only its target, so a
# link without display text then shows the new spelling. true keeps what a reader sees
# by adding the old text as display text: [[formulas]] -> [[Formulas|formulas]].
keep-display = false

[links.canonical]
# "open source ai models" = "Open Source AI Models"

[backlinks]
# A section at the end of every note other notes link to, listing them (S001). Turning
# it on rewrites every linked note once. Not set: on only while the vault holds one.
enabled = {backlinks}
heading = "## Backlinks"

[index]
# Fill the index blocks notes hold (`<!-- vaultsync:begin index folder="x" -->`, S002).
# Not set: they are filled wherever a note holds one.
enabled = {index}

[schemas]
# Frontmatter schemas of this vault (`vaultsync init --infer-schemas` proposes some).
dir = ".vaultsync/schemas"
# Schemas shipped with vaultsync to use as well, by name, e.g. ["video-note"].
use = []
"""


def starter_config(sections: bool, index: bool = False) -> str:
    """The starter `.vaultsync.toml`, with generated sections on or off (`index`: index
    blocks on even so, for the ones `init --index` creates)."""
    return STARTER_CONFIG.replace("{backlinks}", _toml(sections)).replace(
        "{index}", _toml(sections or index)
    )


def _toml(flag: bool) -> str:
    return "true" if flag else "false"


INDEX_NOTE = "Index.md"
INDEX_TEXT = (
    '<!-- vaultsync:begin index folder="" recursive=true sort="name" -->\n'
    "<!-- vaultsync:end index -->\n"
)
UNRESOLVED_NOTE = "Unresolved links.md"
UNRESOLVED_TEXT = "<!-- vaultsync:begin unresolved -->\n<!-- vaultsync:end unresolved -->\n"

# A text property becomes an enum when it takes at most this many values, each seen
# (on average) at least ENUM_MIN_REPEAT times: `status`, not `title`.
ENUM_MAX_VALUES = 8
ENUM_MIN_REPEAT = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "vault", nargs="?", type=Path, metavar="VAULT", help="the vault (default: here)"
    )
    parser.add_argument(
        "--vault", dest="vault_root", type=Path, metavar="DIR", help="the vault, as VAULT"
    )
    parser.add_argument("--force", action="store_true", help="overwrite files init made before")
    parser.add_argument(
        "--sections",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="turn generated sections (backlinks, index blocks) on, or off, without "
        "asking (default: ask on a terminal, else off)",
    )
    parser.add_argument(
        "--infer-schemas",
        action="store_true",
        help="propose a frontmatter schema per top-level folder from its notes",
    )
    parser.add_argument(
        "--index", action="store_true", help="also create Index.md and 'Unresolved links.md'"
    )


def run(args: argparse.Namespace) -> int:
    given = (args.vault, args.vault_root)
    if None not in given and args.vault.resolve() != args.vault_root.resolve():
        raise UsageError(f"{args.vault}: give the vault once (VAULT or --vault)")
    root: Path = args.vault_root or args.vault or Path()
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder")
    root = root.resolve()
    config_path = root / CONFIG_NAME
    if config_path.exists() and not args.force:
        if not (args.infer_schemas or args.index):
            raise UsageError(f"{config_path}: already exists (use --force to overwrite)")
        print(f"Kept the existing {CONFIG_NAME} (use --force to overwrite it)")
    else:
        sections = args.sections
        if sections is None:
            sections = _ask_sections()
        config_path.write_text(starter_config(sections, args.index), encoding="utf-8")
        state = "on" if sections else "off"
        print(f"Wrote {CONFIG_NAME} (generated sections {state})")
    config = load_config(root)
    if args.infer_schemas:
        write_schemas(root, config, args.force)
    if args.index:
        from vaultsync import writer

        for name, text in ((INDEX_NOTE, INDEX_TEXT), (UNRESOLVED_NOTE, UNRESOLVED_TEXT)):
            # A user's note is never overwritten, not even with --force; create_note
            # refuses atomically, also if the note appears while init runs.
            try:
                writer.create_note(root, name, text)
            except writer.WriteSkipped as exc:
                if not os.path.lexists(root / name):
                    raise UsageError(str(exc)) from None
                print(f"Kept the existing {name}")
                continue
            print(f"Wrote {name}")
    return 0


def _ask_sections() -> bool:
    """Ask whether to turn generated sections on; off without asking when no one can
    answer (stdin is not a terminal: a script, CI, a pipe)."""
    if not sys.stdin.isatty():
        return False
    print(
        "Generated sections: vaultsync can keep a backlinks section at the end of every "
        "note other notes link to, and fill index blocks. Turning them on rewrites every "
        "linked note once."
    )
    try:
        answer = input("Turn generated sections on? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


# --- schema inference --------------------------------------------------------------------


@dataclass(slots=True)
class _Key:
    notes: int = 0  # notes with a non-empty value
    types: Counter[str] = field(default_factory=Counter)
    texts: Counter[str] = field(default_factory=Counter)  # values, when text
    link_items: int = 0  # list items that are wikilinks
    items: int = 0  # list items in all


def value_type(key: str, value: Any) -> str | None:
    """The Obsidian type a value reads as; None for nested objects."""
    from vaultsync.schema import WIKILINK, is_date, is_datetime, is_number

    if isinstance(value, bool):
        return "checkbox"
    if is_number(value):
        return "number"
    if isinstance(value, list):
        return {"tags": "tags", "aliases": "aliases"}.get(key, "list")
    if isinstance(value, str):
        if is_date(value):
            return "date"
        if is_datetime(value):
            return "datetime"
        return "link" if WIKILINK.match(value) else "text"
    return None


def infer(notes: Iterable[dict[str, Any]]) -> tuple[int, dict[str, dict[str, Any]]]:
    """(notes seen, property specs) for one folder's notes' properties."""
    keys: dict[str, _Key] = defaultdict(_Key)
    count = 0
    for props in notes:
        count += 1
        for key, value in props.items():
            kind = value_type(key, value)
            if value is None or value == "" or kind is None:
                continue
            stats = keys[key]
            stats.notes += 1
            stats.types[kind] += 1
            if kind == "text":
                stats.texts[value] += 1
            if isinstance(value, list):
                stats.items += len(value)
                stats.link_items += sum(
                    1 for v in value if isinstance(v, str) and value_type("", v) == "link"
                )
    specs: dict[str, dict[str, Any]] = {}
    for key in sorted(keys, key=str.casefold):
        stats = keys[key]
        kind = stats.types.most_common(1)[0][0]
        spec: dict[str, Any] = {"type": kind}
        if count >= 2 and stats.notes == count:
            spec["required"] = True
        if kind == "list" and stats.items and stats.link_items == stats.items:
            spec["items"] = "link"
        distinct = len(stats.texts)
        text_count = stats.types["text"]
        if (
            kind == "text"
            and distinct <= ENUM_MAX_VALUES
            and text_count >= ENUM_MIN_REPEAT * distinct
        ):
            spec["enum"] = sorted(stats.texts)
        specs[key] = spec
    return count, specs


_GLOB_SPECIAL = re.compile(r"([\[\]*?!#\\])")


def schema_text(folder: str, count: int, specs: dict[str, dict[str, Any]]) -> str:
    # Imported here: every command's parser is built at start-up, and yaml is heavy.
    from vaultsync.yamlcore import yaml_scalar

    glob = _GLOB_SPECIAL.sub(r"\\\1", folder) + "/**"
    lines = [
        f"# Proposed by `vaultsync init --infer-schemas` from {count} notes in {folder}/.",
        "# Types are each property's majority; `required`: in every note; `enum`: few values.",
        "# Review it, then tighten additional-properties to warn or error if you like.",
        f"name: {yaml_scalar(folder)}",
        "applies-to:",
        f"  paths: [{yaml_scalar(glob)}]",
        "properties:" if specs else "properties: {}",
    ]
    for key, spec in specs.items():
        parts = [f"type: {spec['type']}"]
        if spec.get("required"):
            parts.append("required: true")
        if "items" in spec:
            parts.append(f"items: {spec['items']}")
        if "enum" in spec:
            parts.append("enum: [" + ", ".join(yaml_scalar(v) for v in spec["enum"]) + "]")
        lines.append(f"  {yaml_scalar(key)}: {{{', '.join(parts)}}}")
    lines.append("additional-properties: allow")
    return "\n".join(lines) + "\n"


def write_schemas(root: Path, config: Config, force: bool) -> None:
    from vaultsync import engine
    from vaultsync.schema import parse_schema

    vault = engine.load(root, config)
    by_folder: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path, entry in sorted(vault.notes.items()):
        if "/" not in path or entry.excluded or entry.parsed is None:
            continue
        by_folder[path.split("/", 1)[0]].append(entry.parsed.properties or {})
    folder_dir = root / config.schemas.dir
    if not by_folder:
        print("No notes in folders: no schema proposed")
        return
    folder_dir.mkdir(parents=True, exist_ok=True)
    for folder, notes in sorted(by_folder.items()):
        target = folder_dir / f"{folder}.yaml"
        rel = target.relative_to(root).as_posix()
        if target.exists() and not force:
            print(f"Kept the existing {rel} (use --force to overwrite it)")
            continue
        count, specs = infer(notes)
        text = schema_text(folder, count, specs)
        parse_schema(text, rel)  # what we write must load: a bug here is ours, not the user's
        target.write_text(text, encoding="utf-8")
        print(f"Wrote {rel} ({len(specs)} properties from {count} notes)")
