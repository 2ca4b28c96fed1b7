"""The guard counts the bot's own loops: the same reply again without progress, and the customer saying so."""

from __future__ import annotations

import pytest

from assistant.guard import GuardTrigger, SentimentGuard, TurnRecord
from assistant.guard.detectors import char_ngram_vectors
from assistant.guard.loops import bot_repeats, complains_of_repeats
from knowledge.settings import Settings

ANSWER = "If your tracking has not moved for 7 business days, ask the assistant for a person. [2]"


@pytest.fixture(scope="module")
def guard() -> SentimentGuard:
    return SentimentGuard(Settings(_env_file=None), similarity=char_ngram_vectors)  # type: ignore[call-arg]


def conversation(*bot_replies: str) -> list[TurnRecord]:
    turns: list[TurnRecord] = []
    for number, reply in enumerate(bot_replies):
        turns.append(TurnRecord("customer", f"message number {number} about my parcel"))
        turns.append(TurnRecord("bot", reply))
    return turns


@pytest.mark.parametrize(
    "text", ["you already said that", "Vous l'avez déjà dit !", "dat zei je al", "same answer again??"]
)
def test_a_customer_saying_the_bot_repeats_itself_is_heard_in_three_languages(text: str) -> None:
    assert complains_of_repeats(text)


def test_different_replies_and_calm_follow_ups_are_no_loop(guard: SentimentGuard) -> None:
    assert not complains_of_repeats("what do I do now?")
    history = conversation(ANSWER, "Order #W1000002 is delivered.")
    assert bot_repeats(history) == 0
    assert not guard.evaluate("so what do I do now?", history).takeover


def test_one_repeat_is_a_failure_and_the_second_hands_over_with_the_reason(guard: SentimentGuard) -> None:
    once = conversation(ANSWER, ANSWER.replace(" [2]", " [1]"))  # the marker alone does not make it new
    assert bot_repeats(once) == 1
    assert not guard.evaluate("so what do I do now??", once).takeover
    twice = conversation(ANSWER, ANSWER, ANSWER)
    decision = guard.evaluate("so what do I do now??", twice)
    assert decision.takeover and decision.trigger == GuardTrigger.BOT_LOOP
    assert "repeated a reply 2 time(s)" in decision.reason
    told = guard.evaluate("you already said that", once)
    assert told.takeover and told.trigger == GuardTrigger.BOT_LOOP and "says it repeats" in told.reason


def test_a_human_agents_message_starts_the_count_again() -> None:
    history = [*conversation(ANSWER, ANSWER), TurnRecord("agent", "Hi, I'm Sam."), *conversation(ANSWER)]
    assert bot_repeats(history) == 0
