"""Changes of owner that people make: claim, assign by a lead, hand back, close, transfer to an agent or a
team. Each is one transaction that moves the conversation and the agents' capacity slots together, with a
system line in the transcript and an event in the log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict, Unpack

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from assistant.routing.assign import HUMAN, WAITING, Assigner, Attempt, owned_by, system_note
from assistant.routing.context import (
    ConflictError,
    DeskDb,
    NotFoundError,
    as_utc,
    conversation_row,
    log_event,
    update_conversation,
)
from assistant.routing.models import AgentStatus, DeskAgentRow, EventKind, TeamMemberRow, TeamRow
from assistant.store.models import ConversationRow, ConversationStatus

CLOSED = ConversationStatus.CLOSED.value
BOT = ConversationStatus.BOT.value


def _describe(row: ConversationRow) -> str:
    return f"conversation is {row.status}" + (
        f" and owned by {row.assigned_agent}" if row.assigned_agent else ""
    )


class TransferTarget(TypedDict, total=False):
    """Where `Ownership.transfer` sends a conversation: exactly one of to_agent, to_team, with a note."""

    to_agent: str | None
    to_team: str | None
    note: str


def _update_or_conflict(
    session: Session, conversation_id: str, /, *conditions: ColumnElement[bool], **values: Any
) -> None:
    """update_conversation, or a ConflictError when the conversation changed meanwhile (a condition no
    longer holds)."""
    if not update_conversation(session, conversation_id, *conditions, **values):
        raise ConflictError("the conversation changed meanwhile; reload it")


class Ownership:
    def __init__(self, db: DeskDb, assigner: Assigner) -> None:
        self.db = db
        self.assigner = assigner

    @staticmethod
    def _agent_refusal(agent: DeskAgentRow | None, name: str, *, yourself: bool) -> str | None:
        who = "you are" if yourself else f"agent {name} is"
        if agent is None:
            return None if yourself else f"agent {name} is not on the desk"
        if agent.status == AgentStatus.OFFLINE.value:
            return f"{who} offline" + (
                ": set your status to online or away to take conversations" if yourself else ""
            )
        if agent.load >= agent.capacity:
            return f"{who} at capacity ({agent.load} of {agent.capacity} conversations)"
        return None

    def _take_slot(self, session: Session, name: str) -> bool:
        slot = session.execute(
            update(DeskAgentRow)
            .where(
                DeskAgentRow.name == name,
                DeskAgentRow.status != AgentStatus.OFFLINE.value,
                DeskAgentRow.load < DeskAgentRow.capacity,
            )
            .values(load=DeskAgentRow.load + 1, last_assigned_at=self.db.now())
        )
        return bool(slot.rowcount)  # type: ignore[attr-defined]

    # --- claim / assign -------------------------------------------------------------------------------
    def claim(self, conversation_id: str, agent: str, now: datetime | None = None) -> None:
        """The agent takes it. Agents on the desk need to be online or away and below capacity; a key that
        is not on the desk (no routing set up) claims as before, without capacity."""
        now = self.db.now(now)
        with self.db.sessions.begin() as session:
            me = session.get(DeskAgentRow, agent)
            refusal = self._agent_refusal(me, agent, yourself=True)
            row = conversation_row(session, conversation_id)
            if row.assigned_agent == agent and row.status != CLOSED:
                row.status, row.updated_at = HUMAN, now  # already theirs (e.g. assigned by routing)
                return
            if row.status == CLOSED or row.assigned_agent is not None:
                raise ConflictError(_describe(row))
            if refusal:
                raise ConflictError(refusal)
            was_waiting, since = row.status == WAITING, as_utc(row.waiting_since)
            taken = update_conversation(
                session,
                conversation_id,
                ConversationRow.status != CLOSED,
                ConversationRow.assigned_agent.is_(None),
                **owned_by(agent, now),
            )
            if not taken:
                session.refresh(row)
                raise ConflictError(_describe(row))
            if me is not None and not self._take_slot(session, agent):
                raise ConflictError("you went offline or reached your capacity meanwhile")
            waited = max(0.0, (now - since).total_seconds()) if was_waiting and since else None
            self.assigner.record_taken(
                session, row, agent, EventKind.CLAIMED, waited, f"{agent} joined the conversation.", now
            )

    def assign_to(self, conversation_id: str, agent: str, by: str, now: datetime | None = None) -> None:
        """A lead gives a waiting conversation to a named agent: refused for an offline or full agent."""
        now = self.db.now(now)
        with self.db.sessions() as session:
            target = session.get(DeskAgentRow, agent)
            refusal = self._agent_refusal(target, agent, yourself=False)
            if refusal is None and target is not None and target.status != AgentStatus.ONLINE.value:
                refusal = f"agent {agent} is {target.status}"
            row = conversation_row(session, conversation_id)
            if row.status != WAITING or row.assigned_agent:
                raise ConflictError(_describe(row) + "; only a waiting conversation can be assigned")
        if refusal:
            raise ConflictError(refusal)
        attempt = self.assigner.try_assign(conversation_id, agent, now)
        if attempt is Attempt.CONVERSATION_GONE:
            raise ConflictError("someone took the conversation meanwhile")
        if attempt is Attempt.AGENT_FULL:
            raise ConflictError(f"agent {agent} became full or went offline meanwhile")
        with self.db.sessions.begin() as session:
            log_event(
                session, EventKind.TRANSFERRED, now, conversation_id=conversation_id, agent=agent, by=by
            )

    # --- giving it up -----------------------------------------------------------------------------------
    def hand_back(self, conversation_id: str, agent: str, now: datetime | None = None) -> None:
        now = self.db.now(now)
        with self.db.sessions.begin() as session:
            row = conversation_row(session, conversation_id)
            if row.assigned_agent != agent or row.status != HUMAN:
                raise ConflictError("only the owning agent can hand back; " + _describe(row))
            self.assigner.release_in(session, row, now, "handed back")
            _update_or_conflict(
                session,
                conversation_id,
                ConversationRow.assigned_agent == agent,
                ConversationRow.status == HUMAN,
                status=BOT,
                assigned_agent=None,
                waiting_since=None,
                priority=0.0,
                rank=None,
                held=False,
                assigned_at=None,
                deferred_until=None,
                updated_at=now,
            )
            system_note(session, conversation_id, f"{agent} handed the conversation back.", now)

    def close(self, conversation_id: str, agent: str | None, now: datetime | None = None) -> None:
        """An agent closes what they own or what nobody owns; `agent=None` is the customer ending it."""
        now = self.db.now(now)
        with self.db.sessions.begin() as session:
            row = conversation_row(session, conversation_id)
            if agent is not None and row.assigned_agent not in (None, agent):
                raise ConflictError(f"conversation is owned by {row.assigned_agent}")
            if row.status == CLOSED:
                return
            origin = row.origin
            self.assigner.release_in(session, row, now, "closed")
            owner = (ConversationRow.assigned_agent.is_(None)) | (
                ConversationRow.assigned_agent == row.assigned_agent
            )
            _update_or_conflict(
                session,
                conversation_id,
                ConversationRow.status == row.status,
                owner,
                status=CLOSED,
                closed_at=now,
                rank=None,
                held=False,
                updated_at=now,
            )
            log_event(
                session,
                EventKind.CLOSED,
                now,
                conversation_id=conversation_id,
                agent=agent,
                team_id=row.team_id,
                by="customer" if agent is None else "agent",
            )
            self.assigner.rerank_origin(session, origin)

    def transfer(
        self,
        conversation_id: str,
        from_agent: str,
        *,
        now: datetime | None = None,
        **target: Unpack[TransferTarget],
    ) -> None:
        """Agent to agent (the target needs a free slot) or to a team (back in its queue, keeping its
        place: the original handover time still counts for ageing). A team with no members is refused."""
        to_agent, to_team, note = target.get("to_agent"), target.get("to_team"), target.get("note", "")
        if (to_agent is None) == (to_team is None):
            raise ConflictError("transfer to exactly one of: an agent, a team")
        now = self.db.now(now)
        with self.db.sessions.begin() as session:
            row = conversation_row(session, conversation_id)
            if row.assigned_agent != from_agent or row.status != HUMAN:
                raise ConflictError("only the owning agent can transfer; " + _describe(row))
            if to_agent is not None:
                self._to_agent(session, row, from_agent, to_agent, now)
                where = to_agent
            else:
                self._to_team(session, row, str(to_team), now)
                where = f"team {to_team}"
            log_event(
                session,
                EventKind.TRANSFERRED,
                now,
                conversation_id=row.id,
                agent=to_agent,
                team_id=row.team_id,
                source=from_agent,
                note=note,
            )
            system_note(
                session, row.id, f"{from_agent} transferred the conversation to {where}." + _note(note), now
            )

    def _to_agent(
        self, session: Session, row: ConversationRow, source: str, target: str, now: datetime
    ) -> None:
        if target == source:
            raise ConflictError("the conversation is already yours")
        refusal = self._agent_refusal(session.get(DeskAgentRow, target), target, yourself=False)
        if refusal:
            raise ConflictError(refusal)
        self.assigner.release_in(session, row, now, f"transferred to {target}")
        moved = session.execute(
            update(ConversationRow)
            .where(
                ConversationRow.id == row.id,
                ConversationRow.assigned_agent == source,
                ConversationRow.status == HUMAN,
            )
            .values(assigned_agent=target, assigned_at=now, updated_at=now)
        )
        if not moved.rowcount or not self._take_slot(session, target):  # type: ignore[attr-defined]
            raise ConflictError(f"agent {target} became full or went offline meanwhile")

    def _to_team(self, session: Session, row: ConversationRow, team_id: str, now: datetime) -> None:
        if session.get(TeamRow, team_id) is None:
            raise NotFoundError(f"team {team_id!r} not found")
        members = session.scalars(
            select(TeamMemberRow.agent_name).where(TeamMemberRow.team_id == team_id)
        ).all()
        if not members:
            raise ConflictError(f"team {team_id} has no members: nobody could take the conversation")
        self.assigner.release_in(session, row, now, f"transferred to team {team_id}")
        row.status, row.assigned_agent, row.assigned_at, row.team_id, row.updated_at = (
            WAITING,
            None,
            None,
            team_id,
            now,
        )
        if row.waiting_since is None:
            row.waiting_since = now
        row.rank = self.assigner.row_rank(row, 0.0, False)
        session.flush()
        self.assigner.rerank_origin(session, row.origin)

    def mark_reply(self, conversation_id: str, now: datetime | None = None) -> None:
        """A human wrote to the customer: the first-response SLA is met, no re-assignment."""
        now = self.db.now(now)
        with self.db.sessions.begin() as session:
            session.execute(
                update(ConversationRow)
                .where(ConversationRow.id == conversation_id, ConversationRow.first_human_reply_at.is_(None))
                .values(first_human_reply_at=now)
            )


def _note(note: str) -> str:
    note = " ".join(note.split())[:500]
    return f" Note: {note}" if note else ""
