"""What one customer turn is while it runs (_Turn), the answers that need no agent run, and its result."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from assistant.agent import TurnContext
from assistant.records import Citation, GuardDecision, ToolCallRecord
from assistant.store.actions import ActionRecord
from assistant.store.conversations import Conversation, Message
from assistant.store.models import ConversationStatus
from assistant.tools.base import CustomerScope


@dataclass
class TurnResult:
    conversation_id: str
    status: ConversationStatus
    reply: str | None  # None: the bot stays silent (a human has the conversation)
    citations: list[Citation] = field(default_factory=list)
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    guard: GuardDecision | None = None
    handover: bool = False
    awaiting_confirmation: dict[str, Any] | None = None
    failed: bool = False
    invalid_citations: list[int] = field(default_factory=list)
    latency_ms: float = 0.0
    customer_seq: int = 0
    reply_seq: int | None = None
    provider: str = "offline"
    language: str | None = None  # the conversation's language after the turn (the widget speaks it)

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "status": self.status.value,
            "reply": self.reply,
            "citations": [c.model_dump() for c in self.citations],
            "tool_calls": [t.model_dump(mode="json") for t in self.tool_calls],
            "guard": self.guard.model_dump(mode="json") if self.guard else None,
            "handover": self.handover,
            "awaiting_confirmation": self.awaiting_confirmation,
            "failed": self.failed,
            "invalid_citations": self.invalid_citations,
            "latency_ms": round(self.latency_ms, 1),
            "provider": self.provider,
        }


@dataclass
class Turn:
    """One customer turn in progress."""

    conversation: Conversation
    customer_message: Message
    language: str
    scope: CustomerScope
    started: float
    config: dict[str, Any]
    # Changes an earlier turn made but never told the customer about (a crash before its reply).
    recovered: list[ActionRecord] = field(default_factory=list)
    deadline: float | None = None  # perf_counter(): no model call is waited for past it (model_gate.py)
    thread: Any = None  # the agent's thread, read once between runs (agent_thread.ThreadReader)

    @property
    def id(self) -> str:
        return self.conversation.id

    @property
    def context(self) -> TurnContext:
        return TurnContext(
            scope=self.scope, conversation_id=self.id, language=self.language, deadline=self.deadline
        )

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


@dataclass
class AskAgain:
    """The answer to a pending change was neither a clear yes nor a clear no: ask again, change nothing."""

    actions: list[dict[str, Any]]


@dataclass
class Recovered:
    """The message answered a change that already ran before a crash: the notice is the whole reply."""
