"""Baselines: record today's problems, later report only the new ones.

A problem is identified by its note, its code, a key taken from what it is about (the
link target and subpath, or the property) and its occurrence index among problems with
the same note, code and key. Line numbers are left out on purpose: editing lines above
a known problem must not make it new again.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vaultsync.core.errors import UsageError
from vaultsync.core.model import Diagnostic
from vaultsync.io import writer

VERSION = 1
# Fields of Diagnostic.data that say what a problem is about, in key order.
_KEY_FIELDS = ("target", "subpath", "property", "key")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    path: str
    code: str
    key: str
    occurrence: int


def key_of(d: Diagnostic) -> str:
    parts = [str(d.data[name]) for name in _KEY_FIELDS if d.data.get(name) is not None]
    if parts:
        return "|".join(parts)
    # No data to name the problem: its message, with numbers (often line numbers) masked.
    return _DIGITS.sub("#", d.message)


def entries(diagnostics: Sequence[Diagnostic]) -> list[Entry]:
    """One entry per diagnostic, in the same order; occurrences count in reading order."""
    seen: Counter[tuple[str, str, str]] = Counter()
    result: dict[int, Entry] = {}
    for i in sorted(range(len(diagnostics)), key=lambda i: diagnostics[i].sort_key()):
        d = diagnostics[i]
        group = (d.path, d.code, key_of(d))
        result[i] = Entry(*group, seen[group])
        seen[group] += 1
    return [result[i] for i in range(len(diagnostics))]


def dumps(diagnostics: Sequence[Diagnostic]) -> str:
    """The baseline document: sorted and free of timestamps, so it diffs cleanly."""
    problems = [
        {"path": e.path, "code": e.code, "key": e.key, "occurrence": e.occurrence}
        for e in sorted(entries(diagnostics))
    ]
    document = {"version": VERSION, "tool": "vaultsync", "problems": problems}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def write(path: Path, diagnostics: Sequence[Diagnostic]) -> None:
    """Write the baseline atomically: a crash leaves the old file or the new one."""
    data = dumps(diagnostics).encode("utf-8")
    try:
        writer.replace_file(path, lambda handle: handle.write(data))
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def _bad(path: Path, why: str) -> UsageError:
    return UsageError(f"{path}: not a vaultsync baseline: {why}")


def _entry(path: Path, number: int, item: Any) -> Entry:
    if not isinstance(item, dict):
        raise _bad(path, f"problem {number} is not an object")
    fields: dict[str, type] = {"path": str, "code": str, "key": str, "occurrence": int}
    for name, kind in fields.items():
        value = item.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _bad(path, f'problem {number} needs "{name}" ({kind.__name__})')
    extra = sorted(set(item) - set(fields))
    if extra:
        raise _bad(path, f'problem {number} has unknown field "{extra[0]}"')
    return Entry(item["path"], item["code"], item["key"], item["occurrence"])


def load(path: Path) -> frozenset[Entry]:
    """The problems a baseline file records; a bad file is a one-line UsageError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read baseline: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise _bad(path, "not UTF-8 text") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}:{exc.lineno}:{exc.colno}: not a vaultsync baseline: {exc.msg}"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("problems"), list):
        raise _bad(path, 'expected an object with a "problems" list')
    if document.get("version") != VERSION:
        raise _bad(path, f"version {document.get('version')!r} is not {VERSION}")
    return frozenset(_entry(path, n, item) for n, item in enumerate(document["problems"], 1))


def new_problems(diagnostics: Sequence[Diagnostic], known: Iterable[Entry]) -> list[Diagnostic]:
    """The diagnostics the baseline does not record, in their original order."""
    recorded = set(known)
    return [d for d, e in zip(diagnostics, entries(diagnostics), strict=True) if e not in recorded]
