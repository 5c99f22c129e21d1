"""Run the real CLI in-process on fixture vaults and read its JSON output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from vaultsync.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`vaultsync ARGV` in-process: (exit code, stdout, stderr)."""
    capsys.readouterr()  # drop anything printed before
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse rejects bad arguments this way (exit 2)
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def check_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code, out, err = run_cli(capsys, "check", "--format", "json", *argv)
    assert code in (0, 1), err
    document: dict[str, Any] = json.loads(out)
    return document


def diagnostics(
    capsys: pytest.CaptureFixture[str], root: Path, *argv: str, families: str = "LV"
) -> list[dict[str, Any]]:
    """Diagnostics of the rule families under test (others, e.g. S001 backlinks, also run)."""
    found = check_json(capsys, str(root), *argv)["diagnostics"]
    return [d for d in found if d["code"][0] in families]


def codes_at(found: list[dict[str, Any]], path: str) -> list[str]:
    return [d["code"] for d in found if d["path"] == path]


def graph_links(capsys: pytest.CaptureFixture[str], root: Path) -> list[dict[str, Any]]:
    code, out, err = run_cli(capsys, "graph", str(root), "--format", "json")
    assert code == 0, err
    links: list[dict[str, Any]] = json.loads(out)["links"]
    return links


def resolved_from(
    capsys: pytest.CaptureFixture[str], root: Path, source: str
) -> dict[str, str | None]:
    """{link target as written: resolved vault path or None} for one source note."""
    return {
        link["target"]: link["resolved"]
        for link in graph_links(capsys, root)
        if link["source"] == source
    }


def apply_edits(text: str, edits: list[dict[str, Any]]) -> str:
    """Apply JSON fix edits (1-based lines, code-point columns, half-open) to `text`."""
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column - 1

    ranges = sorted(
        (
            (offset(e["line"], e["column"]), offset(e["end_line"], e["end_column"]), e["new_text"])
            for e in edits
        ),
        reverse=True,
    )
    for start, end, new in ranges:
        text = text[:start] + new + text[end:]
    return text


def fixed_text(root: Path, diagnostic: dict[str, Any]) -> str:
    """The note's text after applying one diagnostic's fix."""
    text = (root / diagnostic["path"]).read_bytes().decode("utf-8-sig")
    return apply_edits(text, diagnostic["fix"]["edits"])
