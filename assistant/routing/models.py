"""Desk tables (migration 0003): teams with skills and hours, agents with status and capacity, team
membership, an event log of routing decisions, and canned responses. Routing columns on conversations live
with the conversation table (assistant/store/models.py)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base
from assistant.store.models import utcnow


class AgentStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class MemberRole(StrEnum):
    MEMBER = "member"
    LEAD = "lead"


class Stage(StrEnum):
    """Where the customer is in their purchase."""

    PRE_PURCHASE = "pre_purchase"
    IN_TRANSIT = "in_transit"
    AFTER_DELIVERY = "after_delivery"
    COMPLAINT = "complaint"


class EventKind(StrEnum):
    ROUTED = "routed"
    DEFERRED = "deferred"
    OPENED = "opened"
    ASSIGNED = "assigned"
    CLAIMED = "claimed"
    REASSIGNED = "reassigned"
    TRANSFERRED = "transferred"
    RELEASED = "released"
    ESCALATED = "escalated"
    NOTIFIED = "notified"
    CLOSED = "closed"
    CES = "ces"


class TeamRow(Base):
    __tablename__ = "desk_teams"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # Skills: an empty list means "any".
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # {"timezone": "Europe/Paris", "weekly": {"mon": ["09:00-17:00"]}, "holidays": ["2025-12-25"]};
    # None: always open.
    hours: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    lead_webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeskAgentRow(Base):
    __tablename__ = "desk_agents"
    __table_args__ = (
        CheckConstraint("load >= 0", name="ck_desk_agents_load"),
        CheckConstraint("capacity >= 0", name="ck_desk_agents_capacity"),
        Index("ix_desk_agents_free", "status", "load"),
    )

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # the agent key's name
    display_name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default=AgentStatus.OFFLINE.value)
    capacity: Mapped[int] = mapped_column(Integer, default=3)  # concurrent conversations
    # Conversations this agent holds now; changed only by conditional UPDATEs (load < capacity).
    load: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # None: whenever online
    last_assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TeamMemberRow(Base):
    __tablename__ = "desk_team_members"
    __table_args__ = (Index("ix_desk_team_members_agent", "agent_name"),)

    team_id: Mapped[str] = mapped_column(ForeignKey("desk_teams.id", ondelete="CASCADE"), primary_key=True)
    agent_name: Mapped[str] = mapped_column(
        ForeignKey("desk_agents.name", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16), default=MemberRole.MEMBER.value)


class DeskEventRow(Base):
    __tablename__ = "desk_events"
    __table_args__ = (
        Index("ix_desk_events_conversation", "conversation_id"),
        Index("ix_desk_events_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    agent: Mapped[str | None] = mapped_column(String(64), nullable=True)
    team_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MacroRow(Base):
    __tablename__ = "desk_macros"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
