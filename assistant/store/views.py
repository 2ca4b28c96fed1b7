"""What the conversation store hands out: plain records of conversations, messages and suggested replies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from assistant.db import as_utc, columns
from assistant.records import Citation, GuardDecision, ToolCallRecord
from assistant.store.models import (
    ConversationRow,
    ConversationStatus,
    MessageRole,
    MessageRow,
    SuggestionChoice,
    SuggestionRow,
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


# The columns a record takes over as they are stored (the rest are converted below).
_CONVERSATION_COLUMNS = (
    "id channel user_id language assigned_agent takeover priority contact_id identity_id"
    " origin team_id topic stage band ces_score"  # desk (0003)
)
_SUGGESTION_COLUMNS = "id conversation_id agent draft_index draft_text final_text"


def _conversation(row: ConversationRow) -> Conversation:
    times: dict[str, Any] = {name: as_utc(getattr(row, name)) for name in DESK_TIMES}
    return Conversation(
        **columns(row, _CONVERSATION_COLUMNS),
        status=ConversationStatus(row.status),
        waiting_since=as_utc(row.waiting_since),
        created_at=as_utc(row.created_at) or row.created_at,
        updated_at=as_utc(row.updated_at) or row.updated_at,
        held=bool(row.held),
        escalation_level=row.escalation_level or 0,
        handovers=row.handovers or 0,
        **times,
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
        created_at=as_utc(row.created_at) or row.created_at,
    )


def _suggestion(row: SuggestionRow) -> Suggestion:
    return Suggestion(
        **columns(row, _SUGGESTION_COLUMNS),
        citations=list(row.citations or []),
        tool_results=list(row.tool_results or []),
        proposed_actions=list(row.proposed_actions or []),
        choice=SuggestionChoice(row.choice),
        created_at=as_utc(row.created_at) or row.created_at,
        decided_at=as_utc(row.decided_at),
    )
