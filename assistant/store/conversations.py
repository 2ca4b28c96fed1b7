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
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from assistant.db import engine_of, session_factory, table_of
from assistant.store.actions import ActionLog
from assistant.store.models import ConversationRow, ConversationStatus, MessageRole, MessageRow, utcnow
from assistant.store.suggestions import SuggestionStore
from assistant.store.turns import TurnLocks
from assistant.store.views import (
    DESK_TIMES,
    Conversation,
    ConversationConflict,
    ConversationNotFound,
    Message,
    Suggestion,
    _conversation,
    _message,
    _suggestion,
)

__all__ = [
    "DESK_TIMES",
    "Conversation",
    "ConversationConflict",
    "ConversationNotFound",
    "ConversationStore",
    "Message",
    "Suggestion",
    "_conversation",
    "_message",
    "_suggestion",
]


# The statements of every turn, built once and run on a Core connection (no ORM unit of work): a turn runs
# about twenty of them, and building and flushing ORM statements cost more CPU than SQLite running them.
_CONV = table_of(ConversationRow)
_MSG = table_of(MessageRow)
_GET = select(_CONV).where(_CONV.c.id == bindparam("b_id"))
_TOUCH = update(_CONV).where(_CONV.c.id == bindparam("b_id")).values(updated_at=bindparam("b_now"))
_SET_LANGUAGE = update(_CONV).where(_CONV.c.id == bindparam("b_id")).values(language=bindparam("b_value"))
_SET_USER = update(_CONV).where(_CONV.c.id == bindparam("b_id")).values(user_id=bindparam("b_value"))
_LAST_SEQ = select(func.max(_MSG.c.seq)).where(_MSG.c.conversation_id == bindparam("b_id"))
_LAST_SEQ_OF_ROLE = _LAST_SEQ.where(_MSG.c.role == bindparam("b_role"))
_MESSAGES = (
    select(_MSG)
    .where(_MSG.c.conversation_id == bindparam("b_id"), _MSG.c.seq > bindparam("b_after"))
    .order_by(_MSG.c.seq)
)
_SET_GUARD = (
    update(_MSG)
    .where(_MSG.c.conversation_id == bindparam("b_id"), _MSG.c.seq == bindparam("b_seq"))
    .values(guard=bindparam("b_guard", type_=_MSG.c.guard.type))
)
_ADD_MESSAGE = insert(_MSG)


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ConversationStore(SuggestionStore):
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._sessions = session_factory(database_url)
        self._engine = engine_of(self._sessions)  # for the statements every turn runs (see above)
        self.actions = ActionLog(self._sessions)  # the write-ahead record of shop changes
        self.turns = TurnLocks(self._sessions)  # one turn at a time per conversation

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
        with self._engine.connect() as conn:
            row = conn.execute(_GET, {"b_id": conversation_id}).first()
        if row is None:
            raise ConversationNotFound(conversation_id)
        return _conversation(row)  # type: ignore[arg-type]  # a Row has the table's columns as attributes

    def verify_secret(self, conversation_id: str, secret: str) -> bool:
        """Constant-time check; an unknown id and a wrong secret look the same to the caller."""
        return self.authorized(conversation_id, secret) is not None

    def authorized(self, conversation_id: str, secret: str) -> Conversation | None:
        """The conversation, read once, if `secret` is its secret (constant-time check; an unknown id costs
        the same work); None otherwise."""
        with self._engine.connect() as conn:
            row = conn.execute(_GET, {"b_id": conversation_id}).first()
        expected = row.secret_hash if row is not None else _hash_secret(uuid.uuid4().hex)
        if row is None or not hmac.compare_digest(expected, _hash_secret(secret)):
            return None
        return _conversation(row)  # type: ignore[arg-type]

    def set_user(self, conversation_id: str, user_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(_SET_USER, {"b_id": conversation_id, "b_value": user_id})

    def set_language(self, conversation_id: str, language: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(_SET_LANGUAGE, {"b_id": conversation_id, "b_value": language})

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

    def _owner_change(
        self,
        conversation_id: str,
        conditions: Sequence[ColumnElement[bool]],
        values: dict[str, Any],
        refusal: Callable[[Conversation], str],
    ) -> Conversation:
        """One conditional UPDATE; when it matches nothing, ConversationNotFound for an unknown id, else
        ConversationConflict with `refusal(current state)`."""
        with self._sessions.begin() as session:
            result = session.execute(
                update(ConversationRow)
                .where(ConversationRow.id == conversation_id, *conditions)
                .values(**values)
            )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise ConversationConflict(refusal(self.get(conversation_id)))
        return self.get(conversation_id)

    def claim(self, conversation_id: str, agent: str) -> Conversation:
        """Only one agent at a time: the UPDATE matches only if nobody else holds the conversation."""
        return self._owner_change(
            conversation_id,
            [
                ConversationRow.status != ConversationStatus.CLOSED.value,
                (ConversationRow.assigned_agent.is_(None)) | (ConversationRow.assigned_agent == agent),
            ],
            {"status": ConversationStatus.HUMAN.value, "assigned_agent": agent, "updated_at": utcnow()},
            lambda current: (
                f"conversation is {current.status.value}"
                + (f" and owned by {current.assigned_agent}" if current.assigned_agent else "")
            ),
        )

    def hand_back(self, conversation_id: str, agent: str) -> Conversation:
        """The owning agent returns the conversation to the bot."""
        return self._owner_change(
            conversation_id,
            [
                ConversationRow.assigned_agent == agent,
                ConversationRow.status == ConversationStatus.HUMAN.value,
            ],
            {
                "status": ConversationStatus.BOT.value,
                "assigned_agent": None,
                "waiting_since": None,
                "priority": 0.0,
                "updated_at": utcnow(),
            },
            lambda current: (
                "only the owning agent can hand back; conversation is "
                + current.status.value
                + (f", owned by {current.assigned_agent}" if current.assigned_agent else "")
            ),
        )

    def close(self, conversation_id: str, agent: str | None = None) -> Conversation:
        # An agent may close what they own or what nobody owns.
        owned = (ConversationRow.assigned_agent.is_(None)) | (ConversationRow.assigned_agent == agent)
        return self._owner_change(
            conversation_id,
            [] if agent is None else [owned],
            {"status": ConversationStatus.CLOSED.value, "updated_at": utcnow()},
            lambda current: f"conversation is owned by {current.assigned_agent}",
        )

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
                now = utcnow()
                with self._engine.begin() as conn:
                    # Writing first takes the lock before the next seq is read: the conversation's row lock
                    # on PostgreSQL, the database's write lock on SQLite (others wait on busy_timeout), so
                    # writers to one conversation queue up instead of racing. The unique index backs both.
                    touched = conn.execute(_TOUCH, {"b_id": conversation_id, "b_now": now})
                    if not touched.rowcount:
                        raise ConversationNotFound(conversation_id)
                    row = SimpleNamespace(
                        conversation_id=conversation_id,
                        seq=int(conn.scalar(_LAST_SEQ, {"b_id": conversation_id}) or 0) + 1,
                        role=role.value,
                        text=text,
                        author=author,
                        citations=citations or [],
                        tool_calls=tool_calls or [],
                        guard=guard,
                        latency_ms=latency_ms,
                        created_at=now,
                    )
                    conn.execute(_ADD_MESSAGE, vars(row))
                return _message(row)  # type: ignore[arg-type]  # the columns, as a row has them
            except IntegrityError:
                time.sleep(0.01 * (attempt + 1))  # two writers took the same seq; the unique index caught it
                continue
        raise ConversationConflict("could not append message after 5 attempts")

    def set_message_guard(self, conversation_id: str, seq: int, guard: dict[str, Any]) -> None:
        with self._engine.begin() as conn:
            conn.execute(_SET_GUARD, {"b_id": conversation_id, "b_seq": seq, "b_guard": guard})

    def messages(self, conversation_id: str, after_seq: int = 0) -> list[Message]:
        with self._engine.connect() as conn:
            rows = conn.execute(_MESSAGES, {"b_id": conversation_id, "b_after": after_seq}).all()
        return [_message(r) for r in rows]  # type: ignore[arg-type]

    def last_seq(self, conversation_id: str, role: MessageRole | None = None) -> int:
        """The seq of the conversation's last message (of `role`, if given); 0 when there is none."""
        with self._engine.connect() as conn:
            if role is None:
                return int(conn.scalar(_LAST_SEQ, {"b_id": conversation_id}) or 0)
            return int(conn.scalar(_LAST_SEQ_OF_ROLE, {"b_id": conversation_id, "b_role": role.value}) or 0)
