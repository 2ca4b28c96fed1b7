"""Reading the queue: a conversation's position, the team's expected wait (recent ASA, or Erlang C when
there is little history), what to tell the customer, and the agents' view with SLA time left."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from assistant.routing import notices
from assistant.routing.assign import HUMAN, WAITING, Assigner
from assistant.routing.context import DeskDb, as_utc, conversation_row
from assistant.routing.erlang import erlang_c_asa, expected_wait_s
from assistant.routing.hours import ALWAYS_OPEN, BusinessHours, is_open, next_open, parse_hours
from assistant.routing.models import (
    AgentStatus,
    DeskAgentRow,
    DeskEventRow,
    EventKind,
    TeamMemberRow,
    TeamRow,
)
from assistant.routing.priority import HELD_OFFSET, score_at
from assistant.routing.sla import SlaDue, SlaState, sla_state
from assistant.store.models import ConversationRow, ConversationStatus


@dataclass(frozen=True)
class TeamLoad:
    servers: int  # online capacity (conversation slots) of the team's agents in their hours
    free: int
    mean_handle_s: float
    estimate_s: float | None  # expected wait of a new arrival
    source: str  # recent_asa | erlang_c | none
    recent_answered: int
    arrivals_per_hour: float


@dataclass(frozen=True)
class QueueStatus:
    state: str  # bot | deferred | waiting | assigned | closed
    language: str
    position: int | None = None
    expected_wait_s: float | None = None
    team_id: str | None = None
    open_now: bool = True
    opens_at: datetime | None = None
    held: bool = False
    source: str = "none"
    text: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "position": self.position,
            "expected_wait_s": None if self.expected_wait_s is None else round(self.expected_wait_s, 1),
            "team_id": self.team_id,
            "open_now": self.open_now,
            "opens_at": self.opens_at.isoformat() if self.opens_at else None,
            "estimate_source": self.source,
            "text": self.text,
            "language": self.language,
        }


@dataclass
class QueueItem:
    conversation_id: str
    score: float
    position: int
    wait_seconds: float
    sla: SlaState
    team_id: str | None
    topic: str | None
    stage: str | None
    band: str | None
    held: bool
    deferred_until: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class QueueView:
    def __init__(self, db: DeskDb, assigner: Assigner) -> None:
        self.db = db
        self.assigner = assigner

    def team_hours(self, session: Session, team_id: str | None) -> tuple[BusinessHours, str]:
        team = session.get(TeamRow, team_id) if team_id else None
        hours = parse_hours(team.hours) if team is not None else ALWAYS_OPEN
        return hours, hours.timezone

    def team_load(self, session: Session, team_id: str | None, now: datetime) -> TeamLoad:
        cfg = self.db.config
        agents = select(DeskAgentRow.capacity, DeskAgentRow.load, DeskAgentRow.hours).where(
            DeskAgentRow.status == AgentStatus.ONLINE.value
        )
        if team_id:
            agents = agents.join(
                TeamMemberRow,
                and_(TeamMemberRow.agent_name == DeskAgentRow.name, TeamMemberRow.team_id == team_id),
            )
        rows = [
            r for r in session.execute(agents).all() if r.hours is None or is_open(parse_hours(r.hours), now)
        ]
        servers = sum(r.capacity for r in rows)
        free = sum(max(0, r.capacity - r.load) for r in rows)
        since = now - timedelta(seconds=cfg.asa_window_s)

        def events(*kinds: EventKind) -> Any:
            stmt = select(DeskEventRow.data).where(
                DeskEventRow.kind.in_([k.value for k in kinds]), DeskEventRow.at >= since
            )
            return stmt.where(DeskEventRow.team_id == team_id) if team_id else stmt

        waits = [
            float(d["waited_s"])
            for d in session.scalars(events(EventKind.ASSIGNED, EventKind.CLAIMED))
            if d.get("waited_s") is not None
        ]
        handles = [
            float(d["handle_s"])
            for d in session.scalars(events(EventKind.RELEASED))
            if d.get("handle_s") is not None
        ]
        arrivals = len(session.scalars(events(EventKind.ROUTED, EventKind.OPENED)).all())
        handle = sum(handles) / len(handles) if len(handles) >= cfg.asa_min_samples else cfg.default_handle_s
        rate = arrivals / cfg.asa_window_s
        estimate: float | None
        if len(waits) >= cfg.asa_min_samples:
            estimate, source = sum(waits) / len(waits), "recent_asa"
        elif servers > 0:
            asa = erlang_c_asa(rate, handle, servers)
            estimate, source = (None if math.isinf(asa) else asa), "erlang_c"
        else:
            estimate, source = None, "none"
        return TeamLoad(servers, free, handle, estimate, source, len(waits), round(rate * 3600, 2))

    def position(self, session: Session, row: ConversationRow) -> int:
        same_team = (
            ConversationRow.team_id.is_(None)
            if row.team_id is None
            else ConversationRow.team_id == row.team_id
        )
        ahead = session.scalar(
            select(func.count()).where(
                ConversationRow.status == WAITING, same_team, ConversationRow.rank > (row.rank or 0.0)
            )
        )
        return int(ahead or 0) + 1

    def status(self, conversation_id: str, now: datetime | None = None) -> QueueStatus:
        now = self.db.now(now)
        with self.db.sessions() as session:
            row = conversation_row(session, conversation_id)
            language = row.language or "en"
            hours, zone = self.team_hours(session, row.team_id)
            deferred = as_utc(row.deferred_until)
            if row.status == ConversationStatus.CLOSED.value:
                return QueueStatus("closed", language, team_id=row.team_id)
            if row.status == HUMAN:
                return QueueStatus(
                    "assigned", language, team_id=row.team_id, text=notices.text(language, "queue_assigned")
                )
            if row.status != WAITING:
                if deferred is not None and deferred > now:
                    when = notices.when_phrase(language, deferred, now, zone)
                    return QueueStatus(
                        "deferred",
                        language,
                        team_id=row.team_id,
                        open_now=False,
                        opens_at=deferred,
                        text=notices.text(language, "queue_closed", when=when),
                    )
                return QueueStatus("bot", language)
            position = self.position(session, row)
            open_now = is_open(hours, now)
            opens = None if open_now else next_open(hours, now)
            load = self.team_load(session, row.team_id, now)
            waited = max(0.0, (now - (as_utc(row.waiting_since) or now)).total_seconds())
            wait = expected_wait_s(
                position=position,
                servers=load.servers,
                free_slots=load.free,
                mean_handle_s=load.mean_handle_s,
                team_estimate_s=load.estimate_s,
                waited_s=waited,
            )
            if not open_now and opens is not None:
                wait = (opens - now).total_seconds() + (wait or 0.0)
            if wait is None or math.isinf(wait):
                # Nobody online: with no desk set up at all (agents only claim by hand), the configured
                # estimate; with agents who are all away, we do not make up a number.
                configured = session.scalar(select(func.count()).select_from(DeskAgentRow))
                wait = self.db.config.fallback_wait_s if not configured else None
            if wait is None:
                text = notices.text(language, "queue_update_unknown", position=position)
            else:
                text = notices.text(
                    language, "queue_update", position=position, wait=notices.wait_phrase(language, wait)
                )
            return QueueStatus(
                "waiting",
                language,
                position=position,
                expected_wait_s=wait,
                team_id=row.team_id,
                open_now=open_now,
                opens_at=opens,
                held=bool(row.held),
                source=load.source,
                text=text,
            )

    # --- the agents' view ---------------------------------------------------------------------------------
    def listing(
        self, now: datetime | None = None, limit: int = 50, team_id: str | None = None
    ) -> list[QueueItem]:
        """Waiting conversations in queue order (then those deferred to the team's opening)."""
        now = self.db.now(now)
        ageing = self.db.config.ageing_per_minute
        with self.db.sessions() as session:
            stmt = select(ConversationRow).where(ConversationRow.status == WAITING)
            if team_id:
                stmt = stmt.where(ConversationRow.team_id == team_id)
            rows = list(session.scalars(stmt.order_by(ConversationRow.rank.desc()).limit(limit)).all())
            deferred = session.scalars(
                select(ConversationRow)
                .where(
                    ConversationRow.status == ConversationStatus.BOT.value,
                    ConversationRow.deferred_until.is_not(None),
                    ConversationRow.deferred_until > now,
                )
                .order_by(ConversationRow.deferred_until, ConversationRow.waiting_since)
                .limit(limit)
            ).all()
            positions: dict[str | None, int] = {}
            items = []
            for row in [*rows, *deferred]:
                team_position = positions.get(row.team_id, 0) + 1
                positions[row.team_id] = team_position
                rank = row.rank if row.rank is not None else 0.0
                score = score_at(rank, now, ageing) + (HELD_OFFSET if row.held else 0.0)
                since = as_utc(row.waiting_since)
                due = SlaDue(as_utc(row.sla_first_due), as_utc(row.sla_resolution_due))
                items.append(
                    QueueItem(
                        conversation_id=row.id,
                        score=round(score, 4),
                        position=team_position,
                        wait_seconds=max(0.0, (now - since).total_seconds()) if since else 0.0,
                        sla=sla_state(
                            due, now, first_response_at=as_utc(row.first_human_reply_at), resolved_at=None
                        ),
                        team_id=row.team_id,
                        topic=row.topic,
                        stage=row.stage,
                        band=row.band,
                        held=bool(row.held),
                        deferred_until=as_utc(row.deferred_until) if row.status != WAITING else None,
                    )
                )
            return items

    def sla_of(self, conversation_id: str, now: datetime | None = None) -> SlaState:
        now = self.db.now(now)
        with self.db.sessions() as session:
            row = conversation_row(session, conversation_id)
            due = SlaDue(as_utc(row.sla_first_due), as_utc(row.sla_resolution_due))
            resolved = as_utc(row.closed_at) if row.status == ConversationStatus.CLOSED.value else None
            return sla_state(
                due, now, first_response_at=as_utc(row.first_human_reply_at), resolved_at=resolved
            )
