"""jsonout: the JSON vaultsync writes reads back as the document, one record per line."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from vaultsync.output import jsonout


def _written(document: Any) -> str:
    out = io.StringIO()
    jsonout.write(out, document)
    return out.getvalue()


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=30,
)


@given(_values)
def test_any_document_reads_back_as_itself(document: Any) -> None:
    text = _written(document)
    assert text.endswith("\n")
    assert json.loads(text) == json.loads(json.dumps(document))


def test_records_are_one_per_line_and_the_rest_is_indented() -> None:
    document = {
        "version": 1,
        "diagnostics": [
            {"path": "a.md", "data": {"target": "gone"}, "fix": None},
            {"path": "é.md", "data": {"target": "ünïcode"}, "fix": None},
        ],
        "summary": {"warning": 2},
    }
    assert _written(document) == (
        "{\n"
        '  "version": 1,\n'
        '  "diagnostics": [\n'
        '    {"path": "a.md", "data": {"target": "gone"}, "fix": null},\n'
        '    {"path": "é.md", "data": {"target": "ünïcode"}, "fix": null}\n'
        "  ],\n"
        '  "summary": {"warning": 2}\n'
        "}\n"
    )


def test_a_single_record_holding_records_is_opened_down_to_them() -> None:
    # As in SARIF: runs -> its one run -> the run's results, one per line.
    document = {
        "runs": [
            {
                "tool": {"driver": {"rules": [{"id": "A"}, {"id": "B"}]}},
                "results": [
                    {"id": 1, "fixes": [{"edit": 1}, {"edit": 2}]},
                    {"id": 2},
                ],
            }
        ]
    }
    text = _written(document)
    lines = text.splitlines()
    assert '            {"id": "A"},' in lines
    # A record stays on its line even when it holds records of its own.
    assert '        {"id": 1, "fixes": [{"edit": 1}, {"edit": 2}]},' in lines
    assert json.loads(text) == document


def test_keys_that_are_not_strings_are_written_as_json_writes_them() -> None:
    document = {1: [{"a": 1}, {"b": 2}], None: 0, 2.5: 1}
    assert json.loads(_written(document)) == json.loads(json.dumps(document))


_records = st.lists(
    st.dictionaries(st.text(max_size=3), _values, max_size=3) | st.lists(_values, max_size=3),
    max_size=5,
)


@given(_records, st.integers(min_value=1, max_value=3))
@example([{"fix": {"edits": [{"a": 1}, {"b": 2}]}}], 1)  # one record, opened down to its own
@example([{1: [{}, {}]}], 2)  # a key that is no string, in a record written alone
@example([{}, {}], 1)
@example([], 1)
def test_records_rendered_before_are_written_as_the_list_they_were_made_of(
    items: list[Any], group: int
) -> None:
    # A report kept note by note (lint/delta.py) is written from each note's records:
    # byte for byte the document written from the records themselves, however few.
    document: dict[str, Any] = {"version": 1, "items": items, "summary": {"n": len(items)}}
    pieces = [
        jsonout.record_lines(items[start : start + group], depth=1)
        for start in range(0, len(items), group)
    ]
    rendered = {**document, "items": jsonout.Records(["", *pieces, ""], len(items), 1)}
    assert "".join(jsonout.pieces(rendered)) == _written(document)


def test_records_rendered_for_another_depth_are_refused() -> None:
    pieces = [jsonout.record_lines([{"a": 1}, {"b": 2}], depth=2)]
    with pytest.raises(ValueError, match="depth"):
        jsonout.pieces({"items": jsonout.Records(pieces, 2, 2)})
