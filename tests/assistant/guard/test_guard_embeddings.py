"""The guard with the project's real MiniLM embedder (paraphrased repeats, the default similarity)."""

from __future__ import annotations

import os

import pytest

from assistant.guard import GuardTrigger, SentimentGuard, TurnRecord
from knowledge.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def guard() -> SentimentGuard:
    # no similarity argument: the guard loads knowledge.embeddings lazily, as in production
    return SentimentGuard(Settings(_env_file=None))  # type: ignore[call-arg]


def _history(*customer: str) -> list[TurnRecord]:
    turns: list[TurnRecord] = []
    for text in customer:
        turns += [TurnRecord("customer", text), TurnRecord("bot", "Here is our cancellation policy.")]
    return turns


def test_paraphrased_repeats_trigger_a_loop(guard: SentimentGuard) -> None:
    question = "How do I get a refund for order W8811224?"
    history = _history(question, question)
    decision = guard.evaluate("How do I get a refund for order W8811224?", history)
    assert decision.trigger == GuardTrigger.REPEATED_REQUEST
    assert decision.signals["max_repeat_similarity"] >= 0.9


def test_different_requests_are_not_a_loop(guard: SentimentGuard) -> None:
    history = _history("Where is my order W8811224?", "Can I change the delivery address?")
    decision = guard.evaluate("Do you sell gift cards?", history)
    assert not decision.takeover
    assert decision.signals["max_repeat_similarity"] < 0.9
