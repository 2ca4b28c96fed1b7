"""Deliveries: every bot or agent message of a channel conversation, sent by the worker, retried with
exponential backoff, and marked `undelivered` (visible in the console, retryable) when it keeps failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError

from assistant.channels.leases import claim_rows, newest_rows
from assistant.channels.models import DeliveryRow
from assistant.db import add_row, columns, get_row, session_factory
from assistant.store.models import ConversationRow, MessageRole, MessageRow

DELIVERED_CHANNELS = ("email", "whatsapp", "sms", "api")


def backoff_s(attempt: int, base_s: float, max_s: float) -> float:
    """Seconds before attempt `attempt + 1`: base, 2x base, 4x base... capped."""
    return float(min(max_s, base_s * (2 ** max(0, attempt - 1))))


def next_status(attempts: int, max_attempts: int, permanent: bool) -> str:
    """After a failed attempt: try again later, or give up (visible as undelivered)."""
    return "undelivered" if permanent or attempts >= max_attempts else "pending"


@dataclass(frozen=True)
class Delivery:
    id: int
    conversation_id: str
    message_seq: int
    channel: str
    recipient: str
    status: str
    attempts: int
    last_error: str | None
    provider_id: str | None
    options: dict[str, Any]
    next_attempt_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """What the console and the API show of a delivery (not its options and times)."""
        return columns(
            self, "id conversation_id message_seq channel recipient status attempts last_error provider_id"
        )


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(
        row.id,
        row.conversation_id,
        row.message_seq,
        row.channel,
        row.recipient,
        row.status,
        row.attempts,
        row.last_error,
        row.provider_id,
        dict(row.options or {}),
        row.next_attempt_at,
        row.updated_at,
    )


class Outbox:
    def __init__(self, database_url: str) -> None:
        self._sessions = session_factory(database_url)

    def enqueue(
        self,
        conversation_id: str,
        seq: int,
        channel: str,
        recipient: str,
        options: dict[str, Any] | None = None,
    ) -> int | None:
        """One delivery per message (None when it is queued already)."""
        row = DeliveryRow(
            conversation_id=conversation_id,
            message_seq=seq,
            channel=channel,
            recipient=recipient,
            options=options or None,
            status="pending",
            attempts=0,
            next_attempt_at=datetime.now(UTC),
        )
        try:
            return add_row(self._sessions, row)
        except IntegrityError:
            return None

    def unqueued_messages(self, limit: int = 100) -> list[tuple[str, int, str, int | None]]:
        """Bot and agent messages of channel conversations that have no delivery yet, as
        (conversation id, seq, channel, identity id): whoever wrote them (worker, console, API), they go
        out."""
        with self._sessions() as session:
            rows = session.execute(
                select(
                    MessageRow.conversation_id,
                    MessageRow.seq,
                    ConversationRow.channel,
                    ConversationRow.identity_id,
                )
                .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
                .outerjoin(
                    DeliveryRow,
                    and_(
                        DeliveryRow.conversation_id == MessageRow.conversation_id,
                        DeliveryRow.message_seq == MessageRow.seq,
                    ),
                )
                .where(
                    ConversationRow.channel.in_(DELIVERED_CHANNELS),
                    MessageRow.role.in_((MessageRole.BOT.value, MessageRole.AGENT.value)),
                    DeliveryRow.id.is_(None),
                )
                .order_by(MessageRow.id)
                .limit(limit)
            ).all()
            return [(str(r[0]), int(r[1]), str(r[2]), r[3]) for r in rows]

    def claim_due(self, limit: int = 20, lease_s: float = 120.0) -> list[Delivery]:
        return claim_rows(
            self._sessions,
            DeliveryRow,
            lambda now: [DeliveryRow.status == "pending", DeliveryRow.next_attempt_at <= now],
            _delivery,
            limit=limit,
            lease_s=lease_s,
        )

    def sent(self, delivery_id: int, provider_id: str | None) -> None:
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == delivery_id)
                .values(
                    status="sent",
                    attempts=DeliveryRow.attempts + 1,
                    provider_id=(provider_id or None) and provider_id[:255],
                    last_error=None,
                    locked_until=None,
                    updated_at=now,
                )
            )

    def failed(
        self, delivery_id: int, error: str, *, permanent: bool, max_attempts: int, base_s: float, max_s: float
    ) -> str:
        """Record a failed attempt; returns the new status (pending = will retry, undelivered = gave up)."""
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            row = session.get(DeliveryRow, delivery_id)
            if row is None:
                return "missing"
            row.attempts += 1
            row.status = next_status(row.attempts, max_attempts, permanent)
            row.last_error = error[:2000]
            row.next_attempt_at = now + timedelta(seconds=backoff_s(row.attempts, base_s, max_s))
            row.locked_until = None
            row.updated_at = now
            return row.status

    def retry(self, delivery_id: int) -> Delivery:
        """An agent asks to send an undelivered message again."""
        with self._sessions.begin() as session:
            row = get_row(session, DeliveryRow, delivery_id, LookupError(f"delivery {delivery_id} not found"))
            row.status, row.attempts, row.next_attempt_at = "pending", 0, datetime.now(UTC)
            session.flush()
            return _delivery(row)

    def list(
        self, status: str | None = None, conversation_ids: list[str] | None = None, limit: int = 200
    ) -> list[Delivery]:
        return newest_rows(
            self._sessions, DeliveryRow, _delivery, limit, status=status, conversation_ids=conversation_ids
        )
