"""Typed records that several parts share: citations, tool-call records and guard decisions.

The service writes them, the store persists them as JSON, the planner, the desk, the API and the evaluation
read them. API schemas derive from these models (they are not copied), so a field added here is a field
everywhere.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


def safe_web_url(value: Any) -> str | None:
    """`value` when it is an absolute http:// or https:// URL with a host and no control characters or
    whitespace (browsers strip those, which is how `java\tscript:` gets through naive checks), else None."""
    if not isinstance(value, str):
        return None
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


class Citation(BaseModel):
    """One `[ref]` of an answer: which help-centre passage the sentence came from."""

    ref: int
    article_id: str | None = None
    title: str | None = None
    url: str | None = None
    section: str | None = None

    @field_validator("url", mode="before")
    @classmethod
    def _web_url_only(cls, value: Any) -> str | None:
        """Only an absolute http(s) URL with a host is kept; `javascript:`, `data:`, relative and anything
        else is dropped (issue 11: the API returned `javascript:` citation URLs as they were)."""
        return safe_web_url(value)

    @classmethod
    def from_hit(cls, ref: int, hit: dict[str, Any]) -> Citation:
        """The citation of search hit number `ref` (1-based, its position in the search result)."""
        return cls(
            ref=ref,
            article_id=hit.get("article_id"),
            title=hit.get("title"),
            url=hit.get("url"),
            section=hit.get("section"),
        )


class PublicToolCall(BaseModel):
    """What a customer may see of a tool call: its name, its arguments and whether it worked."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    ok: bool


class ToolCallRecord(BaseModel):
    """One tool call of a turn with its outcome, as stored with the bot's message and scored by the eval.

    `ok` is None while a WRITE waits for the customer's yes; `rejected` is True when they declined it.
    """

    model_config = ConfigDict(extra="ignore")

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None
    ok: bool | None = None
    output: Any = None
    error: str | None = None
    kind: str | None = None  # "read" | "write"
    rejected: bool = False

    def call_text(self) -> str:
        """The call as one line for a person: `cancel_pending_order(order_id=#W1, reason=...)`."""
        return f"{self.name}({', '.join(f'{k}={v}' for k, v in self.arguments.items())})"

    def public(self) -> PublicToolCall:
        return PublicToolCall(name=self.name, arguments=self.arguments, ok=bool(self.ok))


class GuardTrigger(StrEnum):
    NEGATIVE_SENTIMENT = "negative_sentiment"
    SENTIMENT_TRAJECTORY = "sentiment_trajectory"
    EXPLICIT_REQUEST = "explicit_request"
    PROFANITY = "profanity"
    SHOUTING = "shouting"
    THREAT_TO_LEAVE = "threat_to_leave"
    PUBLIC_COMPLAINT = "public_complaint"
    REPEATED_REQUEST = "repeated_request"
    BOT_FAILURES = "bot_failures"
    BOT_LOOP = "bot_loop"  # the bot repeated itself without progress (assistant/guard/loops.py)


class GuardDecision(BaseModel):
    """What the guard decided for one customer message (persisted with the message as JSON)."""

    takeover: bool
    trigger: GuardTrigger | None = None  # the most severe trigger that fired
    reason: str  # which trigger fired and why, in words; "no trigger" otherwise
    sentiment: float = Field(ge=-1.0, le=1.0)  # this message's compound score
    severity: float = Field(ge=0.0, le=1.0)  # queue priority
    language: str  # "en" | "fr" | "nl"
    signals: dict[str, float]  # every detector's score
    triggers: list[GuardTrigger] = Field(default_factory=list)  # all triggers that fired, most severe first
