"""The desk's clock work, run every few seconds by whichever worker gets there (each step is a conditional
UPDATE, so two workers sweeping at once do each thing once): open deferred conversations when their team
opens, re-assign conversations an agent left unanswered, escalate SLA breaches (raise the priority, tell the
team lead over a webhook), and hand waiting conversations to agents with free slots."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from assistant.routing.assign import HUMAN, WAITING, Assigner, Assignment, owned_by, system_note
from assistant.routing.context import DeskDb, as_utc, log_event, update_conversation
from assistant.routing.handover import Handover
from assistant.routing.models import DeskEventRow, EventKind, TeamRow
from assistant.routing.notify import Delivery, Notifier
from assistant.routing.priority import band_of
from assistant.store.models import ConversationRow

OWNER_EVENTS = (EventKind.ASSIGNED.value, EventKind.CLAIMED.value, EventKind.TRANSFERRED.value)


@dataclass
class SweepReport:
    opened: list[str] = field(default_factory=list)
    reassigned: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    notified: list[Delivery] = field(default_factory=list)
    assigned: list[Assignment] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "opened": self.opened,
            "reassigned": self.reassigned,
            "escalated": self.escalated,
            "notified": [
                {"url": d.url, "ok": d.ok, "status_code": d.status_code, "error": d.error}
                for d in self.notified
            ],
            "assigned": [{"conversation_id": a.conversation_id, "agent": a.agent} for a in self.assigned],
        }


class Sweeper:
    def __init__(self, db: DeskDb, assigner: Assigner, handover: Handover, notifier: Notifier) -> None:
        self.db = db
        self.assigner = assigner
        self.handover = handover
        self.notifier = notifier
        self._lock = threading.Lock()
        self._last = float("-inf")

    def maybe_sweep(self, now: datetime | None = None) -> SweepReport | None:
        """At most one sweep per interval in this process (requests call this; it is cheap when idle)."""
        with self._lock:
            if time.monotonic() - self._last < self.db.config.sweep_interval_s:
                return None
            self._last = time.monotonic()
        return self.sweep(now)

    def sweep(self, now: datetime | None = None) -> SweepReport:
        now = self.db.now(now)
        report = SweepReport()
        report.opened = self.handover.open_deferred(now)
        report.reassigned = self.reassign_unanswered(now)
        report.escalated, report.notified = self.escalate(now)
        report.assigned = self.assigner.dispatch(now)
        return report

    # --- nobody answered -------------------------------------------------------------------------------
    def reassign_unanswered(self, now: datetime) -> list[str]:
        cutoff = now - timedelta(seconds=self.db.config.reassign_after_s)
        with self.db.sessions() as session:
            rows = session.execute(
                select(ConversationRow.id, ConversationRow.assigned_agent, ConversationRow.assigned_at).where(
                    ConversationRow.status == HUMAN,
                    ConversationRow.first_human_reply_at.is_(None),
                    ConversationRow.assigned_at.is_not(None),
                    ConversationRow.assigned_at <= cutoff,
                )
            ).all()
            latest: dict[str, str] = {}
            if rows:
                for cid, kind in session.execute(
                    select(DeskEventRow.conversation_id, DeskEventRow.kind)
                    .where(
                        DeskEventRow.conversation_id.in_([r.id for r in rows]),
                        DeskEventRow.kind.in_(OWNER_EVENTS),
                    )
                    .order_by(DeskEventRow.id)
                ).all():
                    latest[str(cid)] = str(kind)
        moved = []
        for cid, agent, assigned_at in rows:
            if latest.get(cid) == EventKind.CLAIMED.value:
                continue  # the agent took it themselves: they are there
            with self.db.sessions.begin() as session:
                row = session.get(ConversationRow, cid)
                if (
                    row is None
                    or row.assigned_agent != agent
                    or row.status != HUMAN
                    or row.first_human_reply_at
                ):
                    continue
                self.assigner.release_in(session, row, now, "no answer")
                done = update_conversation(
                    session,
                    cid,
                    ConversationRow.assigned_agent == agent,
                    ConversationRow.status == HUMAN,
                    ConversationRow.first_human_reply_at.is_(None),
                    **owned_by(None, now),
                )
                if not done:
                    continue
                session.refresh(row)
                row.rank = self.assigner.row_rank(row, 0.0, False)
                self.assigner.rerank_origin(session, row.origin)
                waited = (now - (as_utc(assigned_at) or now)).total_seconds()
                log_event(
                    session,
                    EventKind.REASSIGNED,
                    now,
                    conversation_id=cid,
                    agent=agent,
                    team_id=row.team_id,
                    unanswered_s=round(waited, 1),
                )
                system_note(
                    session,
                    cid,
                    f"No answer from {agent} in {int(waited)} s: back in the queue for someone else.",
                    now,
                )
            moved.append(cid)
        return moved

    # --- SLA breaches ------------------------------------------------------------------------------------
    def escalate(self, now: datetime) -> tuple[list[str], list[Delivery]]:
        boost = self.db.config.escalation_boost
        breaches: list[tuple[str, str]] = []  # (conversation id, which target)
        with self.db.sessions() as session:
            open_rows = ConversationRow.status.in_([WAITING, HUMAN])
            first = session.scalars(
                select(ConversationRow.id).where(
                    open_rows,
                    ConversationRow.first_human_reply_at.is_(None),
                    ConversationRow.sla_first_due <= now,
                    ConversationRow.escalation_level == 0,
                )
            ).all()
            resolution = session.scalars(
                select(ConversationRow.id).where(
                    open_rows, ConversationRow.sla_resolution_due <= now, ConversationRow.escalation_level < 2
                )
            ).all()
        breaches = [(cid, "first_response") for cid in first] + [
            (cid, "resolution") for cid in resolution if cid not in first
        ]
        escalated: list[str] = []
        payloads: list[tuple[str, dict[str, Any]]] = []
        for cid, target in breaches:
            level = 1 if target == "first_response" else 2
            with self.db.sessions.begin() as session:
                row = session.get(ConversationRow, cid)
                if row is None or row.escalation_level >= level:
                    continue
                raise_by = boost if row.status == WAITING and level == 1 else 0.0
                new_priority = round(row.priority + raise_by, 4)
                done = update_conversation(
                    session,
                    cid,
                    ConversationRow.escalation_level < level,
                    escalation_level=level,
                    priority=new_priority,
                    band=band_of(new_priority),
                    rank=(row.rank or 0.0) + raise_by,
                    updated_at=now,
                )
                if not done:
                    continue
                log_event(
                    session,
                    EventKind.ESCALATED,
                    now,
                    conversation_id=cid,
                    team_id=row.team_id,
                    agent=row.assigned_agent,
                    sla=target,
                    raised_by=raise_by,
                )
                team = session.get(TeamRow, row.team_id) if row.team_id else None
                if team is not None and team.lead_webhook_url:
                    payload = breach_payload(row, team, target, new_priority, now)
                    payloads.append((team.lead_webhook_url, payload))
            escalated.append(cid)
        deliveries = []
        for url, payload in payloads:
            delivery = self.notifier(url, payload)
            deliveries.append(delivery)
            with self.db.sessions.begin() as session:
                log_event(
                    session,
                    EventKind.NOTIFIED,
                    now,
                    conversation_id=payload["conversation_id"],
                    team_id=payload["team"],
                    ok=delivery.ok,
                    status_code=delivery.status_code,
                    error=delivery.error,
                )
        return escalated, deliveries


def breach_payload(
    row: ConversationRow, team: TeamRow, target: str, priority: float, now: datetime
) -> dict[str, Any]:
    """What the team lead's webhook receives (with a `text` line for Slack-style incoming webhooks)."""
    since = as_utc(row.waiting_since)
    due = as_utc(row.sla_first_due if target == "first_response" else row.sla_resolution_due)
    holder = f", held by {row.assigned_agent}" if row.assigned_agent else ", still waiting"
    return {
        "event": "sla_breach",
        "sla": target,
        "conversation_id": row.id,
        "team": team.id,
        "assigned_agent": row.assigned_agent,
        "priority": priority,
        "band": band_of(priority),
        "waited_s": round((now - since).total_seconds(), 1) if since else None,
        "due": due.isoformat() if due else None,
        "text": f"SLA breach ({target.replace('_', ' ')}) in team {team.name}: conversation {row.id}{holder}",
    }
