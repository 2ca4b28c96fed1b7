"""SentimentGuard: decision shape, thresholds from settings, loops, handover messages, hostile input."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from assistant.guard import (
    GuardDecision,
    GuardInputError,
    GuardTrigger,
    SentimentGuard,
    TurnRecord,
    handover_message,
)
from assistant.guard.detectors import char_ngram_vectors
from knowledge.settings import Settings


def make_settings(**overrides: object) -> Settings:
    return Settings(_env_file=None, **overrides)  # type: ignore[arg-type,call-arg]


@pytest.fixture(scope="module")
def guard() -> SentimentGuard:
    # trigram vectors keep this module fast; the real embedder is exercised in test_guard_embeddings.py
    return SentimentGuard(make_settings(), similarity=char_ngram_vectors)


def test_decision_shape_and_json_round_trip(guard: SentimentGuard) -> None:
    decision = guard.evaluate("This is ridiculous, worst service ever. I want to speak to a human!", [])
    assert decision.takeover
    assert decision.trigger in decision.triggers
    assert {GuardTrigger.NEGATIVE_SENTIMENT, GuardTrigger.EXPLICIT_REQUEST} <= set(decision.triggers)
    assert -1.0 <= decision.sentiment <= 1.0 and 0.0 <= decision.severity <= 1.0
    assert decision.language == "en"
    assert "VADER" in decision.reason and "explicit_request" in decision.reason
    expected_signals = {
        "sentiment",
        "trajectory_mean",
        "explicit_request",
        "threat_to_leave",
        "public_complaint",
        "profanity",
        "upper_ratio",
        "exclamation_run",
        "repeats",
        "max_repeat_similarity",
        "bot_failures_in_a_row",
    }
    assert expected_signals <= set(decision.signals)
    restored = GuardDecision.model_validate_json(decision.model_dump_json())
    assert restored == decision
    assert json.loads(decision.model_dump_json())["trigger"] == decision.trigger.value  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "I'd like to cancel, no problem.",
        "The lamp is broken, can I return it?",
        "La lampe est arrivée cassée, je peux la retourner ?",
        "De lamp is kapot, kan ik hem terugsturen?",
        "Thanks!!! You're the best!!!",
    ],
)
def test_calm_messages_with_negative_words_do_not_trigger(guard: SentimentGuard, text: str) -> None:
    decision = guard.evaluate(text, [])
    assert not decision.takeover, decision.reason
    assert decision.trigger is None and decision.reason == "no trigger"


@pytest.mark.parametrize(
    ("text", "trigger"),
    [
        ("Worst customer service ever, I'm furious.", GuardTrigger.NEGATIVE_SENTIMENT),
        ("Je veux parler à un conseiller.", GuardTrigger.EXPLICIT_REQUEST),
        ("Wat een klotezooi.", GuardTrigger.PROFANITY),
        ("WHERE IS MY ORDER, I PAID TWO WEEKS AGO", GuardTrigger.SHOUTING),
        ("I'll never order from you again.", GuardTrigger.THREAT_TO_LEAVE),
        ("Ik ga dit op Twitter zetten.", GuardTrigger.PUBLIC_COMPLAINT),
    ],
)
def test_single_message_triggers(guard: SentimentGuard, text: str, trigger: GuardTrigger) -> None:
    decision = guard.evaluate(text, [])
    assert decision.takeover and trigger in decision.triggers, decision.reason


def test_severity_orders_triggers(guard: SentimentGuard) -> None:
    polite_ask = guard.evaluate("Can I speak to a person please?", [])
    threat = guard.evaluate("Refund me or I'm going to post this on Twitter.", [])
    calm = guard.evaluate("Where is my order?", [])
    assert threat.severity > polite_ask.severity > calm.severity


def test_negative_threshold_from_settings_changes_the_decision() -> None:
    text = "The lamp arrived broken, can I return it?"  # VADER about -0.5
    lenient = SentimentGuard(make_settings(), similarity=char_ngram_vectors)
    strict = SentimentGuard(make_settings(guard_negative_threshold=-0.3), similarity=char_ngram_vectors)
    assert not lenient.evaluate(text, []).takeover
    assert strict.evaluate(text, []).trigger == GuardTrigger.NEGATIVE_SENTIMENT


def test_shouting_and_profanity_thresholds_from_settings() -> None:
    text = "please help me with MY ORDER now"  # 7 of 26 letters upper case
    assert not SentimentGuard(make_settings(), similarity=char_ngram_vectors).evaluate(text, []).takeover
    low = SentimentGuard(make_settings(guard_shouting_ratio=0.25), similarity=char_ngram_vectors)
    assert low.evaluate(text, []).trigger == GuardTrigger.SHOUTING
    mild = "the damn box is hard to open, how do I return it?"
    assert not SentimentGuard(make_settings(), similarity=char_ngram_vectors).evaluate(mild, []).takeover
    touchy = SentimentGuard(make_settings(guard_profanity_threshold=0.5), similarity=char_ngram_vectors)
    assert touchy.evaluate(mild, []).trigger == GuardTrigger.PROFANITY


def test_bot_failures_in_a_row_with_settings() -> None:
    fail = "Sorry, I couldn't find an answer to that."
    history = [
        TurnRecord("customer", "Do you sell spare parts?"),
        TurnRecord("bot", fail, bot_failed=True),
        TurnRecord("customer", "What about legs for the chair?"),
        TurnRecord("bot", fail, bot_failed=True),
    ]
    guard = SentimentGuard(make_settings(), similarity=char_ngram_vectors)
    decision = guard.evaluate("Who can help me then?", history)
    assert decision.trigger == GuardTrigger.BOT_FAILURES
    assert decision.signals["bot_failures_in_a_row"] == 2
    three = SentimentGuard(make_settings(guard_failed_answers=3), similarity=char_ngram_vectors)
    assert not three.evaluate("Who can help me then?", history).takeover
    recovered = [*history, TurnRecord("customer", "ok"), TurnRecord("bot", "Here you go.")]
    assert not guard.evaluate("Who can help me then?", recovered).takeover


def _repeat_history(text: str, times: int) -> list[TurnRecord]:
    turns: list[TurnRecord] = []
    for _ in range(times):
        turns += [TurnRecord("customer", text), TurnRecord("bot", "Here is our cancellation policy.")]
    return turns


def test_repeat_count_and_similarity_from_settings() -> None:
    text = "Please cancel my order W5512340"
    guard = SentimentGuard(make_settings(), similarity=char_ngram_vectors)
    assert not guard.evaluate(text, _repeat_history(text, 1)).takeover  # asked twice: not yet a loop
    decision = guard.evaluate(text, _repeat_history(text, 2))  # asked three times
    assert decision.trigger == GuardTrigger.REPEATED_REQUEST
    assert decision.signals["repeats"] == 2
    eager = SentimentGuard(make_settings(guard_repeat_count=1), similarity=char_ngram_vectors)
    assert eager.evaluate(text, _repeat_history(text, 1)).trigger == GuardTrigger.REPEATED_REQUEST
    impossible = SentimentGuard(make_settings(guard_repeat_similarity=1.01), similarity=char_ngram_vectors)
    assert not impossible.evaluate(text, _repeat_history(text, 2)).takeover


def test_trajectory_over_customer_turns() -> None:
    history = [
        TurnRecord("customer", "My order is late again, very disappointing."),
        TurnRecord("bot", "Sorry, it will come tomorrow."),
        TurnRecord("customer", "That's annoying, I needed it today."),
        TurnRecord("bot", "I understand."),
    ]
    text = "Not good."  # about -0.34 alone: below the single-message threshold
    guard = SentimentGuard(make_settings(), similarity=char_ngram_vectors)
    alone = guard.evaluate(text, [])
    assert not alone.takeover
    decision = guard.evaluate(text, history)
    assert decision.trigger == GuardTrigger.SENTIMENT_TRAJECTORY, decision.reason
    longer = SentimentGuard(make_settings(guard_trajectory_turns=5), similarity=char_ngram_vectors)
    assert not longer.evaluate(text, history).takeover  # fewer than 5 customer turns so far


def test_uses_the_given_similarity_function() -> None:
    calls: list[list[str]] = []

    def fake(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return np.ones((len(texts), 4), dtype=np.float32) / 2.0  # everything identical

    guard = SentimentGuard(make_settings(), similarity=fake)
    decision = guard.evaluate("c", [TurnRecord("customer", "a"), TurnRecord("customer", "b")])
    assert calls == [["a", "b", "c"]]
    assert decision.trigger == GuardTrigger.REPEATED_REQUEST
    # no earlier customer message: no encoding at all
    guard.evaluate("hello", [TurnRecord("bot", "hi")])
    assert len(calls) == 1


def test_similarity_with_wrong_shape_is_a_clear_error() -> None:
    bad: Callable[[list[str]], np.ndarray] = lambda texts: np.ones(3)  # noqa: E731
    guard = SentimentGuard(make_settings(), similarity=bad)
    with pytest.raises(GuardInputError, match="shape"):
        guard.evaluate("b", [TurnRecord("customer", "a")])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "🙂🙂🙂",
        "😡😡😡😡",
        "a" * 200_000,
        "WHERE " * 50_000,
        "<script>alert(1)</script>'; DROP TABLE messages; --",
        "\x00\x01\x02 \ud800?",
        "((((((((((((((((((((((((a" * 2000,
        "!" * 10_000,
    ],
)
def test_hostile_or_odd_input_never_crashes(guard: SentimentGuard, text: str) -> None:
    decision = guard.evaluate(text, [TurnRecord("customer", text), TurnRecord("bot", "ok")])
    assert isinstance(decision, GuardDecision)
    assert -1.0 <= decision.sentiment <= 1.0 and decision.language in ("en", "fr", "nl")


def test_empty_message_never_takes_over(guard: SentimentGuard) -> None:
    decision = guard.evaluate("", [])
    assert not decision.takeover and "empty" in decision.reason


def test_wrong_input_types_are_clear_errors(guard: SentimentGuard) -> None:
    with pytest.raises(GuardInputError, match="string"):
        guard.evaluate(None, [])  # type: ignore[arg-type]
    with pytest.raises(GuardInputError, match="TurnRecord"):
        guard.evaluate("hi", [{"role": "customer", "text": "x"}])  # type: ignore[list-item]
    with pytest.raises(GuardInputError, match="history"):
        guard.evaluate("hi", "not a list")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "word"),
    [("en", "minutes"), ("fr", "minutes"), ("nl", "minuten")],
)
def test_handover_message_languages(language: str, word: str) -> None:
    text = handover_message(language, 7)
    assert "7" in text and word in text
    others = {handover_message(lang, 7) for lang in ("en", "fr", "nl")}
    assert len(others) == 3


def test_handover_message_singular_and_unknown_language() -> None:
    assert "1 minute." in handover_message("en", 1)
    assert "1 minuut" in handover_message("nl", 1)
    assert handover_message("de", 5) == handover_message("en", 5)
    assert "1 minute" in handover_message("en", 0)  # never promise "0 minutes"


def test_handover_uses_the_detected_language(guard: SentimentGuard) -> None:
    decision = guard.evaluate("Ik wil een medewerker spreken.", [])
    assert decision.language == "nl"
    assert "medewerker" in handover_message(decision.language, make_settings().expected_wait_minutes)
