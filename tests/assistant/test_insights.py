"""Desk insights as plain functions over hand-built conversations (no store needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from assistant.insights import (
    ConversationRecord,
    compute_insights,
    first_response_seconds,
    human_response_seconds,
    last_reply_failed,
    resolution_rate,
    sentiment_over_time,
    takeover_stats,
)
from assistant.records import GuardDecision
from assistant.store.conversations import Conversation, Message
from assistant.store.models import ConversationStatus, MessageRole

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def conv(cid: str, takeover: dict[str, Any] | None = None, status: str = "bot") -> Conversation:
    return Conversation(
        id=cid,
        channel="widget",
        status=ConversationStatus(status),
        user_id=None,
        language="en",
        assigned_agent=None,
        takeover=takeover,
        priority=0.0,
        waiting_since=T0 + timedelta(seconds=30) if takeover else None,
        created_at=T0,
        updated_at=T0,
    )


def decision(sentiment: float, takeover: bool = False) -> GuardDecision:
    return GuardDecision(
        takeover=takeover, reason="test", sentiment=sentiment, severity=0.5, language="en", signals={}
    )


def msg(seq: int, role: str, seconds: float, text: str = "hi", **extra: Any) -> Message:
    return Message(
        seq=seq, role=MessageRole(role), text=text, created_at=T0 + timedelta(seconds=seconds), **extra
    )


def records() -> list[ConversationRecord]:
    answered = ConversationRecord(
        conv("a"),
        [
            msg(1, "customer", 0, guard=decision(0.5)),
            msg(2, "bot", 2, citations=[{"ref": 1}], tool_calls=[{"name": "search_help_center"}]),
        ],
    )
    unanswered = ConversationRecord(
        conv("b"),
        [
            msg(1, "customer", 0, guard=decision(-0.1)),
            msg(2, "bot", 4, tool_calls=[{"name": "search_help_center"}]),  # searched, no citation
        ],
    )
    handed = ConversationRecord(
        conv("c", takeover={"trigger": "explicit_request"}, status="human"),
        [
            msg(1, "customer", 0, guard=decision(-0.6, takeover=True)),
            msg(2, "bot", 1),
            msg(3, "system", 50, text="alice joined"),
            msg(4, "agent", 60),
        ],
    )
    silent = ConversationRecord(conv("d"), [])  # opened, never used: not counted
    return [answered, unanswered, handed, silent]


def test_takeover_rate_and_reasons() -> None:
    stats = takeover_stats(records())
    assert stats == {
        "conversations": 3,
        "takeovers": 1,
        "takeover_rate": 1 / 3,
        "takeover_reasons": {"explicit_request": 1},
    }


def test_resolution_excludes_takeovers_and_failed_answers() -> None:
    recs = records()
    failed = {r.conversation.id: last_reply_failed(r.messages) for r in recs}
    assert failed == {"a": False, "b": True, "c": False, "d": False}
    assert resolution_rate(recs, failed) == 1 / 3
    assert resolution_rate([], {}) == 0.0


def test_response_times() -> None:
    recs = records()
    assert [first_response_seconds(r.messages) for r in recs] == [2.0, 4.0, 1.0, None]
    assert human_response_seconds(recs[2]) == 60.0
    assert human_response_seconds(recs[0]) is None


def test_sentiment_per_day() -> None:
    assert sentiment_over_time(records()) == [{"day": "2025-03-01", "mean_sentiment": -0.0667, "messages": 3}]


def test_compute_insights_combines_everything() -> None:
    result = compute_insights(
        records(), {"pending": 1, "accepted": 2, "edited": 1, "rejected": 1, "acceptance_rate": 0.75}
    )
    assert result["conversations"] == 3
    assert result["resolution_rate"] == round(1 / 3, 4)
    assert result["median_first_response_s"] == 2.0
    assert result["median_human_response_s"] == 60.0
    assert result["suggestion_acceptance_rate"] == 0.75
    assert result["suggestions"] == {"pending": 1, "accepted": 2, "edited": 1, "rejected": 1}


def test_empty_store_gives_zeros_not_errors() -> None:
    result = compute_insights([], {"acceptance_rate": 0.0})
    assert result["conversations"] == 0 and result["median_first_response_s"] is None
    assert result["sentiment_over_time"] == []
