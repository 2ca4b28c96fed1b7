"""A handover, routed: what the conversation is about, which team, what priority, then either the queue
(and an agent at once when one is free) or - when the team is closed - a place first in line at opening
while the bot keeps helping. The customer is told which, in their language."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.db import columns, table_of
from assistant.routing import notices
from assistant.routing.assign import WAITING, Assigner, Assignment
from assistant.routing.choose import choose_team
from assistant.routing.classify import (
    classify_topic,
    conversation_language,
    journey_stage,
    mentioned_order_ids,
    order_value,
)
from assistant.routing.context import (
    DeskDb,
    as_utc,
    conversation_row,
    log_event,
    update_conversation,
)
from assistant.routing.directory import Directory
from assistant.routing.hours import ALWAYS_OPEN, next_open
from assistant.routing.models import EventKind
from assistant.routing.priority import Priority, PriorityInputs, compute_priority
from assistant.routing.queue import QueueStatus, QueueView
from assistant.routing.sla import due_times
from assistant.store.models import ConversationRow, ConversationStatus, MessageRole, MessageRow

OrdersOf = Callable[[str], list[dict[str, Any]]]
BOT = ConversationStatus.BOT.value
HISTORY_CONVERSATIONS = 10


@dataclass(frozen=True)
class RouteFacts:
    topic: str
    stage: str
    language: str
    order_value: float
    repeat_contact_days: float | None
    verified: bool
    origin: str | None


@dataclass(frozen=True)
class HandoverOutcome:
    conversation_id: str
    state: str  # assigned | waiting | deferred | unchanged
    status: ConversationStatus
    text: str
    queue: QueueStatus
    team_id: str | None = None
    priority: Priority | None = None
    facts: RouteFacts | None = None
    assignment: Assignment | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def handed_over(self) -> bool:
        return self.state in ("assigned", "waiting", "deferred")


def origin_of_ip(ip: str, salt: str) -> str:
    """A salted hash: the queue can count one IP's conversations without storing the address."""
    return "ip:" + hashlib.sha256(f"{salt}:{ip}".encode()).hexdigest()[:24]


