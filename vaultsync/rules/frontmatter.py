"""Frontmatter rules F001-F006: YAML syntax, schemas, Obsidian's own property types.

Every note's properties are already loaded by the parser; the checks below look only at
those values. Positions (`yamlpos`) are computed for a note only once it has a problem,
so a clean vault pays for a few dict lookups per note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from vaultsync.core.model import Diagnostic, Edit, Fix, FixKind, Frontmatter, Span
from vaultsync.core.properties import string_list
from vaultsync.core.text import LineIndex, nfc, shortened
from vaultsync.io.files import yaml_files
from vaultsync.rules import Rule
from vaultsync.rules.codes import (
    DEPRECATED_PROPERTY,
    LIST_AS_TEXT,
    PROPERTY_TYPE,
    SCHEMA,
    SYNTAX,
    UNKNOWN_PROPERTY,
)
from vaultsync.rules.context import Context
from vaultsync.vault import templates
from vaultsync.vault.index import NoteEntry
from vaultsync.vault.loaded import Vault

if TYPE_CHECKING:  # for start-up speed: pyyaml and pydantic load only when a note needs them
    from vaultsync.parse import yamlpos
    from vaultsync.rules.schemas import Schema


F_CODES = frozenset({"F001", "F002", "F003", "F004", "F005", "F006"})
_DEPRECATED = {"tag": "tags", "alias": "aliases", "cssclass": "cssclasses"}
_LIST_KEYS = frozenset(_DEPRECATED.values())
_FILE_START = Span(0, 0, 1, 1, 1, 1)
_STRICTNESS = {"allow": 0, "warn": 1, "error": 2}
_GAP = re.compile(r"\s*:\s*")


# --- per-vault state: schemas and Obsidian's property types, loaded once -----------------


@dataclass(frozen=True, slots=True)
class _State:
    schemas: list[Schema]
    types: dict[str, str]  # casefolded property name -> Obsidian type


_cached: tuple[Vault, _State] | None = None


def _state(vault: Vault) -> _State:
    global _cached
    if _cached is not None and _cached[0] is vault:
        return _cached[1]
    schemas: list[Schema] = []
    if _has_schemas(vault):
        from vaultsync.rules.schemas import load_schemas

        schemas = load_schemas(vault.root, vault.config)
    state = _State(schemas, _obsidian_types(vault.root))
    _cached = (vault, state)
    return state


def _has_schemas(vault: Vault) -> bool:
    """Does any schema apply? Without one, the schema module (and pydantic) stay unloaded."""
    return bool(vault.config.schemas.use or yaml_files(vault.root / vault.config.schemas.dir))


def _obsidian_types(root: Path) -> dict[str, str]:
    """`.obsidian/types.json`: {"types": {"prop": "text"}}; unreadable means no types."""
    try:
        raw = json.loads((root / ".obsidian" / "types.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    types = raw.get("types") if isinstance(raw, dict) else None
    if not isinstance(types, dict):
        return {}
    return {str(k).casefold(): v for k, v in types.items() if isinstance(v, str)}


# --- findings: what is wrong, before anyone asks where ---------------------------------


@dataclass(frozen=True, slots=True)
class _Finding:
    rule: Rule
    key: str | None
    index: int | None
    at: Literal["key", "value", "block"]
    message: str
    data: dict[str, Any]


def check_frontmatter(ctx: Context, note: NoteEntry) -> Iterator[Diagnostic]:
    parsed = note.parsed
    if parsed is None or not (ctx.selection.enabled & F_CODES):
        return
    if templates.is_template(ctx.vault, note.path):
        return  # `created: {{date}}` is a placeholder, filled when the template is used
    block = parsed.frontmatter
    if block is not None and not block.closed:
        yield from ctx.emit(
            SYNTAX, note, block.span, "Frontmatter block is not closed by a `---` line"
        )
        return
    if parsed.yaml_error is not None and block is not None:
        message, line, column = parsed.yaml_error
        yield from ctx.emit(
            SYNTAX,
            note,
            _point(block, line, column),
            f"Invalid frontmatter YAML: {message}",
            {"problem": message},
        )
        return
    props = parsed.properties or {}
    state = _state(ctx.vault)
    if not props and not state.schemas:
        return
    findings: list[_Finding] = []
    as_text = _list_keys_as_text(props)
    findings.extend(as_text.values())
    findings.extend(_deprecated(props))
    schemas = [s for s in state.schemas if s.applies(note.path, props, lambda: _tags(note, props))]
    if schemas:
        findings.extend(_schema_findings(ctx, note, schemas, props, skip=set(as_text)))
    elif state.types:
        findings.extend(_type_findings(state.types, props, skip=set(as_text)))
    if not findings:
        return
    # Imported when a note has a problem: a check that never gets this far (a warm run
    # answered from the cache) does not load yaml at all.
    from vaultsync.parse import yamlpos

    positions = yamlpos.locate(block) if block is not None else None
    for finding in findings:
        span = _span(finding, positions)
        fix = _fix(finding, positions, parsed.newline, props)
        yield from ctx.emit(finding.rule, note, span, finding.message, finding.data, fix)


def _tags(note: NoteEntry, props: dict[str, Any]) -> list[str]:
    inline = [t.name for t in note.parsed.tags] if note.parsed is not None else []
    return string_list(props.get("tags")) + inline


def list_as_text(key: str, value: Any) -> bool:
    """Is this `tags`, `aliases` or `cssclasses` value text Obsidian ignores (F006)?
    A schema does not judge it then: F006 says what is wrong, with a fix."""
    if key.casefold() not in _LIST_KEYS:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int | float) and not isinstance(value, bool)


def _list_keys_as_text(props: dict[str, Any]) -> dict[str, _Finding]:
    found: dict[str, _Finding] = {}
    for key, value in props.items():
        if list_as_text(key, value):
            found[key] = _Finding(
                LIST_AS_TEXT,
                key,
                None,
                "value",
                f"{key!r} must be a list since Obsidian 1.9; this text is ignored",
                {"property": key},
            )
    return found


def _deprecated(props: dict[str, Any]) -> Iterator[_Finding]:
    present = {k.casefold() for k in props}
    for key in props:
        plural = _DEPRECATED.get(key.casefold())
        if plural is not None:
            merge = plural in present
            hint = f"; merge it into {plural!r} by hand" if merge else f"; use {plural!r}"
            yield _Finding(
                DEPRECATED_PROPERTY,
                key,
                None,
                "key",
                f"{key!r} is ignored since Obsidian 1.9{hint}",
                {"property": key, "replacement": plural, "conflict": merge},
            )


def _schema_findings(
    ctx: Context,
    note: NoteEntry,
    schemas: list[Schema],
    props: dict[str, Any],
    skip: set[str],
) -> Iterator[_Finding]:
    for schema in schemas:
        for v in schema.validate(props):
            if v.key in skip:
                continue  # F006 already says this list is text, with a fix
            data = {"schema": schema.name, "property": v.key}
            message = f"{v.message} (schema {schema.name})"
            yield _Finding(SCHEMA, v.key, v.index, v.at, message, data)
        for key in schema.links:
            yield from _unresolved(ctx, note, schema, key, props.get(key))
    strictest = max(schemas, key=lambda s: _STRICTNESS[s.spec.additional_properties])
    policy = strictest.spec.additional_properties
    if policy == "allow":
        return
    from vaultsync.rules.schemas import OBSIDIAN_KEYS

    declared = set(OBSIDIAN_KEYS).union(*(s.declared for s in schemas))
    rule = UNKNOWN_PROPERTY if policy == "warn" else SCHEMA
    for key in props:
        if key not in declared and key.casefold() not in _DEPRECATED:
            yield _Finding(
                rule,
                key,
                None,
                "key",
                f"Property {key!r} is not declared by schema {strictest.name}",
                {"schema": strictest.name, "property": key},
            )


def property_link_target(item: Any) -> str | None:
    """The note a wikilink property value (or list item) names; None when it is no
    wikilink (the type check reports that) or names no note (`[[#Heading]]`)."""
    from vaultsync.rules.schemas import WIKILINK

    m = WIKILINK.match(item) if isinstance(item, str) else None
    if m is None:
        return None
    return m.group(1).split("|", 1)[0].split("#", 1)[0].strip() or None


def _unresolved(
    ctx: Context, note: NoteEntry, schema: Schema, key: str, value: Any
) -> Iterator[_Finding]:
    values = value if isinstance(value, list) else [value]
    for i, item in enumerate(values):
        target = property_link_target(item)
        if target is not None and ctx.vault.index.resolve(nfc(target), note.path).path is None:
            yield _Finding(
                SCHEMA,
                key,
                i if isinstance(value, list) else None,
                "value",
                f"{key!r} links to {shortened(target)!r}, which is not in the vault "
                f"(schema {schema.name})",
                {"schema": schema.name, "property": key, "target": target},
            )


def _type_findings(
    types: dict[str, str], props: dict[str, Any], skip: set[str]
) -> Iterator[_Finding]:
    from vaultsync.rules.schemas import TYPE_CHECKS, TYPE_NAMES, describe

    for key, value in props.items():
        kind = types.get(key.casefold())
        if kind is None or value is None or key in skip:
            continue
        check = TYPE_CHECKS.get(kind)
        if check is not None and not check(value):
            yield _Finding(
                PROPERTY_TYPE,
                key,
                None,
                "value",
                f"{key!r} should be {TYPE_NAMES[kind]}, not {describe(value)} "
                "(.obsidian/types.json)",
                {"property": key, "type": kind},
            )


# --- where: spans and fixes (only for notes with findings) -----------------------------


def _point(block: Frontmatter, line: int, column: int) -> Span:
    """An empty span at a YAML error's line and column."""
    first = block.span.line + 1
    lines = LineIndex(block.yaml)
    rel = min(max(line - first + 1, 1), lines.line_count)
    offset = block.body_start + min(lines.offset(rel, column), len(block.yaml))
    return Span(offset, offset, line, column, line, column)


