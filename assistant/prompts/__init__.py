"""Texts as package data: the model's prompts (Markdown) and the reply templates (replies.yaml, en/fr/nl)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml


def load_prompt(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text("utf-8")


@cache
def _templates() -> dict[str, dict[str, str]]:
    loaded: dict[str, dict[str, str]] = yaml.safe_load(load_prompt("replies.yaml"))
    return loaded


class Replies:
    """Reply templates by key and language (English when a translation is missing).

    `extra` adds templates that are not in replies.yaml (a tool shipped outside this package brings its own).
    """

    def __init__(self, shop_name: str, extra: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.shop_name = shop_name
        self.extra = dict(extra or {})

    def has(self, key: str) -> bool:
        return key in self.extra or key in _templates()

    def __call__(self, key: str, language: str, **values: Any) -> str:
        variants = self.extra.get(key) or _templates()[key]
        template = variants.get(language) or variants["en"]
        return template.format(shop=self.shop_name, **values).strip()
