"""The write-ahead record of the changes the assistant makes in the shop (cancel, return, exchange...).

A WRITE is recorded as `started` before it runs and `done` / `failed` right after, in its own transaction,
before the model speaks and before the reply is stored. The reply that tells the customer marks it
`reported`. After a crash anywhere in between, the next turn finds the unreported records and tells the
customer what was done; the console's transcript shows them with that turn.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import JSON, DateTime, Integer, Row, String, Text, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from assistant.db import Base, add_row, as_utc, columns, engine_of, table_of
from assistant.store.models import ConversationPart, utcnow


class ActionRow(ConversationPart, Base):
    __tablename__ = "conv_actions"

    action_id: Mapped[str] = mapped_column(String(32))
    tool: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))  # started | done | failed | not_run
    result: Mapped[Any] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reported_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the bot message that told


class ActionRecord(BaseModel):
    id: int
    conversation_id: str
    action_id: str
    tool: str
    arguments: dict[str, Any]
    status: str
    result: Any = None
    error: str | None = None
    created_at: datetime
    finished_at: datetime | None = None
    reported_seq: int | None = None


_ACTION_COLUMNS = "id conversation_id action_id tool status result error reported_seq"


def _record(row: ActionRow | Row[Any]) -> ActionRecord:
    """A record from an ORM row or a Core row of the table (the same columns as attributes)."""
    return ActionRecord(
        **columns(row, _ACTION_COLUMNS),
        arguments=dict(row.arguments or {}),
        created_at=as_utc(row.created_at) or row.created_at,
        finished_at=as_utc(row.finished_at),
    )


_ACTIONS = table_of(ActionRow)
_UNREPORTED = (
    select(_ACTIONS)
    .where(_ACTIONS.c.conversation_id == bindparam("b_id"), _ACTIONS.c.reported_seq.is_(None))
    .order_by(_ACTIONS.c.id)
)


class ActionLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._engine = engine_of(sessions)  # unreported(), read twice a turn, runs on a Core connection

    def started(self, conversation_id: str, action_id: str, tool: str, arguments: dict[str, Any]) -> int:
        row = ActionRow(
            conversation_id=conversation_id,
            action_id=action_id,
            tool=tool,
            arguments=arguments,
            status="started",
        )
        return add_row(self._sessions, row)

    def finished(self, record_id: int, ok: bool, result: Any = None, error: str | None = None) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(ActionRow)
                .where(ActionRow.id == record_id)
                .values(status="done" if ok else "failed", result=result, error=error, finished_at=utcnow())
            )

    def settle(self, record_id: int, status: str) -> None:
        """A started record whose outcome was read back from the shop: done, or not_run (nothing to tell)."""
        values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
        if status == "not_run":
            values["error"] = "the process stopped before the change was made"
        with self._sessions.begin() as session:
            session.execute(update(ActionRow).where(ActionRow.id == record_id).values(**values))

    def unreported(self, conversation_id: str) -> list[ActionRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(_UNREPORTED, {"b_id": conversation_id}).all()
        return [_record(r) for r in rows]

    def mark_reported(self, record_ids: list[int], seq: int) -> None:
        if not record_ids:
            return
        with self._sessions.begin() as session:
            session.execute(update(ActionRow).where(ActionRow.id.in_(record_ids)).values(reported_seq=seq))

    def for_conversation(self, conversation_id: str) -> list[ActionRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(ActionRow).where(ActionRow.conversation_id == conversation_id).order_by(ActionRow.id)
            ).all()
            return [_record(r) for r in rows]
