"""Conversation tables: who talks, in which conversation, and every message with what backs it."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from assistant.db import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class ConversationPart:
    """The first columns (sort_order) of a row that belongs to one conversation and goes with it: its own
    id, the conversation's."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True, sort_order=-2)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conv_conversations.id", ondelete="CASCADE"), index=True, sort_order=-1
    )


class Timestamps:
    """When a row was added and last changed (both now at first; the code that changes it sets the second)."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ConversationStatus(StrEnum):
    BOT = "bot"
    WAITING_FOR_HUMAN = "waiting_for_human"
    HUMAN = "human"
    CLOSED = "closed"


class MessageRole(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class SuggestionChoice(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EDITED = "edited"
    REJECTED = "rejected"


class ConversationRow(Base):
    __tablename__ = "conv_conversations"
    # desk (0003): the queue is read by status, team and rank
    __table_args__ = (
        Index("ix_conv_queue", "status", "team_id", "rank"),
        CheckConstraint("ces_score IS NULL OR ces_score BETWEEN 1 AND 7", name="ck_conv_ces_score"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), default="widget")
    status: Mapped[str] = mapped_column(String(32), default=ConversationStatus.BOT.value, index=True)
    # sha256 of the per-conversation secret the customer holds; the id alone never grants access.
    secret_hash: Mapped[str] = mapped_column(String(64))
    # The shop user this conversation is authenticated as (signed token, or email / name + zip in chat).
    user_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    assigned_agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The guard's decision (trigger, reason, severity...) that sent it to a human.
    takeover: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    waiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # --- channels (migration 0004): the person and the channel identity this conversation is with.
    contact_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    identity_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # --- desk (migration 0003; written by assistant/routing): routing, queue order, SLAs, effort --------
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    topic: Mapped[str | None] = mapped_column(String(32), nullable=True)
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    origin: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    rank: Mapped[float | None] = mapped_column(Float, nullable=True)  # queue order key, higher first
    band: Mapped[str | None] = mapped_column(String(16), nullable=True)  # SLA band of the priority
    held: Mapped[bool] = mapped_column(Boolean, default=False)  # over a per-IP / per-contact cap
    deferred_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_human_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sla_first_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sla_resolution_due: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    handovers: Mapped[int] = mapped_column(Integer, default=0)
    ces_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ces_answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # --- end desk

    messages: Mapped[list[MessageRow]] = relationship(
        back_populates="conversation", order_by="MessageRow.seq", cascade="all, delete-orphan"
    )


class MessageRow(Base):
    __tablename__ = "conv_messages"
    __table_args__ = (Index("ix_conv_messages_conversation_seq", "conversation_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conv_conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(64), nullable=True)  # agent name for role=agent
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tool_calls: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    guard: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    conversation: Mapped[ConversationRow] = relationship(back_populates="messages")


class SuggestionRow(ConversationPart, Base):
    __tablename__ = "conv_suggestions"

    agent: Mapped[str] = mapped_column(String(64))
    draft_index: Mapped[int] = mapped_column(Integer, default=0)
    draft_text: Mapped[str] = mapped_column(Text)
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tool_results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    proposed_actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    choice: Mapped[str] = mapped_column(String(16), default=SuggestionChoice.PENDING.value)
    final_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
