"""Customer effort per conversation, measured from what happened (no survey needed): customer turns,
repeated questions, channel switches, handovers, time to resolution, and re-contact on the same issue
within 7 days. Pure functions over conversations and their messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from assistant.store.conversations import Conversation, Message
from assistant.store.models import MessageRole

RECONTACT_DAYS = 7


@dataclass(frozen=True)
class Effort:
    customer_turns: int
    repeated_questions: int
    channel_switches: int
    handovers: int
    time_to_resolution_s: float | None
    recontact_within_7_days: bool | None  # None: fewer than 7 days have passed and nobody came back yet

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def customer_key(conversation: Conversation, origin: str | None = None) -> str | None:
    """Who the customer is across conversations: the proven shop user, else the conversation's origin."""
    if conversation.user_id:
        return f"user:{conversation.user_id}"
    return origin


def last_activity(conversation: Conversation, messages: Sequence[Message]) -> datetime:
    if conversation.closed_at is not None:
        return conversation.closed_at
    return max((m.created_at for m in messages), default=conversation.updated_at)


def same_issue(a: str | None, b: str | None) -> bool:
    """Unknown topics count as the same issue: a customer who comes back is not resolved until we know."""
    return a is None or b is None or a == b


def recontact(
    conversation: Conversation,
    topic: str | None,
    ended: datetime,
    later: Sequence[tuple[Conversation, str | None]],
    now: datetime,
) -> bool | None:
    """True when the customer came back on the same issue within 7 days of this conversation's end."""
    window_end = ended + timedelta(days=RECONTACT_DAYS)
    for other, other_topic in later:
        if other.id == conversation.id:
            continue
        if ended <= other.created_at <= window_end and same_issue(topic, other_topic):
            return True
    return False if now >= window_end else None


def channel_switches(conversation: Conversation, history: Sequence[Conversation]) -> int:
    """Channel changes over the customer's conversations in the 7 days up to this one's start."""
    since = conversation.created_at - timedelta(days=RECONTACT_DAYS)
    chain = sorted(
        [c for c in history if since <= c.created_at <= conversation.created_at and c.id != conversation.id]
        + [conversation],
        key=lambda c: c.created_at,
    )
    return sum(1 for a, b in zip(chain, chain[1:], strict=False) if a.channel != b.channel)


def repeated_questions(messages: Sequence[Message]) -> int:
    """Customer messages the guard found to repeat an earlier one (its `repeats` signal)."""
    return sum(
        1
        for m in messages
        if m.role == MessageRole.CUSTOMER and m.guard is not None and m.guard.signals.get("repeats", 0) >= 1
    )


def conversation_effort(
    conversation: Conversation,
    messages: Sequence[Message],
    *,
    topic: str | None,
    history: Sequence[Conversation] = (),
    later: Sequence[tuple[Conversation, str | None]] = (),
    now: datetime,
) -> Effort:
    handovers = conversation.handovers or (1 if conversation.takeover else 0)
    resolution = None
    if conversation.closed_at is not None:
        resolution = max(0.0, (conversation.closed_at - conversation.created_at).total_seconds())
    return Effort(
        customer_turns=sum(1 for m in messages if m.role == MessageRole.CUSTOMER),
        repeated_questions=repeated_questions(messages),
        channel_switches=channel_switches(conversation, history),
        handovers=handovers,
        time_to_resolution_s=resolution,
        recontact_within_7_days=recontact(
            conversation, topic, last_activity(conversation, messages), later, now
        ),
    )
