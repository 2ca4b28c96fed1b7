"""The bot's own loops, as the guard sees them: the same or a near-identical bot reply again without
progress, and the customer saying so ("you already said that").

A bot turn counts when its text is near-identical (character-trigram cosine >= REPEAT_SIMILARITY, citation
markers ignored) to an earlier bot turn since a person last wrote. The offline planner steps out of its
own loops before they happen (assistant/planner/loops.py); this is the backstop for any model.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Protocol

import numpy as np
import yaml

from assistant.guard.detectors import LEXICONS, char_ngram_vectors
from knowledge.language import fold

REPEAT_SIMILARITY = 0.9
LOOP_FAILURES_FOR_TAKEOVER = 2  # the first loop gets another path; the second goes to a person
_MARKER_RE = re.compile(r"\s?\[\d{1,2}\]")


class Turn(Protocol):
    @property
    def role(self) -> str: ...

    @property
    def text(self) -> str: ...


@cache
def _already_said() -> tuple[re.Pattern[str], ...]:
    text = resources.files(LEXICONS).joinpath("bot_loops.yaml").read_text(encoding="utf-8")
    return tuple(re.compile(p) for p in yaml.safe_load(text)["already_said"])


def complains_of_repeats(text: str) -> bool:
    """The customer says the bot repeats itself, in en, fr or nl."""
    folded = fold(text)
    return any(p.search(folded) for p in _already_said())


def bot_repeats(history: Sequence[Turn]) -> int:
    """Bot turns that repeat an earlier bot turn, since the last message of a human agent."""
    since_agent = 0
    for index, turn in enumerate(history):
        if turn.role == "agent":
            since_agent = index + 1
    texts = [_MARKER_RE.sub("", t.text) for t in history[since_agent:] if t.role == "bot" and t.text.strip()]
    if len(texts) < 2:
        return 0
    vectors = np.asarray(char_ngram_vectors(texts), dtype=np.float32)
    similarity = vectors @ vectors.T
    return sum(1 for i in range(1, len(texts)) if float(similarity[i, :i].max()) >= REPEAT_SIMILARITY)