@dataclass(eq=False)
class Handover:
    db: DeskDb
    assigner: Assigner
    queue: QueueView
    directory: Directory
    orders_of: OrdersOf | None = None

    # --- what the conversation is about ------------------------------------------------------------------
    def facts(
        self, session: Session, row: ConversationRow, decision: Mapping[str, Any], language: str | None
    ) -> RouteFacts:
        messages = session.scalars(
            select(MessageRow).where(MessageRow.conversation_id == row.id).order_by(MessageRow.seq)
        ).all()
        customer = [m.text for m in messages if m.role == MessageRole.CUSTOMER.value]
        tools = [str(t.get("name")) for m in messages for t in (m.tool_calls or [])]
        tool_orders = [
            str((t.get("arguments") or {}).get("order_id", ""))
            for m in messages
            for t in (m.tool_calls or [])
        ]
        mentioned = mentioned_order_ids([*customer, *tool_orders])
        orders = self.orders_of(row.user_id) if (self.orders_of and row.user_id) else []
        topic = classify_topic(customer, tools)
        trigger = decision.get("trigger")
        origin = f"user:{row.user_id}" if row.user_id else row.origin
        return RouteFacts(
            topic=topic,
            stage=journey_stage(str(trigger) if trigger else None, orders, mentioned).value,
            language=conversation_language(decision, customer, language or row.language),
            order_value=order_value(orders, mentioned),
            repeat_contact_days=self._repeat_days(session, row, topic),
            verified=row.user_id is not None,
            origin=origin,
        )

    def _repeat_days(self, session: Session, row: ConversationRow, topic: str) -> float | None:
        """Days since this customer's last other conversation on the same topic (None: first contact).
        Only a proven customer counts: an IP is not a person, and a flood must not earn a repeat bonus."""
        if not row.user_id:
            return None
        who = ConversationRow.user_id == row.user_id
        earlier = session.scalars(
            select(ConversationRow)
            .where(who, ConversationRow.id != row.id, ConversationRow.created_at <= row.created_at)
            .order_by(ConversationRow.created_at.desc())
            .limit(HISTORY_CONVERSATIONS)
        ).all()
        mine = as_utc(row.created_at) or self.db.now()
        for other in earlier:
            other_topic = other.topic
            if other_topic is None:
                texts = session.scalars(
                    select(MessageRow.text).where(
                        MessageRow.conversation_id == other.id, MessageRow.role == MessageRole.CUSTOMER.value
                    )
                ).all()
                other_topic = classify_topic(list(texts))
            if other_topic == topic:
                return max(0.0, (mine - (as_utc(other.created_at) or mine)).total_seconds() / 86400)
        return None

    # --- the handover ---------------------------------------------------------------------------------
    def hand_over(
        self,
        conversation_id: str,
        decision: Mapping[str, Any],
        language: str | None = None,
        now: datetime | None = None,
    ) -> HandoverOutcome:
        now = self.db.now(now)
        with self.db.sessions() as session:
            row = conversation_row(session, conversation_id)
            deferred = as_utc(row.deferred_until)
            if row.status != BOT or (deferred is not None and deferred > now):
                return self._unchanged(conversation_id, now)
            facts = self.facts(session, row, decision, language)
        choice = choose_team(
            self.directory.teams(), topic=facts.topic, language=facts.language, stage=facts.stage, now=now
        )
        inputs = PriorityInputs(
            severity=float(decision.get("severity", 0.5) or 0.0),
            trigger=str(decision.get("trigger")) if decision.get("trigger") else None,
            **columns(facts, "topic stage language order_value repeat_contact_days verified"),
        )
        priority = compute_priority(inputs, self.db.config.rules)
        return self.enqueue(
            conversation_id, dict(decision), facts, priority, choice.team_id, now, [choice.reason]
        )

    def enqueue(
        self,
        conversation_id: str,
        decision: dict[str, Any],
        facts: RouteFacts,
        priority: Priority,
        team_id: str | None,
        now: datetime,
        reasons: list[str] | None = None,
    ) -> HandoverOutcome:
        """Queue it (or defer it to the team's opening), then try to assign it at once."""
        with self.db.sessions() as session:
            team_hours = self.queue.team_hours(session, team_id)[0] if team_id else ALWAYS_OPEN
        opens = next_open(team_hours, now)
        open_now = opens is None or opens <= now  # a team that never opens again does not hold anyone back
        due = due_times(self.db.config.sla[priority.band], team_hours, now)
        values: dict[str, Any] = {
            "takeover": {
                **decision,
                "routing": {"team": team_id, "priority": priority.value, "reasons": priority.reasons},
            },
            "priority": priority.value,
            "band": priority.band,
            "team_id": team_id,
            "topic": facts.topic,
            "stage": facts.stage,
            "language": facts.language,
            "origin": facts.origin,
            "waiting_since": now,
            "held": False,
            "escalation_level": 0,
            "sla_first_due": due.first_response,
            "sla_resolution_due": due.resolution,
            "handovers": ConversationRow.handovers + 1,
            "updated_at": now,
        }
        if open_now:
            values["status"] = WAITING
        else:
            values["deferred_until"] = opens
        with self.db.sessions.begin() as session:
            changed = update_conversation(session, conversation_id, ConversationRow.status == BOT, **values)
            if not changed:
                return self._unchanged(conversation_id, now)
            row = session.get(ConversationRow, conversation_id)
            assert row is not None
            session.refresh(row)
            row.rank = self.assigner.row_rank(row, 0.0, False)
            if open_now:
                self.assigner.rerank_origin(session, row.origin)
            kind = EventKind.ROUTED if open_now else EventKind.DEFERRED
            log_event(
                session,
                kind,
                now,
                conversation_id=conversation_id,
                team_id=team_id,
                topic=facts.topic,
                stage=facts.stage,
                priority=priority.value,
                band=priority.band,
                reasons=[*(reasons or []), *priority.reasons],
            )
        assignment = self.assigner.assign_conversation(conversation_id, now) if open_now else None
        if assignment is not None:  # taken at once: nothing to compute about the queue
            queue = QueueStatus(
                "assigned",
                facts.language,
                team_id=team_id,
                text=notices.text(facts.language, "queue_assigned"),
            )
        else:
            queue = self.queue.status(conversation_id, now)
        text = self.customer_text(queue, facts, now, team_hours.timezone)
        state = "assigned" if assignment else ("waiting" if open_now else "deferred")
        status = (
            ConversationStatus.HUMAN
            if assignment
            else (ConversationStatus.WAITING_FOR_HUMAN if open_now else ConversationStatus.BOT)
        )
        return HandoverOutcome(
            conversation_id,
            state,
            status,
            text,
            queue,
            team_id,
            priority,
            facts,
            assignment,
            [*(reasons or []), *priority.reasons],
        )

    def customer_text(self, queue: QueueStatus, facts: RouteFacts, now: datetime, timezone: str) -> str:
        language = facts.language
        if queue.state == "assigned":
            return notices.text(language, "handover_assigned")
        if queue.state == "deferred" and queue.opens_at is not None:
            when = notices.when_phrase(language, queue.opens_at, now, timezone)
            return notices.text(
                language, "handover_closed", when=when, needs=notices.needs_phrase(language, facts.topic)
            )
        if queue.expected_wait_s is None:
            return notices.text(language, "handover_queued_unknown", position=queue.position or 1)
        return notices.text(
            language,
            "handover_queued",
            position=queue.position or 1,
            wait=notices.wait_phrase(language, queue.expected_wait_s),
        )

    def _unchanged(self, conversation_id: str, now: datetime) -> HandoverOutcome:
        queue = self.queue.status(conversation_id, now)
        status = {
            "assigned": ConversationStatus.HUMAN,
            "waiting": ConversationStatus.WAITING_FOR_HUMAN,
            "closed": ConversationStatus.CLOSED,
        }.get(queue.state, ConversationStatus.BOT)
        return HandoverOutcome(conversation_id, "unchanged", status, queue.text, queue)

    # --- the team opens ----------------------------------------------------------------------------------
    def open_deferred(self, now: datetime | None = None) -> list[str]:
        """Conversations deferred to an opening that has come: into the queue, first in line."""
        now = self.db.now(now)
        opened: list[str] = []
        with self.db.sessions() as session:
            due = session.execute(
                select(ConversationRow.id, ConversationRow.deferred_until).where(
                    ConversationRow.status == BOT,
                    ConversationRow.deferred_until.is_not(None),
                    ConversationRow.deferred_until <= now,
                    ConversationRow.rank.is_not(None),
                )
            ).all()
        for cid, when in due:
            with self.db.sessions.begin() as session:
                moved = session.execute(
                    update(ConversationRow)
                    .where(
                        ConversationRow.id == cid,
                        ConversationRow.status == BOT,
                        ConversationRow.deferred_until == when,
                    )
                    .values(status=WAITING, updated_at=now)
                )
                if not moved.rowcount:  # type: ignore[attr-defined]
                    continue
                row = session.get(ConversationRow, cid)
                assert row is not None
                row.rank = self.assigner.row_rank(row, 0.0, False)
                self.assigner.rerank_origin(session, row.origin)
                log_event(session, EventKind.OPENED, now, conversation_id=cid, team_id=row.team_id)
            opened.append(cid)
        return opened

    def record_origin(self, conversation_id: str, ip: str | None) -> None:
        if not ip:
            return
        with self.db.sessions.begin() as session:  # a table UPDATE: no ORM synchronisation to pay for
            table = table_of(ConversationRow)
            session.execute(
                update(table)
                .where(table.c.id == conversation_id, table.c.origin.is_(None))
                .values(origin=origin_of_ip(ip, self.db.config.origin_salt))
            )
