"""The model's prompts as package data (Markdown files next to this module)."""

from __future__ import annotations

from importlib import resources


def load_prompt(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text("utf-8")
