"""The console's words and colours for the API's codes, read from `console_labels.yaml` (package data).

STAGE_LABELS = labels("stages")  # {"pre_purchase": "before buying", ...}
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

LABELS_FILE = "console_labels.yaml"


@cache
def _tables() -> dict[str, dict[str, Any]]:
    text = resources.files("ui").joinpath(LABELS_FILE).read_text(encoding="utf-8")
    tables: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return tables


def labels(table: str) -> dict[str, str]:
    """One table of the file: code -> what the console shows (a new dict, callers may change it)."""
    return {code: str(shown) for code, shown in _tables()[table].items()}


def label_pairs(table: str) -> dict[str, tuple[str, str]]:
    """A table whose entries are pairs, such as roles: code -> (name shown, avatar)."""
    return {code: (str(first), str(second)) for code, (first, second) in _tables()[table].items()}
