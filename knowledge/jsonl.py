"""JSON Lines (one JSON value per line): the one reader that case files, labelled guard sets and chat
scripts share. Blank lines are skipped; each value comes with its 1-based line number, so callers can name
the line in their own error messages."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any


class JsonLineError(ValueError):
    """A line that is not valid JSON: `line` is its 1-based number, `reason` what the JSON parser said."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: invalid JSON ({reason})")
        self.line = line
        self.reason = reason


def json_lines(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for every non-blank line; JsonLineError at the first bad one."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise JsonLineError(number, exc.msg) from None
        yield number, value
