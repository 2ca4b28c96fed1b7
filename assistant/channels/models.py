"""Channel tables: the inbound log (persisted first, de-duplicated), deliveries, email thread references and
the leases that keep singletons (the mailbox poller) single across workers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base
from assistant.store.models import Timestamps, utcnow


class InboundRow(Base):
    __tablename__ = "chan_inbound"
    __table_args__ = (Index("ix_chan_inbound_channel_provider_id", "channel", "provider_id", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(
        String(255)
    )  # the provider's message id: a replay is stored once
    sender: Mapped[str] = mapped_column(String(340))  # kind:value
    message: Mapped[dict[str, Any]] = mapped_column(JSON)  # the normalised InboundMessage
    # received -> done | ignored (loops, unsupported) | failed (kept, visible, retried by `parley worker`)
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    conversation_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    message_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class DeliveryRow(Timestamps, Base):
    __tablename__ = "chan_deliveries"
    __table_args__ = (
        Index("ix_chan_deliveries_conversation_seq", "conversation_id", "message_seq", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conv_conversations.id", ondelete="CASCADE"))
    message_seq: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(340))
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # e.g. reply buttons
    # pending -> sent | undelivered (after the last attempt; shown in the console, can be retried)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    provider_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ThreadRefRow(Base):
    """A Message-ID (in or out) that belongs to a conversation: replies find their thread through it."""

    __tablename__ = "chan_thread_refs"
    __table_args__ = (Index("ix_chan_thread_refs_channel_ref", "channel", "ref", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(512))
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conv_conversations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LeaseRow(Base):
    """A named lease (e.g. the mailbox poller): one holder at a time, across processes and machines."""

    __tablename__ = "chan_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
