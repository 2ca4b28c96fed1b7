"""The model-backed helpers (guard sentiment, handover summary) against the local OpenAI-protocol stub,
and the guard using a model's sentiment with the lexicon as its fallback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.guard.guard import GuardTrigger, SentimentGuard
from assistant.model_helpers import ModelSentiment, ModelSummariser
from knowledge.settings import Settings
from tests.assistant.openai_stub import StubReply, start_stub_server


def _settings(tmp_path: Path, base_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path, llm_provider="openai", llm_base_url=base_url, llm_max_retries=0, _env_file=None
    )  # type: ignore[call-arg]


def test_model_sentiment_reads_a_structured_rating_and_survives_errors(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []
    base_url, stop = start_stub_server(
        [
            StubReply(content=json.dumps({"score": -0.8})),
            StubReply(content="not json"),
            StubReply(status=500),
        ],
        received=received,
    )
    try:
        rate = ModelSentiment(_settings(tmp_path, base_url))
        assert rate("third time I ask, this is a joke", "en") == -0.8
        assert rate("hello", "en") is None  # not a rating: the guard uses its lexicon
        assert rate("hello", "en") is None  # HTTP 500
    finally:
        stop()
    first = json.dumps(received[0])
    assert "third time I ask" in first and "mood" in first  # the message and the instructions were sent


def test_model_summariser_returns_the_paragraph_or_none(tmp_path: Path) -> None:
    base_url, stop = start_stub_server(
        [StubReply(content="The customer wants order #W1000002 refunded; upset."), StubReply(status=503)]
    )
    try:
        summarise = ModelSummariser(_settings(tmp_path, base_url))
        assert (
            summarise("customer: refund #W1000002 now")
            == "The customer wants order #W1000002 refunded; upset."
        )
        assert summarise("customer: hello") is None
    finally:
        stop()


def test_guard_takes_the_models_sentiment_and_falls_back_to_the_lexicon(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    calm_words = "Fine, I will just wait another week for my parcel then."
    lexicon_only = SentimentGuard(settings, similarity=lambda texts: __import__("numpy").eye(len(texts)))
    assert not lexicon_only.evaluate(calm_words, []).takeover

    sarcastic = SentimentGuard(
        settings, similarity=lexicon_only.similarity, model_sentiment=lambda t, lang: -0.85
    )
    decision = sarcastic.evaluate(calm_words, [])
    assert decision.takeover and decision.trigger == GuardTrigger.NEGATIVE_SENTIMENT
    assert decision.sentiment == -0.85 and "model" in decision.reason
    assert "sentiment_lexicon" in decision.signals

    failing = SentimentGuard(
        settings, similarity=lexicon_only.similarity, model_sentiment=lambda t, lang: None
    )
    assert failing.evaluate(calm_words, []).model_dump() == lexicon_only.evaluate(calm_words, []).model_dump()


def test_model_helpers_skip_the_model_while_its_circuit_is_open(tmp_path: Path) -> None:
    """A failing model opens the shared circuit; then neither the guard's sentiment nor the queue's summary
    calls it (the lexicon score and the extractive summary are used), and a good answer closes it again."""
    from assistant.breaker import CircuitBreaker

    received: list[dict[str, Any]] = []
    base_url, stop = start_stub_server(
        [StubReply(status=500), StubReply(status=500), StubReply(content="A short summary.")],
        received=received,
    )
    breaker = CircuitBreaker(failures=2, cooldown_s=3600)
    try:
        settings = _settings(tmp_path, base_url)
        summarise = ModelSummariser(settings, breaker=breaker)
        rate = ModelSentiment(settings, breaker=breaker)
        assert summarise("customer: where is my parcel?") is None
        assert rate("where is my parcel?", "en") is None
        assert breaker.status().state == "open" and len(received) == 2
        assert summarise("customer: hello?") is None and rate("hello?", "en") is None
        assert len(received) == 2  # skipped: the model was not called
        breaker.cooldown_s = 0.0
        assert summarise("customer: hello?") == "A short summary."  # the probe succeeds
        assert breaker.status().state == "closed"
    finally:
        stop()
