"""The whole link graph as data (§5 "Link graph"): JSON or Graphviz dot."""

from __future__ import annotations

import json
from typing import Any, TextIO

from vaultsync.engine import Vault
from vaultsync.frontmatter import string_list
from vaultsync.markers import generated_ranges

GRAPH_VERSION = 1


def graph_document(vault: Vault) -> dict[str, Any]:
    notes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    index = vault.index
    for path, entry in vault.notes.items():
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
                "tags": sorted(dict.fromkeys(t.lstrip("#") for t in tags)),
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
    return {
        "version": GRAPH_VERSION,
        "vault": str(vault.root),
        "notes": notes,
        "attachments": index.attachments,
        "links": links,
    }


def write_json(out: TextIO, vault: Vault) -> None:
    json.dump(graph_document(vault), out, ensure_ascii=False, indent=2)
    out.write("\n")


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_dot(out: TextIO, vault: Vault) -> None:
    document = graph_document(vault)
    out.write("digraph vault {\n")
    for note in document["notes"]:
        out.write(f"  {_dot_id(note['path'])} [label={_dot_id(note['name'])}];\n")
    edges = sorted(
        {(link["source"], link["resolved"] or link["target"]) for link in document["links"]}
    )
    for source, target in edges:
        out.write(f"  {_dot_id(source)} -> {_dot_id(target)};\n")
    out.write("}\n")
