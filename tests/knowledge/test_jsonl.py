"""The shared JSON Lines reader: line numbers, blank lines, the first bad line named."""

from __future__ import annotations

import pytest

from knowledge.jsonl import JsonLineError, json_lines


def test_values_come_with_their_line_numbers_and_blank_lines_are_skipped() -> None:
    lines = ['{"a": 1}', "", "   ", "[1, 2]", '"text"']
    assert list(json_lines(lines)) == [(1, {"a": 1}), (4, [1, 2]), (5, "text")]


def test_the_first_bad_line_is_named_after_the_good_ones_were_given() -> None:
    reader = json_lines(['{"ok": true}', "{not json", "also bad"])
    assert next(reader) == (1, {"ok": True})
    with pytest.raises(JsonLineError) as refused:
        next(reader)
    assert refused.value.line == 2
    assert refused.value.reason == "Expecting property name enclosed in double quotes"
    assert str(refused.value).startswith("line 2: invalid JSON (")


def test_no_lines_no_values() -> None:
    assert list(json_lines([])) == []
