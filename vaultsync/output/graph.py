"""The whole link graph as data (§5 "Link graph"): JSON or Graphviz dot."""

from __future__ import annotations

from typing import Any, TextIO

from vaultsync.core.properties import string_list
from vaultsync.output import jsonout
from vaultsync.parse.markers import generated_ranges
from vaultsync.vault.loaded import Vault

GRAPH_VERSION = 1


def graph_document(vault: Vault) -> dict[str, Any]:
    notes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    index = vault.index
    # Sorted here, not by the loader: the same vault must give byte-identical output.
    for path, entry in sorted(vault.notes.items()):
        parsed = entry.parsed
        props = parsed.properties if parsed is not None else None
        tags = string_list(props.get("tags")) if props else []
        if parsed is not None:
            tags.extend(t.name for t in parsed.tags)
        notes.append(
            {
                "path": path,
                "name": entry.name,
                "aliases": entry.aliases,
                "tags": _unique_tags(tags),
            }
        )
        if parsed is None:
            continue
        generated = generated_ranges(parsed)
        for link in parsed.links:
            start = link.span.start
            links.append(
                {
                    "source": path,
                    "line": link.span.line,
                    "column": link.span.column,
                    "kind": link.kind.value,
                    "target": link.linkpath,
                    "subpath": link.subpath,
                    "display": link.display,
                    "resolved": index.resolve(link.linkpath, path).path,
                    "generated": any(s <= start < e for s, e in generated),
                }
            )
    links.sort(key=lambda link: (link["source"], link["line"], link["column"]))
    return {
        "version": GRAPH_VERSION,
        "vault": str(vault.root),
        "notes": notes,
        "attachments": index.attachments,
        "links": links,
    }


def _unique_tags(tags: list[str]) -> list[str]:
    """R70: tags are case-insensitive and shown with their first-seen casing; sorted."""
    first: dict[str, str] = {}
    for tag in tags:
        name = tag.lstrip("#")
        if name:
            first.setdefault(name.casefold(), name)
    return sorted(first.values(), key=lambda t: (t.casefold(), t))


def write_json(out: TextIO, vault: Vault) -> None:
    jsonout.write(out, graph_document(vault))


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_dot(out: TextIO, vault: Vault) -> None:
    document = graph_document(vault)
    out.write("digraph vault {\n")
    for note in document["notes"]:
        out.write(f"  {_dot_id(note['path'])} [label={_dot_id(note['name'])}];\n")
    for attachment in document["attachments"]:
        label = attachment.rsplit("/", 1)[-1]
        out.write(f"  {_dot_id(attachment)} [label={_dot_id(label)}, shape=box];\n")
    edges = sorted(
        {
            (link["source"], link["resolved"])
            for link in document["links"]
            if link["resolved"] is not None
        }
    )
    missing = sorted(
        {(link["source"], link["target"]) for link in document["links"] if link["resolved"] is None}
    )
    # Unresolved targets are not files: their own dashed nodes, kept apart from paths.
    for target in sorted({target for _, target in missing}):
        node = _dot_id("unresolved:" + target)
        out.write(f"  {node} [label={_dot_id(target)}, style=dashed];\n")
    for source, target in edges:
        out.write(f"  {_dot_id(source)} -> {_dot_id(target)};\n")
    for source, target in missing:
        out.write(f"  {_dot_id(source)} -> {_dot_id('unresolved:' + target)} [style=dashed];\n")
    out.write("}\n")
