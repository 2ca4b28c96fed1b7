"""The conversation store: every message is written here before any model sees it.

All state changes that two processes could race on (claiming a conversation, handing it back) are single
conditional UPDATEs, so N API workers behind a load balancer stay consistent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.db import session_factory
from assistant.records import Citation, GuardDecision, ToolCallRecord
from assistant.store.models import (
    ConversationRow,
    ConversationStatus,
    MessageRole,
    MessageRow,
    SuggestionChoice,
    SuggestionRow,
    utcnow,
)


class ConversationNotFound(LookupError):
    pass


class ConversationConflict(RuntimeError):
    """The conversation is in a state (or owned by someone) that forbids this change."""


class Message(BaseModel):
    seq: int
    role: MessageRole
    text: str
    author: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    guard: GuardDecision | None = None
    latency_ms: float | None = None
    created_at: datetime


class Conversation(BaseModel):
    id: str
    channel: str
    status: ConversationStatus
    user_id: str | None
    language: str | None
    assigned_agent: str | None
    takeover: dict[str, Any] | None
    priority: float
    waiting_since: datetime | None
    created_at: datetime
    updated_at: datetime
    contact_id: str | None = None  # channels: the contact (assistant/contacts) and channel identity
    identity_id: int | None = None
    # --- desk (0003, assistant/routing)
    origin: str | None = None  # "user:<id>" or a salted hash of the customer's IP (fair share, re-contact)
    team_id: str | None = None
    topic: str | None = None
    stage: str | None = None
    band: str | None = None
    held: bool = False
    deferred_until: datetime | None = None
    assigned_at: datetime | None = None
    first_human_reply_at: datetime | None = None
    closed_at: datetime | None = None
    sla_first_due: datetime | None = None
    sla_resolution_due: datetime | None = None
    escalation_level: int = 0
    handovers: int = 0
    ces_score: int | None = None
    ces_answered_at: datetime | None = None


DESK_TIMES = (
    "deferred_until",
    "assigned_at",
    "first_human_reply_at",
    "closed_at",
    "sla_first_due",
    "sla_resolution_due",
    "ces_answered_at",
)


class Suggestion(BaseModel):
    id: int
    conversation_id: str
    agent: str
    draft_index: int
    draft_text: str
    citations: list[dict[str, Any]]
    tool_results: list[dict[str, Any]]
    proposed_actions: list[dict[str, Any]]
    choice: SuggestionChoice
    final_text: str | None
    created_at: datetime
    decided_at: datetime | None


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _as_utc(value: datetime | None) -> datetime | None:
    # SQLite drops the timezone on read; every time we store is UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _conversation(row: ConversationRow) -> Conversation:
    return Conversation(
        id=row.id,
        channel=row.channel,
        status=ConversationStatus(row.status),
        user_id=row.user_id,
        language=row.language,
        assigned_agent=row.assigned_agent,
        takeover=row.takeover,
        priority=row.priority,
        waiting_since=_as_utc(row.waiting_since),
        created_at=_as_utc(row.created_at) or row.created_at,
        updated_at=_as_utc(row.updated_at) or row.updated_at,
        contact_id=row.contact_id,
        identity_id=row.identity_id,
        # desk (0003)
        origin=row.origin,
        team_id=row.team_id,
        topic=row.topic,
        stage=row.stage,
        band=row.band,
        held=bool(row.held),
        escalation_level=row.escalation_level or 0,
        handovers=row.handovers or 0,
        ces_score=row.ces_score,
        **{name: _as_utc(getattr(row, name)) for name in DESK_TIMES},
    )


def _message(row: MessageRow) -> Message:
    return Message(
        seq=row.seq,
        role=MessageRole(row.role),
        text=row.text,
        author=row.author,
        citations=[Citation.model_validate(c) for c in row.citations or []],
        tool_calls=[ToolCallRecord.model_validate(t) for t in row.tool_calls or []],
        guard=GuardDecision.model_validate(row.guard) if row.guard else None,
        latency_ms=row.latency_ms,
        created_at=_as_utc(row.created_at) or row.created_at,
    )


def _suggestion(row: SuggestionRow) -> Suggestion:
    return Suggestion(
        id=row.id,
        conversation_id=row.conversation_id,
        agent=row.agent,
        draft_index=row.draft_index,
        draft_text=row.draft_text,
        citations=list(row.citations or []),
        tool_results=list(row.tool_results or []),
        proposed_actions=list(row.proposed_actions or []),
        choice=SuggestionChoice(row.choice),
        final_text=row.final_text,
        created_at=_as_utc(row.created_at) or row.created_at,
        decided_at=_as_utc(row.decided_at),
    )


class ConversationStore:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._sessions = session_factory(database_url)

    def migrate(self) -> None:
        from assistant.db import migrate

        migrate(self.database_url)

    # --- conversations -------------------------------------------------------------------------
    def create_conversation(
        self,
        channel: str = "widget",
        user_id: str | None = None,
        language: str | None = None,
        contact_id: str | None = None,
        identity_id: int | None = None,
    ) -> tuple[Conversation, str]:
        """A new conversation and the secret its customer must present to read or write it."""
        secret = secrets.token_urlsafe(24)
        row = ConversationRow(
            id=str(uuid.uuid4()),
            channel=channel,
            status=ConversationStatus.BOT.value,
            secret_hash=_hash_secret(secret),
            user_id=user_id,
            language=language,
            priority=0.0,
            contact_id=contact_id,
            identity_id=identity_id,
        )
        with self._sessions.begin() as session:
            session.add(row)
            session.flush()
            return _conversation(row), secret

    def get(self, conversation_id: str) -> Conversation:
        with self._sessions() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is None:
                raise ConversationNotFound(conversation_id)
            return _conversation(row)

    def verify_secret(self, conversation_id: str, secret: str) -> bool:
        """Constant-time check; an unknown id and a wrong secret look the same to the caller."""
        with self._sessions() as session:
            row = session.get(ConversationRow, conversation_id)
            expected = row.secret_hash if row is not None else _hash_secret(uuid.uuid4().hex)
            return row is not None and hmac.compare_digest(expected, _hash_secret(secret))

    def set_user(self, conversation_id: str, user_id: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(ConversationRow).where(ConversationRow.id == conversation_id).values(user_id=user_id)
            )

    def set_language(self, conversation_id: str, language: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(ConversationRow).where(ConversationRow.id == conversation_id).values(language=language)
            )

    def request_human(self, conversation_id: str, decision: dict[str, Any], priority: float) -> Conversation:
        """Bot -> waiting_for_human, recording why. A conversation a human already has stays theirs."""
        with self._sessions.begin() as session:
            session.execute(
                update(ConversationRow)
                .where(
                    ConversationRow.id == conversation_id,
                    ConversationRow.status == ConversationStatus.BOT.value,
                )
                .values(
                    status=ConversationStatus.WAITING_FOR_HUMAN.value,
                    takeover=decision,
                    priority=priority,
                    waiting_since=utcnow(),
                    updated_at=utcnow(),
                )
            )
        return self.get(conversation_id)

    def update_takeover(self, conversation_id: str, fields: dict[str, Any]) -> None:
        """Add fields to the takeover record (e.g. the handover summary written for the agents)."""
        with self._sessions.begin() as session:
            row = session.get(ConversationRow, conversation_id)
            if row is not None and row.takeover is not None:
                row.takeover = {**row.takeover, **fields}

    def claim(self, conversation_id: str, agent: str) -> Conversation:
        """Only one agent at a time: the UPDATE matches only if nobody else holds the conversation."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ConversationRow)
                .where(
                    ConversationRow.id == conversation_id,
                    ConversationRow.status != ConversationStatus.CLOSED.value,
                    (ConversationRow.assigned_agent.is_(None)) | (ConversationRow.assigned_agent == agent),
                )
                .values(status=ConversationStatus.HUMAN.value, assigned_agent=agent, updated_at=utcnow())
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            current = self.get(conversation_id)  # raises ConversationNotFound for unknown ids
            raise ConversationConflict(
                f"conversation is {current.status.value}"
                + (f" and owned by {current.assigned_agent}" if current.assigned_agent else "")
            )
        return self.get(conversation_id)

    def hand_back(self, conversation_id: str, agent: str) -> Conversation:
        """The owning agent returns the conversation to the bot."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ConversationRow)
                .where(
                    ConversationRow.id == conversation_id,
                    ConversationRow.assigned_agent == agent,
                    ConversationRow.status == ConversationStatus.HUMAN.value,
                )
                .values(
                    status=ConversationStatus.BOT.value,
                    assigned_agent=None,
                    waiting_since=None,
                    priority=0.0,
                    updated_at=utcnow(),
                )
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            current = self.get(conversation_id)
            raise ConversationConflict(
                f"only the owning agent can hand back; conversation is {current.status.value}"
                + (f", owned by {current.assigned_agent}" if current.assigned_agent else "")
            )
        return self.get(conversation_id)

    def close(self, conversation_id: str, agent: str | None = None) -> Conversation:
        with self._sessions.begin() as session:
            stmt = update(ConversationRow).where(ConversationRow.id == conversation_id)
            if agent is not None:
                # An agent may close what they own or what nobody owns.
                stmt = stmt.where(
                    (ConversationRow.assigned_agent.is_(None)) | (ConversationRow.assigned_agent == agent)
                )
            result = session.execute(stmt.values(status=ConversationStatus.CLOSED.value, updated_at=utcnow()))
        if result.rowcount == 0:  # type: ignore[attr-defined]
            current = self.get(conversation_id)
            raise ConversationConflict(f"conversation is owned by {current.assigned_agent}")
        return self.get(conversation_id)

    def queue(self, limit: int = 100) -> list[Conversation]:
        """Conversations waiting for a human, most urgent first, then longest waiting."""
        with self._sessions() as session:
            rows = session.scalars(
                select(ConversationRow)
                .where(ConversationRow.status == ConversationStatus.WAITING_FOR_HUMAN.value)
                .order_by(ConversationRow.priority.desc(), ConversationRow.waiting_since.asc())
                .limit(limit)
            ).all()
            return [_conversation(r) for r in rows]

    def list_conversations(
        self, status: ConversationStatus | None = None, limit: int = 200
    ) -> list[Conversation]:
        with self._sessions() as session:
            stmt = select(ConversationRow).order_by(ConversationRow.updated_at.desc()).limit(limit)
            if status is not None:
                stmt = stmt.where(ConversationRow.status == status.value)
            return [_conversation(r) for r in session.scalars(stmt).all()]

    # --- messages ------------------------------------------------------------------------------
    def add_message(
        self,
        conversation_id: str,
        role: MessageRole,
        text: str,
        *,
        author: str | None = None,
        citations: list[dict[str, Any]] | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
        guard: dict[str, Any] | None = None,
        latency_ms: float | None = None,
    ) -> Message:
        """Append and commit at once (the customer's words are safe before any model call)."""
        for attempt in range(5):
            try:
                with self._sessions.begin() as session:
                    # Writing first takes the lock before the next seq is read: the conversation's row lock
                    # on PostgreSQL, the database's write lock on SQLite (others wait on busy_timeout), so
                    # writers to one conversation queue up instead of racing. The unique index backs both.
                    touched = session.execute(
                        update(ConversationRow)
                        .where(ConversationRow.id == conversation_id)
                        .values(updated_at=utcnow())
                    )
                    if not touched.rowcount:  # type: ignore[attr-defined]
                        raise ConversationNotFound(conversation_id)
                    seq = self._next_seq(session, conversation_id)
                    row = MessageRow(
                        conversation_id=conversation_id,
                        seq=seq,
                        role=role.value,
                        text=text,
                        author=author,
                        citations=citations or [],
                        tool_calls=tool_calls or [],
                        guard=guard,
                        latency_ms=latency_ms,
                    )
                    session.add(row)
                    session.flush()
                    return _message(row)
            except IntegrityError:
                time.sleep(0.01 * (attempt + 1))  # two writers took the same seq; the unique index caught it
                continue
        raise ConversationConflict("could not append message after 5 attempts")

    @staticmethod
    def _next_seq(session: Session, conversation_id: str) -> int:
        current = session.scalar(
            select(func.max(MessageRow.seq)).where(MessageRow.conversation_id == conversation_id)
        )
        return (current or 0) + 1

    def set_message_guard(self, conversation_id: str, seq: int, guard: dict[str, Any]) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(MessageRow)
                .where(MessageRow.conversation_id == conversation_id, MessageRow.seq == seq)
                .values(guard=guard)
            )

    def messages(self, conversation_id: str, after_seq: int = 0) -> list[Message]:
        with self._sessions() as session:
            rows = session.scalars(
                select(MessageRow)
                .where(MessageRow.conversation_id == conversation_id, MessageRow.seq > after_seq)
                .order_by(MessageRow.seq)
            ).all()
            return [_message(r) for r in rows]

    # --- suggested replies ---------------------------------------------------------------------
    def add_suggestions(
        self, conversation_id: str, agent: str, drafts: list[dict[str, Any]]
    ) -> list[Suggestion]:
        with self._sessions.begin() as session:
            rows = [
                SuggestionRow(
                    conversation_id=conversation_id,
                    agent=agent,
                    draft_index=i,
                    draft_text=d["text"],
                    citations=d.get("citations", []),
                    tool_results=d.get("tool_results", []),
                    proposed_actions=d.get("proposed_actions", []),
                    choice=SuggestionChoice.PENDING.value,
                )
                for i, d in enumerate(drafts)
            ]
            session.add_all(rows)
            session.flush()
            return [_suggestion(r) for r in rows]

    def decide_suggestion(
        self, suggestion_id: int, agent: str, choice: SuggestionChoice, final_text: str | None
    ) -> Suggestion:
        if choice == SuggestionChoice.PENDING:
            raise ValueError("a decision must be accepted, edited or rejected")
        with self._sessions.begin() as session:
            row = session.get(SuggestionRow, suggestion_id)
            if row is None:
                raise LookupError(f"suggestion {suggestion_id} not found")
            if row.choice != SuggestionChoice.PENDING.value:
                raise ConversationConflict(f"suggestion {suggestion_id} was already {row.choice}")
            row.choice = choice.value
            row.agent = agent
            row.final_text = final_text if choice != SuggestionChoice.REJECTED else None
            row.decided_at = utcnow()
            session.flush()
            return _suggestion(row)

    def suggestions(self, conversation_id: str) -> list[Suggestion]:
        with self._sessions() as session:
            rows = session.scalars(
                select(SuggestionRow)
                .where(SuggestionRow.conversation_id == conversation_id)
                .order_by(SuggestionRow.id)
            ).all()
            return [_suggestion(r) for r in rows]

    def suggestion_stats(self) -> dict[str, float]:
        """Counts per choice and the acceptance rate (accepted + edited over decided)."""
        with self._sessions() as session:
            counts = dict(
                session.execute(
                    select(SuggestionRow.choice, func.count()).group_by(SuggestionRow.choice)
                ).all()
            )
        decided = sum(v for k, v in counts.items() if k != SuggestionChoice.PENDING.value)
        used = counts.get(SuggestionChoice.ACCEPTED.value, 0) + counts.get(SuggestionChoice.EDITED.value, 0)
        stats: dict[str, float] = {c.value: float(counts.get(c.value, 0)) for c in SuggestionChoice}
        stats["acceptance_rate"] = used / decided if decided else 0.0
        return stats
