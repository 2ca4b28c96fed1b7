"""Request and response models of the desk's routes (routing, teams, agents, macros, queue, CES, insights)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.api.schemas import AgentMessageOut, ConversationOut, SentimentPoint, SuggestionOut
from assistant.routing.directory import AgentSpec, DeskAgent, Team, TeamSpec
from assistant.routing.macros import Macro, MacroSpec


class DeskConversationOut(ConversationOut):
    """A conversation with its routing fields (team, topic, stage, band, SLA times: the store's record)."""


class SlaOut(BaseModel):
    first_response_left_s: float | None
    resolution_left_s: float | None
    first_response_breached: bool
    resolution_breached: bool
    breached: bool


class RoutingOut(BaseModel):
    team_id: str | None = None
    topic: str | None = None
    stage: str | None = None
    band: str | None = None
    position: int | None = None
    held: bool = False
    deferred_until: str | None = None
    sla: SlaOut | None = None


class DeskQueueEntryOut(BaseModel):
    conversation: DeskConversationOut
    priority: float = Field(description="Queue score now: priority + ageing + bonuses - fair-share penalty")
    wait_seconds: float
    summary: str
    trigger: str | None
    reason: str | None
    sentiment: float | None
    customer: dict[str, Any] | None
    orders: list[dict[str, Any]]
    routing: RoutingOut


class EffortOut(BaseModel):
    customer_turns: int
    repeated_questions: int
    channel_switches: int
    handovers: int
    time_to_resolution_s: float | None
    recontact_within_7_days: bool | None


class HistoryItem(BaseModel):
    conversation_id: str
    created_at: datetime | None
    channel: str
    status: str
    topic: str | None
    team_id: str | None
    handed_over: bool
    ces_score: int | None
    first_message: str


class DeskConversationDetail(BaseModel):
    conversation: DeskConversationOut
    messages: list[AgentMessageOut]
    customer: dict[str, Any] | None
    orders: list[dict[str, Any]]
    suggestions: list[SuggestionOut]
    sla: SlaOut
    effort: EffortOut
    history: list[HistoryItem]


class QueueStatusOut(BaseModel):
    state: Literal["bot", "deferred", "waiting", "assigned", "closed"]
    position: int | None
    expected_wait_s: float | None
    team_id: str | None
    open_now: bool
    opens_at: str | None
    estimate_source: str = Field(description="recent_asa, erlang_c or none")
    text: str = Field(description="What to tell the customer, in their language")
    language: str


class CesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    score: int | None = Field(default=None, ge=1, le=7, description="1-7 (7: very easy); null to skip it")


class CesOut(BaseModel):
    ask: bool = Field(description="True when the question should be shown now (closed, not answered)")
    answered: bool
    skipped: bool
    score: int | None
    answered_at: datetime | None
    question: str
    low_label: str
    high_label: str
    skip_label: str
    thanks: str
    scale: list[int]


class CloseOut(BaseModel):
    status: str
    ces: CesOut


class StatusRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["online", "away", "offline"]


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_agent: str | None = Field(default=None, max_length=64)
    to_team: str | None = Field(default=None, max_length=64)
    note: str = Field("", max_length=1000, description="For the next agent (a system line in the transcript)")


class AssignRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent: str = Field(min_length=1, max_length=64)


class MeOut(BaseModel):
    agent: str
    manager: bool
    desk: DeskAgent | None


class RenderedMacro(BaseModel):
    macro: Macro
    text: str
    missing: list[str]


class DeskConfigOut(BaseModel):
    topics: list[str]
    stages: list[str]
    bands: list[str]
    languages: list[str]
    sla: dict[str, dict[str, int]]
    rules: list[dict[str, Any]]
    variables: list[str]


class InsightsOut(BaseModel):
    conversations: int
    resolution_rate: float | None = Field(description="Honest bot resolution rate (see docs/console.md)")
    takeover_rate: float
    takeovers: int
    takeover_reasons: dict[str, int]
    median_first_response_s: float | None
    median_human_response_s: float | None
    suggestion_acceptance_rate: float
    suggestions: dict[str, int]
    sentiment_over_time: list[SentimentPoint]
    overall: dict[str, Any]
    by: dict[str, list[dict[str, Any]]]
    generated_at: str


__all__ = ["AgentSpec", "DeskAgent", "MacroSpec", "Team", "TeamSpec"]
