"""SARIF 2.1.0 output: one run, every rule with its docs, one result per problem.

Code scanning services (GitHub's among them) read this. Paths are relative to
`base_folder` (the repository checkout when run from it) under the `%SRCROOT%` base;
columns count Unicode code points, which the run declares with `columnKind`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from vaultsync import __version__
from vaultsync.core.model import Diagnostic, Edit, Fix, FixKind, Severity, Span
from vaultsync.output import baseline, jsonout
from vaultsync.output.paths import base_folder, report_path
from vaultsync.rules import RULES, Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
BASE_ID = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _homepage() -> str | None:
    try:
        meta = metadata.metadata("vaultsync")
    except metadata.PackageNotFoundError:
        return None
    for item in meta.get_all("Project-URL") or []:
        label, _, url = item.partition(",")
        if label.strip().lower() in ("homepage", "documentation", "source"):
            return str(url).strip()
    homes = meta.get_all("Home-page") or []
    return str(homes[0]) if homes else None


def _rule(rule: Rule) -> dict[str, Any]:
    doc = rule.doc.strip()
    # The summary is the short description; the rest (why, example, fix) the full one.
    body = doc.partition("\n")[2].strip() or rule.summary
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": body},
        "help": {"text": doc, "markdown": f"**{rule.code} {rule.name}**\n\n{doc}"},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"fix": rule.fix.value},
    }


def _region(span: Span) -> dict[str, int]:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
    }


class _Uris(dict[str, str]):
    """Note path -> its artifact URI, made on first use: a report names a note many times,
    and quoting one took longer than writing its result."""

    def __init__(self, vault_root: Path) -> None:
        super().__init__()
        self.vault_root = vault_root

    def __missing__(self, note: str) -> str:
        uri = self[note] = quote(report_path(self.vault_root, note), safe="/")
        return uri


def _artifact(uris: _Uris, note: str) -> dict[str, str]:
    return {"uri": uris[note], "uriBaseId": BASE_ID}


def _replacement(edit: Edit) -> dict[str, Any]:
    return {"deletedRegion": _region(edit.span), "insertedContent": {"text": edit.new_text}}


def _fix(uris: _Uris, note: str, fix: Fix) -> dict[str, Any]:
    what = (
        "Safe fix: `vaultsync fix` applies it"
        if fix.applicability is FixKind.SAFE
        else "Unsafe fix: review it; `vaultsync fix --unsafe` applies it"
    )
    return {
        "description": {"text": what},
        "artifactChanges": [
            {
                "artifactLocation": _artifact(uris, note),
                "replacements": [_replacement(e) for e in fix.edits],
            }
        ],
    }


def _result(uris: _Uris, d: Diagnostic, index: int, entry: baseline.Entry) -> dict[str, Any]:
    identity = f"{entry.path}\0{entry.code}\0{entry.key}\0{entry.occurrence}"
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": index,
        "level": LEVELS[d.severity],
        "message": {"text": d.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(uris, d.path),
                    "region": _region(d.span),
                }
            }
        ],
        # The same identity baselines use: stable when lines above the problem change.
        "partialFingerprints": {
            "vaultsync/v1": hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
        },
    }
    if d.fix is not None and d.fix.edits:
        result["fixes"] = [_fix(uris, d.path, d.fix)]
    return result


def document(vault_root: Path, diagnostics: Sequence[Diagnostic]) -> dict[str, Any]:
    rules = sorted(RULES.values(), key=lambda r: r.code)
    index = {rule.code: i for i, rule in enumerate(rules)}
    driver: dict[str, Any] = {"name": "vaultsync", "version": __version__}
    homepage = _homepage()
    if homepage:
        driver["informationUri"] = homepage
    driver["rules"] = [_rule(r) for r in rules]
    entries = baseline.entries(diagnostics)
    uris = _Uris(vault_root)
    base = base_folder(vault_root).as_uri().rstrip("/") + "/"
    run = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": True}],
        "originalUriBaseIds": {BASE_ID: {"uri": base}},
        "columnKind": "unicodeCodePoints",
        "results": [
            _result(uris, d, index[d.code], e) for d, e in zip(diagnostics, entries, strict=True)
        ],
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def write_sarif(out: TextIO, vault_root: Path, diagnostics: Sequence[Diagnostic]) -> None:
    jsonout.write(out, document(vault_root, diagnostics))
