"""Desk insights as plain functions over hand-built conversations (no store needed)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assistant.insights import (
    ConversationRecord,
    compute_insights,
    conversation_facts,
    facts_csv,
    first_response_seconds,
    grouped,
    grouped_csv,
    human_response_seconds,
    last_reply_failed,
    sentiment_over_time,
)
from assistant.routing.history import FirstTaken
from assistant.store.conversations import Conversation, Message
from assistant.store.models import ConversationStatus, MessageRole
from tests.assistant.fakes import guard_decision

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(days=10)  # every 7-day window has closed


def conv(
    cid: str,
    *,
    user: str | None = None,
    takeover: dict[str, Any] | None = None,
    status: str = "bot",
    at: datetime = T0,
    **extra: Any,
) -> Conversation:
    values: dict[str, Any] = dict(
        id=cid,
        channel="widget",
        status=ConversationStatus(status),
        user_id=user,
        language="en",
        assigned_agent=None,
        takeover=takeover,
        priority=0.0,
        waiting_since=at + timedelta(seconds=30) if takeover else None,
        created_at=at,
        updated_at=at,
    )
    values.update(extra)
    return Conversation(**values)


def msg(
    seq: int, role: str, seconds: float, text: str = "where is my parcel", at: datetime = T0, **extra: Any
) -> Message:
    return Message(
        seq=seq, role=MessageRole(role), text=text, created_at=at + timedelta(seconds=seconds), **extra
    )


def answered(at: datetime = T0) -> list[Message]:
    return [
        msg(1, "customer", 0, at=at, guard=guard_decision(0.5)),
        msg(2, "bot", 2, at=at, citations=[{"ref": 1}], tool_calls=[{"name": "search_help_center"}]),
    ]


def records() -> list[ConversationRecord]:
    return [
        ConversationRecord(conv("resolved", user="u1"), answered()),
        ConversationRecord(
            conv("failed", user="u2"),
            [
                msg(1, "customer", 0, guard=guard_decision(-0.1)),
                msg(2, "bot", 4, tool_calls=[{"name": "search_help_center"}]),
            ],
        ),
        ConversationRecord(
            conv(
                "handed",
                user="u3",
                takeover={"trigger": "explicit_request"},
                status="closed",
                team_id="returns",
                assigned_agent="alice",
                closed_at=T0 + timedelta(minutes=20),
                handovers=1,
                ces_score=6,
            ),
            [
                msg(1, "customer", 0, guard=guard_decision(-0.6, takeover=True)),
                msg(2, "bot", 1),
                msg(3, "system", 50, text="alice joined"),
                msg(4, "agent", 60, author="alice"),
            ],
        ),
        # came back on the same issue three days later: the first one was not resolved
        ConversationRecord(conv("came-back", user="u4"), answered()),
        ConversationRecord(
            conv("came-back-2", user="u4", at=T0 + timedelta(days=3)), answered(T0 + timedelta(days=3))
        ),
        ConversationRecord(
            conv("recent", user="u5", at=LATER - timedelta(days=1)), answered(LATER - timedelta(days=1))
        ),
        ConversationRecord(conv("stranger"), answered()),  # anonymous, no origin: cannot be judged
        ConversationRecord(conv("silent"), []),  # opened, never used: not counted
    ]


TAKEN = {"handed": FirstTaken("alice", 20.0, T0 + timedelta(seconds=50))}


def test_bot_resolution_is_honest() -> None:
    facts = {f.conversation_id: f for f in conversation_facts(records(), TAKEN, LATER)}
    assert "silent" not in facts
    assert facts["resolved"].bot_resolved is True
    assert facts["failed"].bot_resolved is False  # ended on a failed answer
    assert facts["came-back"].bot_resolved is False and facts["came-back"].recontact_7d is True
    assert facts["recent"].bot_resolved is None  # less than 7 days: we do not know yet
    assert facts["stranger"].bot_resolved is None  # we could not recognise a re-contact
    assert facts["handed"].bot_resolved is None  # a human helped: not a bot case
    result = compute_insights(records(), {"acceptance_rate": 0.0}, TAKEN, LATER)
    overall = result["overall"]
    # judged: resolved, failed, came-back -> 1 of 3; pending: came-back-2 (its 7 days are not over yet),
    # recent, stranger
    assert (overall["bot_resolved"], overall["bot_unresolved"], overall["bot_pending"]) == (1, 2, 3)
    assert result["resolution_rate"] == overall["bot_resolution_rate"] == round(1 / 3, 4)


def test_desk_figures() -> None:
    result = compute_insights(records(), {"pending": 1, "accepted": 2, "acceptance_rate": 0.75}, TAKEN, LATER)
    overall = result["overall"]
    assert overall["conversations"] == 7 and overall["handoffs"] == 1
    assert overall["handoff_rate"] == round(1 / 7, 4) == result["takeover_rate"]
    assert overall["asa_s"] == 20.0
    assert overall["first_human_response_s"] == 60.0
    assert overall["resolution_s"] == 1200.0
    assert overall["ces_mean"] == 6 and overall["ces_responses"] == 1
    assert result["takeover_reasons"] == {"explicit_request": 1}
    assert result["suggestion_acceptance_rate"] == 0.75 and result["suggestions"] == {
        "pending": 1,
        "accepted": 2,
    }


def test_groups_by_team_channel_agent_and_day() -> None:
    rows = conversation_facts(records(), TAKEN, LATER)
    teams = {g["team"]: g for g in grouped(rows, "team")}
    assert teams["returns"]["handoffs"] == 1 and teams["returns"]["asa_s"] == 20.0
    assert teams["-"]["handoffs"] == 0
    agents = {g["agent"]: g for g in grouped(rows, "agent")}
    assert agents["alice"]["conversations"] == 1
    days = [g["day"] for g in grouped(rows, "day")]
    assert days == sorted(days) and "2025-03-01" in days
    assert grouped(rows, "channel")[0]["channel"] == "widget"
    with pytest.raises(ValueError, match="group by one of"):
        grouped(rows, "mood")


def test_csv_exports() -> None:
    rows = conversation_facts(records(), TAKEN, LATER)
    parsed = list(csv.DictReader(io.StringIO(facts_csv(rows))))
    assert len(parsed) == 7 and parsed[0]["conversation_id"] == "resolved"
    handed = next(r for r in parsed if r["conversation_id"] == "handed")
    assert handed["asa_s"] == "20.0" and handed["ces"] == "6" and handed["bot_resolved"] == ""
    by_team = list(csv.DictReader(io.StringIO(grouped_csv(grouped(rows, "team")))))
    assert {r["team"] for r in by_team} == {"-", "returns"}
    assert grouped_csv([]) == ""


def test_response_times_and_failures() -> None:
    recs = records()
    assert first_response_seconds(recs[0].messages) == 2.0
    assert human_response_seconds(recs[2]) == 60.0
    assert human_response_seconds(recs[0]) is None
    assert [last_reply_failed(r.messages) for r in recs[:3]] == [False, True, False]


def test_sentiment_per_day() -> None:
    assert sentiment_over_time(records()) == [
        {"day": "2025-03-01", "mean_sentiment": 0.16, "messages": 5},
        {"day": "2025-03-04", "mean_sentiment": 0.5, "messages": 1},
        {"day": "2025-03-10", "mean_sentiment": 0.5, "messages": 1},
    ]


def test_sla_breaches_are_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    late = conv(
        "late",
        takeover={"trigger": "profanity"},
        status="waiting_for_human",
        sla_first_due=T0 + timedelta(minutes=2),
        sla_resolution_due=T0 + timedelta(hours=1),
    )
    record = ConversationRecord(late, [msg(1, "customer", 0)])
    on_time = compute_insights([record], {}, {}, T0 + timedelta(minutes=1))
    breached = compute_insights([record], {}, {}, T0 + timedelta(minutes=5))
    assert on_time["overall"]["sla_breaches"] == 0 and breached["overall"]["sla_breaches"] == 1


def test_empty_store_gives_zeros_not_errors() -> None:
    result = compute_insights([], {"acceptance_rate": 0.0})
    assert result["conversations"] == 0 and result["median_first_response_s"] is None
    assert result["resolution_rate"] is None and result["sentiment_over_time"] == []
    assert result["by"]["team"] == []
