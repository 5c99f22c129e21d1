"""Render diagnostics: text, json (§5 "JSON output"), statistics."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from vaultsync.core.model import Diagnostic, FixKind, Severity
from vaultsync.output import jsonout
from vaultsync.rules import RULES

JSON_VERSION = 1
# The depth of the JSON report's list of diagnostics in its document (jsonout.Records).
_DIAGNOSTICS_DEPTH = 1


def fixable(diagnostics: Sequence[Diagnostic]) -> int:
    return sum(1 for d in diagnostics if d.fix is not None and d.fix.applicability is FixKind.SAFE)


def shown_path(path: str) -> str:
    """`path` for line-oriented output: a control character (a newline in a file name) is
    escaped, so one diagnostic stays one line and a file name cannot forge another."""
    if path.isprintable():
        return path
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in path)


def shown_paths(paths: Iterable[str], limit: int = 10) -> str:
    """Paths for a message or a log line: sorted, comma-separated, the first `limit`
    and how many more (a daemon's batch can hold thousands)."""
    ordered = sorted(paths)
    shown = ", ".join(map(shown_path, ordered[:limit]))
    rest = len(ordered) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def text_line(d: Diagnostic) -> str:
    """One diagnostic as the text report shows it, line end included."""
    return f"{shown_path(d.path)}:{d.span.line}:{d.span.column}: {d.code} {d.message}\n"


def text_lines(diagnostics: Iterable[Diagnostic]) -> str:
    """`diagnostics`' lines of the text report."""
    return "".join(map(text_line, diagnostics))


def write_text(out: TextIO, diagnostics: Sequence[Diagnostic], quiet: bool = False) -> None:
    out.writelines(map(text_line, diagnostics))
    if not quiet:
        write_text_summary(out, len(diagnostics), fixable(diagnostics))


def write_text_summary(out: TextIO, count: int, safe_fixes: int) -> None:
    """The text report's last line, for `count` problems of which `safe_fixes` are fixable."""
    if not count:
        out.write("All checks passed!\n")
        return
    noun = "problem" if count == 1 else "problems"
    out.write(f"Found {count} {noun} ({safe_fixes} fixable with 'vaultsync fix').\n")


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    fix = None
    if d.fix is not None:
        fix = {
            "applicability": d.fix.applicability.value,
            "edits": [
                {
                    "line": e.span.line,
                    "column": e.span.column,
                    "end_line": e.span.end_line,
                    "end_column": e.span.end_column,
                    "new_text": e.new_text,
                }
                for e in d.fix.edits
            ],
        }
    return {
        "path": d.path,
        "line": d.span.line,
        "column": d.span.column,
        "end_line": d.span.end_line,
        "end_column": d.span.end_column,
        "code": d.code,
        "rule": RULES[d.code].name,
        "severity": d.severity.label,
        "message": d.message,
        "data": d.data,
        "fix": fix,
    }


def write_json(out: TextIO, vault: str, notes: int, diagnostics: Sequence[Diagnostic]) -> None:
    by_level = Counter(int(d.severity) for d in diagnostics)
    records = [diagnostic_json(d) for d in diagnostics]
    jsonout.write(out, _json_document(vault, notes, records, by_level, fixable(diagnostics)))


def json_records(diagnostics: Iterable[Diagnostic]) -> str:
    """`diagnostics` as the JSON report's list of them holds them, for `json_report`."""
    return jsonout.record_lines(map(diagnostic_json, diagnostics), _DIAGNOSTICS_DEPTH)


def json_report(
    vault: str, notes: int, records: Sequence[str], by_level: Sequence[int], safe_fixes: int
) -> list[str]:
    """`write_json`'s report, in pieces, of diagnostics given as `records`: pieces of
    `json_records` of them all, in report order; `by_level`: how many there are of each
    severity (by its number), `safe_fixes`: how many are fixable."""
    listed = jsonout.Records(records, sum(by_level), _DIAGNOSTICS_DEPTH)
    counts = dict(enumerate(by_level))
    return jsonout.pieces(_json_document(vault, notes, listed, counts, safe_fixes))


def _json_document(
    vault: str, notes: int, diagnostics: object, by_level: Mapping[int, int], safe_fixes: int
) -> dict[str, Any]:
    return {
        "version": JSON_VERSION,
        "vault": vault,
        "notes": notes,
        "diagnostics": diagnostics,
        "summary": {
            **{s.label: by_level.get(int(s), 0) for s in Severity},
            "fixable": safe_fixes,
        },
    }


def write_statistics(out: TextIO, diagnostics: Sequence[Diagnostic]) -> None:
    """The `--statistics` table: problems per rule, most first; nothing when there are none."""
    counts = Counter(d.code for d in diagnostics)
    safe = Counter(
        d.code for d in diagnostics if d.fix is not None and d.fix.applicability is FixKind.SAFE
    )
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        mark = "[*]" if safe[code] else "   "
        out.write(f"{count:5d}\t{code}\t{mark} {RULES[code].name}\n")
    if safe:
        out.write("[*] fixable with 'vaultsync fix'\n")
