"""Set up a vault: a starter .vaultsync.toml, proposed schemas, index notes."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from vaultsync.config.settings import CONFIG_NAME, Config, load_config
from vaultsync.core.errors import UsageError

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
        _write_file(config_path, starter_config(sections, args.index))
        state = "on" if sections else "off"
        print(f"Wrote {CONFIG_NAME} (generated sections {state})")
    config = load_config(root)
    if args.infer_schemas:
        write_schemas(root, config, args.force)
    if args.index:
        from vaultsync.io import writer

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


def _write_file(path: Path, text: str) -> None:
    """A file of the user's vault that init writes (the config, a proposed schema), replaced
    atomically: an interrupted `init --force` leaves the old file or the new one."""
    from vaultsync.io import writer

    data = text.encode("utf-8")
    writer.replace_file(path, lambda out: out.write(data), mode=0o644, sync=True)


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
#
# A proposal accepts every note it learned from: right after `init --infer-schemas`,
# `check` reports no F002 on them. So a property's type is every type its values have
# (a mix of texts, dates and links is text; dates and date-times stay both), a property
# is required only when every note has a value, and links must be resolving ones.

STRING_KINDS = frozenset({"text", "date", "datetime", "link"})
NESTED = "nested"  # a mapping, or a list holding one: no Obsidian type


@dataclass(slots=True)
class _Key:
    notes: int = 0  # notes where it has a value (not empty)
    kinds: Counter[str] = field(default_factory=Counter)  # values seen of each kind
    texts: Counter[str] = field(default_factory=Counter)  # every text value
    items: int = 0  # list items that are there (not empty)
    text_items: bool = True  # every list holds only text
    link_items: bool = True  # every list item is a wikilink to a note in the vault
    links_resolve: bool = True  # every wikilink value names a note in the vault


def value_type(key: str, value: Any) -> str | None:
    """The Obsidian type a value reads as; None for nested objects."""
    from vaultsync.rules.schemas import WIKILINK, is_date, is_datetime, is_number

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


def _always(target: str, source: str) -> bool:
    return True


def infer(
    notes: Iterable[tuple[str, dict[str, Any]]],
    resolves: Callable[[str, str], bool] = _always,
) -> tuple[int, dict[str, dict[str, Any]]]:
    """(notes seen, property specs) for one folder's notes, given as (path, properties).

    `resolves(target, source)`: does a wikilink to `target` in note `source` reach a note?
    """
    from vaultsync.rules.frontmatter import list_as_text, property_link_target
    from vaultsync.rules.schemas import TYPE_CHECKS

    def resolving(item: Any, source: str) -> bool:
        target = property_link_target(item)
        return target is None or resolves(target, source)

    keys: dict[str, _Key] = defaultdict(_Key)
    count = 0
    for path, props in notes:
        count += 1
        for key, value in props.items():
            if value is None:
                continue
            stats = keys[key]
            if value != "":
                stats.notes += 1
            if list_as_text(key, value):
                continue  # F006 reports it, and a schema does not judge it
            kind = value_type(key, value)
            if kind is None or (isinstance(value, list) and not TYPE_CHECKS["list"](value)):
                kind = NESTED
            stats.kinds[kind] += 1
            if isinstance(value, str):
                stats.texts[value] += 1
                if kind == "link" and not resolving(value, path):
                    stats.links_resolve = False
            elif isinstance(value, list) and kind != NESTED:
                items = [item for item in value if item is not None]
                stats.items += len(items)
                stats.text_items &= TYPE_CHECKS["tags"](value)
                stats.link_items &= all(
                    TYPE_CHECKS["link"](item) and resolving(item, path) for item in items
                )
    specs: dict[str, dict[str, Any]] = {}
    for key in sorted(keys, key=str.casefold):
        stats = keys[key]
        if not stats.kinds or set(stats.kinds) == {NESTED}:
            continue  # only empty values, F006's or nested ones: no Obsidian type to learn
        spec: dict[str, Any] = {}
        kinds = _kinds(stats)
        if kinds:
            spec["type"] = kinds[0] if len(kinds) == 1 else kinds
        if count >= 2 and stats.notes == count:
            spec["required"] = True
        if kinds == ["list"] and stats.items and stats.link_items:
            spec["items"] = "link"
        distinct = len(stats.texts)
        if (
            kinds == ["text"]
            and not stats.kinds.keys() & {"date", "datetime"}  # days are never a few values
            and distinct <= ENUM_MAX_VALUES
            and stats.kinds.total() >= ENUM_MIN_REPEAT * distinct
        ):
            spec["enum"] = sorted(stats.texts)
        if len(stats.kinds) > 1:
            seen = sorted(stats.kinds.items(), key=lambda item: (-item[1], item[0]))
            spec["seen"] = ", ".join(f"{kind} {n}" for kind, n in seen)
        specs[key] = spec
    return count, specs


def _kinds(stats: _Key) -> list[str]:
    """The types a property's values have, in the schema's order; [] for any value."""
    from vaultsync.rules.schemas import LIST_TYPES, PropertyType

    seen = set(stats.kinds)
    if NESTED in seen:
        return []
    strings = seen & STRING_KINDS
    if "link" in strings and not stats.links_resolve:
        strings = (strings - {"link"}) | {"text"}  # `link` promises a note at the end
    if len(strings) > 1 and strings != {"date", "datetime"}:
        strings = {"text"}  # text takes a date or a link too
    kinds = strings | (seen - STRING_KINDS)
    if kinds & {"tags", "aliases"} and not stats.text_items:
        kinds = (kinds - LIST_TYPES) | {"list"}  # a number in `tags`: any list of values
    order = get_args(PropertyType)
    return sorted(kinds, key=order.index)


_GLOB_SPECIAL = re.compile(r"([\[\]*?!#\\])")


def schema_text(folder: str, count: int, specs: dict[str, dict[str, Any]]) -> str:
    # Imported here: every command's parser is built at start-up, and yaml is heavy.
    from vaultsync.parse.yamlcore import yaml_scalar

    glob = _GLOB_SPECIAL.sub(r"\\\1", folder) + "/**"
    lines = [
        f"# Proposed by `vaultsync init --infer-schemas` from {count} notes in {folder}/,",
        "# which it accepts as they are: a type is every type the values have (`seen`: how",
        "# many of each), `required` means a value in every note, `enum` few values. Review",
        "# it: tighten a type, fix the odd note, set additional-properties to warn or error.",
        f"name: {yaml_scalar(folder)}",
        "applies-to:",
        f"  paths: [{yaml_scalar(glob)}]",
        "properties:" if specs else "properties: {}",
    ]
    for key, spec in specs.items():
        parts = []
        if isinstance(spec.get("type"), list):
            parts.append(f"type: [{', '.join(spec['type'])}]")
        elif "type" in spec:
            parts.append(f"type: {spec['type']}")
        if spec.get("required"):
            parts.append("required: true")
        if "items" in spec:
            parts.append(f"items: {spec['items']}")
        if "enum" in spec:
            parts.append("enum: [" + ", ".join(yaml_scalar(v) for v in spec["enum"]) + "]")
        seen = f"  # seen: {spec['seen']}" if "seen" in spec else ""
        lines.append(f"  {yaml_scalar(key)}: {{{', '.join(parts)}}}{seen}")
    lines.append("additional-properties: allow")
    return "\n".join(lines) + "\n"


def write_schemas(root: Path, config: Config, force: bool) -> None:
    from vaultsync.core.text import nfc
    from vaultsync.lint import engine
    from vaultsync.rules.schemas import parse_schema
    from vaultsync.vault import templates

    vault = engine.load(root, config)
    by_folder: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for path, entry in sorted(vault.notes.items()):
        if "/" not in path or entry.excluded or entry.parsed is None:
            continue
        if templates.is_template(vault, path):
            continue  # `created: {{date}}` says nothing of what the notes made from it hold
        by_folder[path.split("/", 1)[0]].append((path, entry.parsed.properties or {}))

    def resolves(target: str, source: str) -> bool:
        return vault.index.resolve(nfc(target), source).path is not None

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
        count, specs = infer(notes, resolves)
        text = schema_text(folder, count, specs)
        parse_schema(text, rel)  # what we write must load: a bug here is ours, not the user's
        _write_file(target, text)
        print(f"Wrote {rel} ({len(specs)} properties from {count} notes)")
