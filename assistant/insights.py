"""Desk insights computed from the conversation store and the routing log: the API (`GET /insights`) and
the console show the same numbers.

Definitions (over conversations in which the customer said something):
- handoff rate: share handed to a human (the conversation carries a takeover decision);
- ASA (average speed of answer): mean seconds from the handover to the first agent taking it (assigned by
  routing or claimed);
- first response: seconds from the customer's first message to the first bot or agent reply; first human
  response: from the handover to the first message of a human agent;
- resolution time: seconds from the first message to the close;
- bot resolution rate, honestly: conversations resolved WITHOUT a human whose last bot reply answered (not a
  failure) AND whose customer did not come back on the same issue within 7 days, over the bot-only
  conversations we can judge. A conversation less than 7 days old, or of a customer we cannot recognise
  again, is "pending" and left out of the rate (counted separately), never counted as resolved because the
  customer went quiet;
- CES: mean Customer Effort Score (1-7, 7 = easiest) of the answers, with the number of answers;
- SLA breaches: conversations past their first-response or resolution target;
- effort per conversation: customer turns, repeated questions, channel switches, handovers, re-contact.
Every figure is also given by day, team, channel and agent; `insights_csv` exports the per-conversation rows.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from statistics import mean, median
from typing import Any

from assistant.db import columns
from assistant.routing.classify import classify_topic
from assistant.routing.effort import conversation_effort, customer_key, last_activity
from assistant.routing.history import FirstTaken
from assistant.routing.sla import SlaDue, sla_state
from assistant.store.conversations import Conversation, ConversationStore, Message
from assistant.store.models import ConversationStatus, MessageRole

RESPONDER_ROLES = (MessageRole.BOT, MessageRole.AGENT)
GROUPS = ("day", "team", "channel", "agent")


@dataclass(frozen=True)
class ConversationRecord:
    conversation: Conversation
    messages: Sequence[Message]


@dataclass(frozen=True)
class ConversationFacts:
    """One row of the CSV export: what happened in one conversation."""

    conversation_id: str
    day: str
    channel: str
    team: str
    agent: str
    topic: str
    handed_over: bool
    trigger: str
    asa_s: float | None
    first_response_s: float | None
    first_human_response_s: float | None
    resolution_s: float | None
    bot_resolved: bool | None  # None: bot-only but not judgeable yet (or handed over: not a bot case)
    ces: int | None
    sla_breached: bool
    customer_turns: int
    repeated_questions: int
    channel_switches: int
    handovers: int
    recontact_7d: bool | None


def _customer_spoke(record: ConversationRecord) -> bool:
    return any(m.role == MessageRole.CUSTOMER for m in record.messages)


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


def last_reply_failed(messages: Sequence[Message]) -> bool:
    """True when the conversation ends on a bot reply that did not answer (empty, or searched and cited
    nothing)."""
    last_bot = next((m for m in reversed(messages) if m.role == MessageRole.BOT), None)
    if last_bot is None:
        return False
    searched = [t for t in last_bot.tool_calls if t.name == "search_help_center"]
    return not last_bot.text.strip() or (bool(searched) and not last_bot.citations)


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


def _topic(record: ConversationRecord) -> str:
    if record.conversation.topic:
        return record.conversation.topic
    return classify_topic([m.text for m in record.messages if m.role == MessageRole.CUSTOMER])


def _agent(record: ConversationRecord, taken: FirstTaken | None) -> str:
    authors = [m.author for m in record.messages if m.role == MessageRole.AGENT and m.author]
    return (
        record.conversation.assigned_agent
        or (authors[-1] if authors else None)
        or (taken.agent if taken else None)
        or "-"
    )


def conversation_facts(
    records: Sequence[ConversationRecord], taken: Mapping[str, FirstTaken], now: datetime
) -> list[ConversationFacts]:
    active = [r for r in records if _customer_spoke(r)]
    topics = {r.conversation.id: _topic(r) for r in active}
    by_customer: dict[str, list[ConversationRecord]] = {}
    for record in active:
        key = customer_key(record.conversation, record.conversation.origin)
        if key:
            by_customer.setdefault(key, []).append(record)
    facts = []
    for record in active:
        c = record.conversation
        key = customer_key(c, c.origin)
        others = by_customer.get(key, []) if key else []
        effort = conversation_effort(
            c,
            record.messages,
            topic=topics[c.id],
            history=[o.conversation for o in others if o.conversation.created_at < c.created_at],
            later=[
                (o.conversation, topics[o.conversation.id])
                for o in others
                if o.conversation.created_at > c.created_at
            ],
            now=now,
        )
        recontact = effort.recontact_within_7_days if key else None
        handed = c.takeover is not None or c.handovers > 0
        bot_resolved: bool | None = None
        if not handed:
            if last_reply_failed(record.messages) or recontact is True:
                bot_resolved = False
            elif recontact is False:
                bot_resolved = True
        first_taken = taken.get(c.id)
        asa = first_taken.waited_s if first_taken else None
        if asa is None and c.assigned_at and c.waiting_since:
            asa = max(0.0, (c.assigned_at - c.waiting_since).total_seconds())
        due = SlaDue(c.sla_first_due, c.sla_resolution_due)
        first_human = human_response_seconds(record)
        human_at = c.first_human_reply_at
        closed = c.closed_at if c.status == ConversationStatus.CLOSED else None
        sla = sla_state(
            due,
            min(now, last_activity(c, record.messages)) if closed else now,
            first_response_at=human_at,
            resolved_at=closed,
        )
        facts.append(
            ConversationFacts(
                conversation_id=c.id,
                day=c.created_at.astimezone(UTC).date().isoformat(),
                channel=c.channel,
                team=c.team_id or "-",
                agent=_agent(record, first_taken),
                topic=topics[c.id],
                handed_over=handed,
                trigger=str((c.takeover or {}).get("trigger") or ("-" if not handed else "unknown")),
                asa_s=None if asa is None else round(asa, 1),
                first_response_s=first_response_seconds(record.messages),
                first_human_response_s=first_human,
                resolution_s=effort.time_to_resolution_s,
                bot_resolved=bot_resolved,
                ces=c.ces_score,
                sla_breached=sla.breached,
                **columns(effort, "customer_turns repeated_questions channel_switches handovers"),
                recontact_7d=recontact,
            )
        )
    return facts


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(mean(present), 3) if present else None


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), 3) if present else None


def summarise(rows: Sequence[ConversationFacts]) -> dict[str, Any]:
    handed = [r for r in rows if r.handed_over]
    bot_only = [r for r in rows if not r.handed_over]
    judged = [r for r in bot_only if r.bot_resolved is not None]
    resolved = [r for r in judged if r.bot_resolved]
    scores = [r.ces for r in rows if r.ces is not None]
    return {
        "conversations": len(rows),
        "handoffs": len(handed),
        "handoff_rate": round(len(handed) / len(rows), 4) if rows else 0.0,
        "asa_s": _mean(r.asa_s for r in handed),
        "first_response_s": _median(r.first_response_s for r in rows),
        "first_human_response_s": _median(r.first_human_response_s for r in handed),
        "resolution_s": _median(r.resolution_s for r in rows),
        "bot_resolution_rate": round(len(resolved) / len(judged), 4) if judged else None,
        "bot_resolved": len(resolved),
        "bot_unresolved": len(judged) - len(resolved),
        "bot_pending": len(bot_only) - len(judged),
        "ces_mean": round(mean(scores), 2) if scores else None,
        "ces_responses": len(scores),
        "sla_breaches": sum(1 for r in rows if r.sla_breached),
        "customer_turns_mean": _mean(float(r.customer_turns) for r in rows),
        "repeated_questions": sum(r.repeated_questions for r in rows),
        "recontact_rate": _rate([r.recontact_7d for r in rows]),
    }


def _rate(flags: Sequence[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return round(sum(known) / len(known), 4) if known else None


def grouped(rows: Sequence[ConversationFacts], by: str) -> list[dict[str, Any]]:
    if by not in GROUPS:
        raise ValueError(f"group by one of {', '.join(GROUPS)} (got {by!r})")
    groups: dict[str, list[ConversationFacts]] = {}
    for row in rows:
        groups.setdefault(str(getattr(row, by)), []).append(row)
    return [{by: key, **summarise(groups[key])} for key in sorted(groups)]


def compute_insights(
    records: Sequence[ConversationRecord],
    suggestion_stats: Mapping[str, float],
    taken: Mapping[str, FirstTaken] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    rows = conversation_facts(records, taken or {}, now)
    overall = summarise(rows)
    reasons = Counter(r.trigger for r in rows if r.handed_over)
    return {
        # the figures the console shows first (kept under their earlier names)
        "conversations": overall["conversations"],
        "resolution_rate": overall["bot_resolution_rate"],
        "takeover_rate": overall["handoff_rate"],
        "takeovers": overall["handoffs"],
        "takeover_reasons": dict(reasons.most_common()),
        "median_first_response_s": overall["first_response_s"],
        "median_human_response_s": overall["first_human_response_s"],
        "suggestion_acceptance_rate": round(float(suggestion_stats.get("acceptance_rate", 0.0)), 4),
        "suggestions": {k: int(v) for k, v in suggestion_stats.items() if k != "acceptance_rate"},
        "sentiment_over_time": sentiment_over_time(records),
        # the desk
        "overall": overall,
        "by": {group: grouped(rows, group) for group in GROUPS},
        "generated_at": now.isoformat(),
    }


def facts_csv(rows: Sequence[ConversationFacts]) -> str:
    out = io.StringIO()
    fields = list(ConversationFacts.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in asdict(row).items()})
    return out.getvalue()


def grouped_csv(groups: Sequence[Mapping[str, Any]]) -> str:
    if not groups:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(groups[0]), lineterminator="\n")
    writer.writeheader()
    for group in groups:
        writer.writerow({k: "" if v is None else v for k, v in group.items()})
    return out.getvalue()


def load_records(store: ConversationStore, limit: int = 1000) -> list[ConversationRecord]:
    """The latest `limit` conversations with their messages."""
    return [ConversationRecord(c, store.messages(c.id)) for c in store.list_conversations(limit=limit)]


TakenReader = Callable[[Sequence[str]], Mapping[str, FirstTaken]]


def insights_from_store(
    store: ConversationStore,
    limit: int = 1000,
    taken_reader: TakenReader | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    records = load_records(store, limit)
    taken = taken_reader([r.conversation.id for r in records]) if taken_reader else {}
    return compute_insights(records, store.suggestion_stats(), taken, now)


def facts_from_store(
    store: ConversationStore,
    limit: int = 1000,
    taken_reader: TakenReader | None = None,
    now: datetime | None = None,
) -> list[ConversationFacts]:
    records = load_records(store, limit)
    taken = taken_reader([r.conversation.id for r in records]) if taken_reader else {}
    return conversation_facts(records, taken, now or datetime.now(UTC))
