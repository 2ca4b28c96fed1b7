"""Request and response models of the HTTP API (they are the OpenAPI schema clients see)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.records import Citation, PublicToolCall
from assistant.store.conversations import Conversation, Message, Suggestion


class ErrorResponse(BaseModel):
    detail: str = Field(description="A readable reason")


# OpenAPI `responses` of a route or a router: status code -> what the docs show for it.
ResponseDocs = dict[int | str, dict[str, Any]]


def error_docs(descriptions: dict[int, str]) -> ResponseDocs:
    """OpenAPI `responses` for error statuses: each answers an ErrorResponse, with this description."""
    return {status: {"model": ErrorResponse, "description": text} for status, text in descriptions.items()}


class StartConversationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer_token: str | None = Field(
        None, max_length=4096, description="Signed token from the shop's backend (binds the user)"
    )
    channel: Literal["widget", "email", "webhook", "api"] = "widget"
    language: str | None = Field(None, pattern=r"^[a-z]{2}$", description="ISO 639-1 code, e.g. en, fr, nl")


class StartConversationResponse(BaseModel):
    conversation_id: str
    secret: str = Field(description="Send it as X-Conversation-Secret on every later request")
    status: str
    authenticated: bool


class MessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(description="The customer's message (not empty, at most settings.max_message_chars)")
    action_id: str | None = Field(
        default=None,
        pattern=r"^act-[0-9a-f]{10}$",
        description="The pending change a confirm button answers (awaiting_confirmation.action_id); a yes "
        "carrying any other id is not a yes",
    )


class ConfirmationAction(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    description: str


class AwaitingConfirmation(BaseModel):
    action_id: str | None = Field(default=None, description="The id of this pending change (send it back)")
    actions: list[ConfirmationAction]


class TurnResponse(BaseModel):
    """The final answer of a customer turn (also the data of the SSE `final` event)."""

    reply: str | None = Field(description="None when a human holds the conversation (the bot is silent)")
    citations: list[Citation]
    tool_calls: list[PublicToolCall]
    status: str
    handover: bool
    awaiting_confirmation: AwaitingConfirmation | None
    customer_seq: int
    reply_seq: int | None
    language: str | None = Field(
        default=None,
        description="The conversation's language after this turn (ISO 639-1, detected from what the customer "
        "writes), so a client can show its own words in it; null when not known",
    )


class PublicMessage(BaseModel):
    seq: int
    role: Literal["customer", "bot", "agent"]
    text: str
    author: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    created_at: datetime


class TranscriptResponse(BaseModel):
    conversation_id: str
    status: str
    language: str | None
    messages: list[PublicMessage]


class EventsResponse(BaseModel):
    status: str
    messages: list[PublicMessage]
    last_seq: int


class AgentMessageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choice: Literal["accepted", "edited", "rejected"]
    text: str | None = Field(None, description="The edited text (required for `edited`)")


class ConversationOut(Conversation):
    """A conversation as agents see it (the store's record)."""


class AgentMessageOut(Message):
    """A message with its citations, tool calls, guard decision and latency (the store's record)."""


class SuggestionOut(Suggestion):
    """A suggested reply and what the agent decided (the store's record)."""


class DecisionResponse(BaseModel):
    suggestion: SuggestionOut
    sent: AgentMessageOut | None


class SentimentPoint(BaseModel):
    day: str
    mean_sentiment: float
    messages: int


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, str]