def _span(finding: _Finding, positions: yamlpos.Positions | None) -> Span:
    if positions is None:
        return _FILE_START
    if finding.key is None or finding.at == "block":
        return positions.start
    if finding.at == "key":
        return positions.key(finding.key)
    return positions.value(finding.key, finding.index)


def _fix(
    finding: _Finding,
    positions: yamlpos.Positions | None,
    newline: str,
    props: dict[str, Any],
) -> Fix | None:
    if positions is None or finding.key is None:
        return None
    entry = positions.entries.get(finding.key)
    if entry is None or entry.key_node is None:
        return None
    if finding.rule is DEPRECATED_PROPERTY:
        if finding.data["conflict"] or _first_of_its_plural(finding.key, props) != finding.key:
            return None
        plural = finding.data["replacement"]
        quote = entry.key_node.style if entry.key_node.style in ("'", '"') else ""
        return Fix(FixKind.SAFE, (Edit(entry.key, f"{quote}{plural}{quote}"),))
    if finding.rule is LIST_AS_TEXT:
        return _list_fix(finding.key, entry, positions, newline)
    return None


def _first_of_its_plural(key: str, props: dict[str, Any]) -> str:
    # `tag` and `Tag` in one note: renaming both in one pass would make a duplicate key.
    plural = _DEPRECATED[key.casefold()]
    return next(k for k in props if _DEPRECATED.get(k.casefold()) == plural)


