"""Who gets which conversation: an eligible online agent with free capacity (least loaded, then longest
idle), in queue order. Safe under concurrent assigners (several API workers):

- one assignment = one transaction that first takes the conversation with a conditional UPDATE (only if it
  still waits and nobody has it) and then a capacity slot with another (`load < capacity` and online);
  if either matches no row, the transaction rolls back. PostgreSQL re-checks both conditions after any
  row-lock wait, so two workers can never give one conversation to two agents or push an agent past
  capacity; SQLite serialises writers.
- rows are always locked conversation first, agent second (no deadlock cycle); the pull path picks its
  conversation with SELECT ... FOR UPDATE SKIP LOCKED, so parallel pullers take different conversations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from assistant.routing.context import DeskDb, as_utc, log_event, update_conversation
from assistant.routing.hours import is_open, parse_hours
from assistant.routing.models import AgentStatus, DeskAgentRow, DeskEventRow, EventKind, TeamMemberRow
from assistant.routing.priority import fair_share, rank_key, unverified_pool_shares
from assistant.store.models import ConversationRow, ConversationStatus, MessageRole, MessageRow

WAITING = ConversationStatus.WAITING_FOR_HUMAN.value
HUMAN = ConversationStatus.HUMAN.value


def owned_by(agent: str | None, now: datetime) -> dict[str, Any]:
    """The columns that give a conversation to `agent` (a person has it) or, for None, back to the queue
    (waiting, nobody's)."""
    return {
        "status": WAITING if agent is None else HUMAN,
        "assigned_agent": agent,
        "assigned_at": None if agent is None else now,
        "updated_at": now,
    }


class Attempt(Enum):
    ASSIGNED = "assigned"
    CONVERSATION_GONE = "conversation_gone"  # someone else took it, or it was closed
    AGENT_FULL = "agent_full"  # at capacity, offline, or gone


class RollBack(Exception):  # noqa: N818 - control flow: undo the transaction, keep the outcome
    def __init__(self, attempt: Attempt) -> None:
        super().__init__(attempt.value)
        self.attempt = attempt


@dataclass
class FreeAgent:
    name: str
    load: int
    free: int
    last_assigned_at: datetime | None
    teams: set[str] = field(default_factory=set)

    def sort_key(self) -> tuple[int, float]:
        idle_since = self.last_assigned_at.timestamp() if self.last_assigned_at else 0.0
        return self.load, idle_since


@dataclass(frozen=True)
class Assignment:
    conversation_id: str
    agent: str
    team_id: str | None
    waited_s: float


def system_note(session: Session, conversation_id: str, text: str, at: datetime) -> None:
    """A system line in the transcript, in the caller's transaction (the conversation row is locked by
    the caller's UPDATE, so the next seq is ours)."""
    seq = session.scalar(
        select(func.max(MessageRow.seq)).where(MessageRow.conversation_id == conversation_id)
    )
    session.add(
        MessageRow(
            conversation_id=conversation_id,
            seq=(seq or 0) + 1,
            role=MessageRole.SYSTEM.value,
            text=text,
            citations=[],
            tool_calls=[],
            created_at=at,
        )
    )


def origin_kind(origin: str | None) -> str:
    return "customer" if (origin or "").startswith("user:") else "IP"


class Assigner:
    def __init__(self, db: DeskDb) -> None:
        self.db = db

    # --- queue order ---------------------------------------------------------------------------------
    def row_rank(self, row: ConversationRow, penalty: float, held: bool) -> float:
        cfg = self.db.config
        bonus = (cfg.verified_bonus if row.user_id else 0.0) + (
            cfg.after_hours_bonus if row.deferred_until else 0.0
        )
        since = as_utc(row.waiting_since) or self.db.now()
        return rank_key(
            row.priority,
            since,
            ageing_per_minute=cfg.ageing_per_minute,
            bonus=bonus,
            penalty=penalty,
            held=held,
        )

    def rerank_origin(self, session: Session, origin: str | None) -> None:
        """Fair share inside one origin: its n-th waiting conversation pays n penalties, held past the cap.
        Unverified origins (an IP, or none) share one pool on top (priority.unverified_pool_shares), so the
        whole pool is ranked again whenever one of its conversations comes or goes."""
        cfg = self.db.config
        if origin_kind(origin) != "customer":
            self.rerank_unverified(session)
            return
        rows = session.scalars(
            select(ConversationRow)
            .where(ConversationRow.origin == origin, ConversationRow.status == WAITING)
            .order_by(ConversationRow.waiting_since, ConversationRow.id)
        ).all()
        for index, row in enumerate(rows):
            share = fair_share(
                index,
                per_conversation=cfg.origin_penalty,
                cap=cfg.max_waiting_per_contact,
                origin_kind="customer",
            )
            row.held = share.held
            row.rank = self.row_rank(row, share.penalty, share.held)

    def rerank_unverified(self, session: Session) -> None:
        """Shares from a read of the whole pool; ranks written only on the rows this transaction can lock
        without waiting (FOR UPDATE SKIP LOCKED on PostgreSQL): concurrent handovers on other workers never
        wait on each other's pool rows (that deadlocked), and a skipped row is ranked again by the next
        handover or departure of the pool."""
        cfg = self.db.config
        pool = session.execute(
            select(ConversationRow.id, ConversationRow.origin)
            .where(ConversationRow.status == WAITING, ConversationRow.user_id.is_(None))
            .order_by(ConversationRow.waiting_since, ConversationRow.id)
        ).all()
        shares = unverified_pool_shares(
            [origin for _, origin in pool],
            origin_penalty=cfg.origin_penalty,
            pool_penalty=cfg.unverified_pool_penalty,
            cap_of=lambda o: 0 if o is None else cfg.max_waiting_per_ip,
            kind_of=origin_kind,
        )
        by_id = {cid: share for (cid, _), share in zip(pool, shares, strict=True)}
        if not by_id:
            return
        lockable = session.scalars(
            select(ConversationRow)
            .where(ConversationRow.id.in_(list(by_id)))
            .order_by(ConversationRow.id)
            .with_for_update(skip_locked=True)
        ).all()
        for row in lockable:
            share = by_id[row.id]
            row.held = share.held
            row.rank = self.row_rank(row, share.penalty, share.held)

    # --- who is free ---------------------------------------------------------------------------------
    def free_agents(self, session: Session, now: datetime) -> list[FreeAgent]:
        rows = session.execute(
            select(
                DeskAgentRow.name,
                DeskAgentRow.load,
                DeskAgentRow.capacity,
                DeskAgentRow.hours,
                DeskAgentRow.last_assigned_at,
            ).where(
                DeskAgentRow.status == AgentStatus.ONLINE.value, DeskAgentRow.load < DeskAgentRow.capacity
            )
        ).all()
        if not rows:
            return []
        names = [r.name for r in rows]
        teams: dict[str, set[str]] = {n: set() for n in names}
        for team_id, agent in session.execute(
            select(TeamMemberRow.team_id, TeamMemberRow.agent_name).where(TeamMemberRow.agent_name.in_(names))
        ).all():
            teams[agent].add(team_id)
        free = [
            FreeAgent(r.name, r.load, r.capacity - r.load, as_utc(r.last_assigned_at), teams[r.name])
            for r in rows
            if r.hours is None or is_open(parse_hours(r.hours), now)
        ]
        free.sort(key=FreeAgent.sort_key)
        return free

    @staticmethod
    def eligible(agent: FreeAgent, team_id: str | None, excluded: set[str]) -> bool:
        return agent.free > 0 and agent.name not in excluded and (team_id is None or team_id in agent.teams)

    def excluded_agents(self, session: Session, conversation_ids: list[str]) -> dict[str, set[str]]:
        """Agents who let these conversations go unanswered: they are not offered them again."""
        excluded: dict[str, set[str]] = {}
        if not conversation_ids:
            return excluded
        for cid, agent in session.execute(
            select(DeskEventRow.conversation_id, DeskEventRow.agent).where(
                DeskEventRow.kind == EventKind.REASSIGNED.value,
                DeskEventRow.conversation_id.in_(conversation_ids),
            )
        ).all():
            if cid and agent:
                excluded.setdefault(cid, set()).add(agent)
        return excluded

    # --- one assignment ------------------------------------------------------------------------------
    def try_assign(
        self, conversation_id: str, agent: str, now: datetime, kind: EventKind = EventKind.ASSIGNED
    ) -> Attempt:
        try:
            with self.db.sessions.begin() as session:
                attempt = self.assign_in(session, conversation_id, agent, now, kind)
                if attempt is not Attempt.ASSIGNED:
                    raise RollBack(attempt)
                return attempt
        except RollBack as undone:
            return undone.attempt

    def assign_in(
        self, session: Session, conversation_id: str, agent: str, now: datetime, kind: EventKind
    ) -> Attempt:
        """Inside the caller's transaction; the caller rolls back unless ASSIGNED."""
        taken = update_conversation(
            session,
            conversation_id,
            ConversationRow.status == WAITING,
            ConversationRow.assigned_agent.is_(None),
            **owned_by(agent, now),
        )
        if not taken:
            return Attempt.CONVERSATION_GONE
        slot = session.execute(
            update(DeskAgentRow)
            .where(
                DeskAgentRow.name == agent,
                DeskAgentRow.status == AgentStatus.ONLINE.value,
                DeskAgentRow.load < DeskAgentRow.capacity,
            )
            .values(load=DeskAgentRow.load + 1, last_assigned_at=now)
        )
        if slot.rowcount == 0:  # type: ignore[attr-defined]
            return Attempt.AGENT_FULL
        row = session.get(ConversationRow, conversation_id)
        assert row is not None
        waited = max(0.0, (now - (as_utc(row.waiting_since) or now)).total_seconds())
        self.record_taken(session, row, agent, kind, waited, f"Assigned to {agent} by routing.", now)
        return Attempt.ASSIGNED

    def record_taken(
        self,
        session: Session,
        row: ConversationRow,
        agent: str,
        kind: EventKind,
        waited_s: float | None,
        note: str,
        now: datetime,
    ) -> None:
        """A conversation just went to `agent` (routing or a claim): the event with how long it waited, the
        transcript's system line, and the fresh ranks of its origin's other waiting conversations."""
        log_event(
            session, kind, now, conversation_id=row.id, agent=agent, team_id=row.team_id, waited_s=waited_s
        )
        system_note(session, row.id, note, now)
        self.rerank_origin(session, row.origin)

    # --- pushing waiting conversations to free agents --------------------------------------------------
    def dispatch(self, now: datetime | None = None, limit: int = 200) -> list[Assignment]:
        """Assign waiting conversations, most urgent first, while eligible agents have free slots."""
        now = self.db.now(now)
        with self.db.sessions() as session:
            free = self.free_agents(session, now)
            if not free:
                return []
            waiting = session.execute(
                select(ConversationRow.id, ConversationRow.team_id, ConversationRow.waiting_since)
                .where(ConversationRow.status == WAITING, ConversationRow.assigned_agent.is_(None))
                .order_by(ConversationRow.rank.desc())
                .limit(limit)
            ).all()
            excluded = self.excluded_agents(session, [w.id for w in waiting])
        done: list[Assignment] = []
        for item in waiting:
            if not any(a.free > 0 for a in free):
                break
            for agent in [a for a in free if self.eligible(a, item.team_id, excluded.get(item.id, set()))]:
                attempt = self.try_assign(item.id, agent.name, now)
                if attempt is Attempt.ASSIGNED:
                    agent.free, agent.load, agent.last_assigned_at = agent.free - 1, agent.load + 1, now
                    free.sort(key=FreeAgent.sort_key)
                    waited = max(0.0, (now - (as_utc(item.waiting_since) or now)).total_seconds())
                    done.append(Assignment(item.id, agent.name, item.team_id, waited))
                    break
                if attempt is Attempt.CONVERSATION_GONE:
                    break
                agent.free = 0  # full or gone since we looked
        return done

    def assign_conversation(self, conversation_id: str, now: datetime | None = None) -> Assignment | None:
        """The routing decision for one waiting conversation (what a handover does)."""
        now = self.db.now(now)
        with self.db.sessions() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None or row.status != WAITING or row.assigned_agent is not None:
                return None
            team_id, since = row.team_id, as_utc(row.waiting_since)
            candidates = [a for a in self.free_agents(session, now) if self.eligible(a, team_id, set())]
            excluded = self.excluded_agents(session, [conversation_id]).get(conversation_id, set())
        for agent in candidates:
            if agent.name in excluded:
                continue
            attempt = self.try_assign(conversation_id, agent.name, now)
            if attempt is Attempt.ASSIGNED:
                return Assignment(
                    conversation_id, agent.name, team_id, max(0.0, (now - (since or now)).total_seconds())
                )
            if attempt is Attempt.CONVERSATION_GONE:
                return None
        return None

    # --- an agent pulling the next conversation -------------------------------------------------------
    def next_for_agent(self, agent: str, now: datetime | None = None) -> Assignment | None:
        """The most urgent waiting conversation this agent may take, taken for them (SKIP LOCKED: parallel
        pullers never block on, or take, the same row)."""
        now = self.db.now(now)
        try:
            return self._pull(agent, now)
        except RollBack:
            return None

    def pick_for(self, session: Session, agent: str) -> Any:
        """The decision alone: this agent's most urgent waiting conversation (id, team, waiting_since), row
        locked and skipped by parallel pullers; None when the agent cannot take one or nothing waits.

        One indexed query per team the agent serves (and one for conversations with no team), each the
        head of that team's queue in `ix_conv_queue` order; the best head wins."""
        me = session.execute(
            select(DeskAgentRow.status, DeskAgentRow.load, DeskAgentRow.capacity).where(
                DeskAgentRow.name == agent
            )
        ).first()
        if me is None or me.status != AgentStatus.ONLINE.value or me.load >= me.capacity:
            return None
        teams: list[str | None] = [
            *session.scalars(select(TeamMemberRow.team_id).where(TeamMemberRow.agent_name == agent)).all(),
            None,
        ]
        heads = []
        for team in teams:
            same_team = ConversationRow.team_id.is_(None) if team is None else ConversationRow.team_id == team
            head = session.execute(
                select(
                    ConversationRow.id,
                    ConversationRow.team_id,
                    ConversationRow.waiting_since,
                    ConversationRow.rank,
                )
                .where(ConversationRow.status == WAITING, same_team, ConversationRow.assigned_agent.is_(None))
                .order_by(ConversationRow.rank.desc())
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if head is not None:
                heads.append(head)
        return max(heads, key=lambda h: h.rank if h.rank is not None else float("-inf"), default=None)

    def _pull(self, agent: str, now: datetime) -> Assignment | None:
        with self.db.sessions.begin() as session:
            pick = self.pick_for(session, agent)
            if pick is None:
                return None
            attempt = self.assign_in(session, pick.id, agent, now, EventKind.ASSIGNED)
            if attempt is not Attempt.ASSIGNED:
                raise RollBack(attempt)
            waited = max(0.0, (now - (as_utc(pick.waiting_since) or now)).total_seconds())
            return Assignment(pick.id, agent, pick.team_id, waited)

    # --- releasing a slot ----------------------------------------------------------------------------
    def release_in(self, session: Session, row: ConversationRow, now: datetime, why: str) -> None:
        """The agent who held `row` gets the slot back (call before changing status / owner)."""
        if row.status != HUMAN or not row.assigned_agent:
            return
        session.execute(
            update(DeskAgentRow)
            .where(DeskAgentRow.name == row.assigned_agent, DeskAgentRow.load > 0)
            .values(load=DeskAgentRow.load - 1)
        )
        assigned = as_utc(row.assigned_at)
        handle = max(0.0, (now - assigned).total_seconds()) if assigned else None
        log_event(
            session,
            EventKind.RELEASED,
            now,
            conversation_id=row.id,
            agent=row.assigned_agent,
            team_id=row.team_id,
            why=why,
            handle_s=handle,
        )

    def recount_loads(self) -> dict[str, int]:
        """Repair tool (not run automatically): set every agent's load from the conversations they hold."""
        with self.db.sessions.begin() as session:
            counts = dict(
                session.execute(
                    select(ConversationRow.assigned_agent, func.count())
                    .where(ConversationRow.status == HUMAN, ConversationRow.assigned_agent.is_not(None))
                    .group_by(ConversationRow.assigned_agent)
                ).all()
            )
            for agent in session.scalars(select(DeskAgentRow).with_for_update()).all():
                agent.load = int(counts.get(agent.name, 0))
            return {str(k): int(v) for k, v in counts.items()}
