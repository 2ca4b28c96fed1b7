"""Small jobs for the configured chat model around the conversation, each with a plain-code fallback.

- `ModelSentiment`: the guard's per-message sentiment from the model (a LangChain structured-output
  classifier), opt-in with `PARLEY_GUARD_MODEL_SENTIMENT=true` because it adds a model round trip before
  every reply; the lexicon score is used whenever the model fails or is slow.
- `ModelSummariser`: the one-paragraph handover summary for the agents' queue, when a model is
  configured; the extractive summary otherwise or when the model fails.

Both use `ChatOpenAI` on the same endpoint as the agent, with a short timeout and no retries: a slow model
must never hold up a customer's reply or the agents' queue for long. Both go through the agent's circuit
breaker (assistant/breaker.py): while it is open they do not call the model at all, and their failures count.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, Field

from assistant.breaker import CircuitBreaker
from assistant.prompts import load_prompt
from knowledge.settings import Settings

log = logging.getLogger(__name__)


class SentimentRating(BaseModel):
    """The mood of one customer message."""

    score: float = Field(ge=-1.0, le=1.0, description="-1 furious .. 0 neutral .. +1 happy")


class _Skipped(Exception):
    """The circuit is open: the model is not called."""


def _through(breaker: CircuitBreaker | None, call: Any) -> Any:
    """`call()` unless the breaker is open (raises _Skipped); its outcome is recorded in the breaker."""
    if breaker is not None and not breaker.allow():
        raise _Skipped("the model's circuit is open")
    try:
        result = call()
    except Exception as exc:
        if breaker is not None:
            breaker.failure(exc)
        raise
    if breaker is not None:
        breaker.success()
    return result


def _chat_model(settings: Settings, timeout_s: float) -> Any:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or "not-needed",  # type: ignore[arg-type]
        timeout=timeout_s,
        max_retries=0,
        temperature=0.0,
    )


class ModelSentiment:
    """`(text, language) -> score in [-1, 1]`, or None when the model cannot say (the guard then uses its
    lexicon score)."""

    def __init__(
        self, settings: Settings, model: Any | None = None, breaker: CircuitBreaker | None = None
    ) -> None:
        chat = model if model is not None else _chat_model(settings, settings.guard_model_timeout_s)
        self.classifier = chat.with_structured_output(SentimentRating)
        self.instructions = load_prompt("sentiment.md")
        self.breaker = breaker

    def __call__(self, text: str, language: str) -> float | None:
        try:
            messages = [("system", self.instructions), ("human", f"[{language}] {text[:2000]}")]
            rating = _through(self.breaker, lambda: self.classifier.invoke(messages))
        except _Skipped:
            return None
        except Exception as exc:  # timeouts, HTTP errors, a reply that is not a rating
            log.warning("guard: model sentiment failed (%s); using the lexicon score", exc)
            return None
        if isinstance(rating, SentimentRating):
            return rating.score
        if isinstance(rating, dict) and "score" in rating:
            return SentimentRating.model_validate(rating).score
        return None


class ModelSummariser:
    """Transcript -> one paragraph for the agent, or None when the model fails."""

    def __init__(
        self, settings: Settings, model: Any | None = None, breaker: CircuitBreaker | None = None
    ) -> None:
        self.model = model if model is not None else _chat_model(settings, settings.guard_model_timeout_s)
        self.instructions = load_prompt("handover_summary.md")
        self.breaker = breaker

    def __call__(self, transcript: str) -> str | None:
        try:
            messages = [("system", self.instructions), ("human", transcript[-8000:])]
            reply = _through(self.breaker, lambda: self.model.invoke(messages))
        except _Skipped:
            return None
        except Exception as exc:
            log.warning("desk: model summary failed (%s); using the extractive summary", exc)
            return None
        text = str(getattr(reply, "content", "") or "").strip()
        return text[:1200] or None
