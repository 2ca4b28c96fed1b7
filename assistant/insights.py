"""Desk insights computed from the conversation store: the API and the console show the same numbers.

Definitions (over conversations in which the customer said something):
- takeover rate: share handed to a human (the conversation carries a takeover decision);
- resolution rate: share the bot handled alone (no takeover) and that did not end on a failed answer;
- time to first response: seconds from the customer's first message to the first bot or agent reply;
- time to human response: seconds from the handover to the first message of a human agent;
- suggestion acceptance rate: accepted + edited drafts over decided drafts;
- sentiment over time: mean guard sentiment (VADER compound, -1..1) of customer messages per day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import median
from typing import Any

from assistant.store.conversations import Conversation, ConversationStore, Message
from assistant.store.models import MessageRole

RESPONDER_ROLES = (MessageRole.BOT, MessageRole.AGENT)


@dataclass(frozen=True)
class ConversationRecord:
    conversation: Conversation
    messages: Sequence[Message]


def _customer_spoke(record: ConversationRecord) -> bool:
    return any(m.role == MessageRole.CUSTOMER for m in record.messages)


def takeover_stats(records: Sequence[ConversationRecord]) -> dict[str, Any]:
    active = [r for r in records if _customer_spoke(r)]
    taken = [r for r in active if r.conversation.takeover]
    reasons = Counter(str((r.conversation.takeover or {}).get("trigger") or "unknown") for r in taken)
    return {
        "conversations": len(active),
        "takeovers": len(taken),
        "takeover_rate": len(taken) / len(active) if active else 0.0,
        "takeover_reasons": dict(reasons.most_common()),
    }


def resolution_rate(records: Sequence[ConversationRecord], failed_replies: Mapping[str, bool]) -> float:
    """Share of conversations the bot resolved alone; `failed_replies[id]` says its last reply failed."""
    active = [r for r in records if _customer_spoke(r)]
    if not active:
        return 0.0
    resolved = [
        r for r in active if not r.conversation.takeover and not failed_replies.get(r.conversation.id, False)
    ]
    return len(resolved) / len(active)


def first_response_seconds(messages: Sequence[Message]) -> float | None:
    first_customer = next((m for m in messages if m.role == MessageRole.CUSTOMER), None)
    if first_customer is None:
        return None
    reply = next((m for m in messages if m.seq > first_customer.seq and m.role in RESPONDER_ROLES), None)
    if reply is None:
        return None
    return max(0.0, (reply.created_at - first_customer.created_at).total_seconds())


def human_response_seconds(record: ConversationRecord) -> float | None:
    takeover_at = record.conversation.waiting_since
    takeover_message = next(
        (m for m in record.messages if m.role == MessageRole.CUSTOMER and m.guard and m.guard.takeover),
        None,
    )
    start = takeover_message.created_at if takeover_message is not None else takeover_at
    if start is None or not record.conversation.takeover:
        return None
    agent = next((m for m in record.messages if m.role == MessageRole.AGENT and m.created_at >= start), None)
    return None if agent is None else max(0.0, (agent.created_at - start).total_seconds())


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), 3) if present else None


def sentiment_over_time(records: Sequence[ConversationRecord]) -> list[dict[str, Any]]:
    """Mean guard sentiment of customer messages per UTC day, oldest first."""
    by_day: dict[str, list[float]] = {}
    for record in records:
        for message in record.messages:
            sentiment = message.guard.sentiment if message.guard else None
            if message.role == MessageRole.CUSTOMER and sentiment is not None:
                by_day.setdefault(message.created_at.date().isoformat(), []).append(float(sentiment))
    return [
        {"day": day, "mean_sentiment": round(sum(v) / len(v), 4), "messages": len(v)}
        for day, v in sorted(by_day.items())
    ]


def last_reply_failed(messages: Sequence[Message]) -> bool:
    """True when the conversation ends on a bot reply that did not answer (marked failed or empty)."""
    last_bot = next((m for m in reversed(messages) if m.role == MessageRole.BOT), None)
    if last_bot is None:
        return False
    searched = [t for t in last_bot.tool_calls if t.name == "search_help_center"]
    return not last_bot.text.strip() or (bool(searched) and not last_bot.citations)


def compute_insights(
    records: Sequence[ConversationRecord], suggestion_stats: Mapping[str, float]
) -> dict[str, Any]:
    failed = {r.conversation.id: last_reply_failed(r.messages) for r in records}
    takeovers = takeover_stats(records)
    return {
        "conversations": takeovers["conversations"],
        "resolution_rate": round(resolution_rate(records, failed), 4),
        "takeover_rate": round(takeovers["takeover_rate"], 4),
        "takeovers": takeovers["takeovers"],
        "takeover_reasons": takeovers["takeover_reasons"],
        "median_first_response_s": _median(first_response_seconds(r.messages) for r in records),
        "median_human_response_s": _median(human_response_seconds(r) for r in records),
        "suggestion_acceptance_rate": round(float(suggestion_stats.get("acceptance_rate", 0.0)), 4),
        "suggestions": {k: int(v) for k, v in suggestion_stats.items() if k != "acceptance_rate"},
        "sentiment_over_time": sentiment_over_time(records),
    }


def load_records(store: ConversationStore, limit: int = 1000) -> list[ConversationRecord]:
    """The latest `limit` conversations with their messages."""
    return [ConversationRecord(c, store.messages(c.id)) for c in store.list_conversations(limit=limit)]


def insights_from_store(store: ConversationStore, limit: int = 1000) -> dict[str, Any]:
    return compute_insights(load_records(store, limit), store.suggestion_stats())
