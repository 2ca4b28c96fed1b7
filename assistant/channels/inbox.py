"""The inbound log: every provider message is written here first (before any check of its content, any
contact lookup or model call), once per provider id; the worker claims and processes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from assistant.channels.base import InboundMessage
from assistant.channels.leases import claim_rows, newest_rows
from assistant.channels.models import InboundRow
from assistant.db import add_row, get_row, session_factory

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Stored:
    id: int
    created: bool  # False: a replay of a message already stored


@dataclass(frozen=True)
class InboundRecord:
    id: int
    status: str
    attempts: int
    message: InboundMessage
    conversation_id: str | None
    error: str | None
    received_at: datetime


def _record(row: InboundRow) -> InboundRecord:
    return InboundRecord(
        row.id,
        row.status,
        row.attempts,
        InboundMessage.from_dict(row.message),
        row.conversation_id,
        row.error,
        row.received_at,
    )


class Inbox:
    def __init__(self, database_url: str) -> None:
        self._sessions = session_factory(database_url)

    def store(self, message: InboundMessage) -> Stored:
        """Persist once: a provider's redelivery (same channel + provider id) returns the first copy."""
        row = InboundRow(
            channel=message.channel,
            provider_id=message.provider_id,
            sender=f"{message.sender_kind}:{message.sender}"[:340],
            message=message.as_dict(),
            status="received",
            attempts=0,
        )
        try:
            return Stored(add_row(self._sessions, row), True)
        except IntegrityError:
            with self._sessions() as session:
                existing = session.scalar(
                    select(InboundRow.id).where(
                        InboundRow.channel == message.channel, InboundRow.provider_id == message.provider_id
                    )
                )
            if existing is None:
                raise
            return Stored(int(existing), False)

    def claim(self, limit: int = 10, lease_s: float = 300.0) -> list[InboundRecord]:
        """Messages waiting for the worker, oldest first; each is claimed by exactly one worker."""
        return claim_rows(
            self._sessions,
            InboundRow,
            lambda now: [InboundRow.status == "received"],
            _record,
            limit=limit,
            lease_s=lease_s,
            also={"attempts": InboundRow.attempts + 1},
        )

    def finish(
        self,
        row_id: int,
        status: str,
        *,
        conversation_id: str | None = None,
        message_seq: int | None = None,
        error: str | None = None,
    ) -> None:
        """done | ignored | failed (failed ones stay visible in the console and `parley worker --status`)."""
        with self._sessions.begin() as session:
            session.execute(
                update(InboundRow)
                .where(InboundRow.id == row_id)
                .values(
                    status=status,
                    conversation_id=conversation_id,
                    message_seq=message_seq,
                    error=(error or None) and error[:2000],
                    processed_at=datetime.now(UTC),
                    locked_until=None,
                )
            )

    def assign(self, row_id: int, conversation_id: str) -> None:
        """The conversation a claimed message went to (set before its turn runs)."""
        with self._sessions.begin() as session:
            session.execute(
                update(InboundRow).where(InboundRow.id == row_id).values(conversation_id=conversation_id)
            )

    def release(self, row_id: int, error: str) -> None:
        """Give a claimed message back (a transient failure before its turn started): retried later,
        failed for good after MAX_ATTEMPTS."""
        with self._sessions.begin() as session:
            row = session.get(InboundRow, row_id)
            if row is None:
                return
            row.error = error[:2000]
            row.locked_until = None
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                row.processed_at = datetime.now(UTC)

    def get(self, row_id: int) -> InboundRecord:
        with self._sessions() as session:
            row = get_row(session, InboundRow, row_id, LookupError(f"inbound message {row_id} not found"))
            return _record(row)

    def list(
        self, status: str | None = None, conversation_id: str | None = None, limit: int = 100
    ) -> list[InboundRecord]:
        ids = None if conversation_id is None else [conversation_id]
        return newest_rows(self._sessions, InboundRow, _record, limit, status=status, conversation_ids=ids)

    def count(self, channel: str | None = None) -> int:
        from sqlalchemy import func

        with self._sessions() as session:
            stmt = select(func.count()).select_from(InboundRow)
            if channel is not None:
                stmt = stmt.where(InboundRow.channel == channel)
            return int(session.scalar(stmt) or 0)