def _list_fix(
    key: str, entry: yamlpos.Entry, positions: yamlpos.Positions, newline: str
) -> Fix | None:
    node = entry.value_node
    from yaml.nodes import ScalarNode

    if not isinstance(node, ScalarNode) or node.style in ("|", ">"):
        return None
    gap = Span(entry.key.end, entry.value.start, 0, 0, 0, 0)
    if not _GAP.fullmatch(positions.text(gap)) or positions.text(entry.value).startswith(
        ("&", "!")
    ):
        return None  # an anchor, tag or comment sits between key and value: leave it
    kind = key.casefold()
    if kind == "aliases":
        items = [part.strip() for part in node.value.split(",")]
    else:  # tags and CSS classes cannot hold spaces: any run of commas/spaces separates
        items = re.split(r"[\s,]+", node.value)
    items = [item for item in items if item]
    if not items:
        return None
    applicability = FixKind.UNSAFE if kind == "aliases" and len(items) > 1 else FixKind.SAFE
    if positions.flow:
        new_text = ": [" + ", ".join(_quoted(item, force=True) for item in items) + "]"
    else:
        indent = " " * (entry.key.column - 1 + 2)
        new_text = ":" + "".join(f"{newline}{indent}- {_quoted(item)}" for item in items)
    span = Span(
        entry.key.end,
        entry.value.end,
        entry.key.end_line,
        entry.key.end_column,
        entry.value.end_line,
        entry.value.end_column,
    )
    return Fix(applicability, (Edit(span, new_text),))


def _quoted(item: str, force: bool = False) -> str:
    # In a flow list (`[...]`) every item is quoted, the way JSON-style blocks are written.
    from vaultsync.parse.yamlcore import yaml_scalar

    return json.dumps(item, ensure_ascii=False) if force else yaml_scalar(item)
