"""A small HTTP client for Parley's agent API, used by the Streamlit console.

The console never imports the store or the service: everything it shows or changes goes through these
methods, so it works against any Parley deployment (one API worker or many) with only an agent key.
Every failure becomes one of the `ConsoleError` subclasses with a message an agent can act on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

SuggestionDecision = Literal["accepted", "edited", "rejected"]
# An agent's message is a chat line, not a document; the API has its own (configurable) limit too.
MAX_TEXT_CHARS = 20_000


# --- errors ------------------------------------------------------------------------------------
class ConsoleError(Exception):
    """Anything that went wrong talking to the API; str() is a sentence for the agent."""


class ApiUnavailable(ConsoleError):
    """The API did not answer (not running, wrong URL, timeout)."""


class AuthError(ConsoleError):
    """401/403: the agent key is missing or wrong."""


class OwnershipConflict(ConsoleError):
    """409: another agent owns the conversation, or its state forbids the change."""


class NotFound(ConsoleError):
    """404: no such conversation or suggestion."""


class ApiError(ConsoleError):
    """Any other non-2xx answer (422 validation, 429 rate limit, 5xx)."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(f"API error {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


# --- data the console reads ----------------------------------------------------------------------
class _Lenient(BaseModel):
    # The API may add fields; the console must keep working when it does.
    model_config = ConfigDict(extra="allow")


class ConversationInfo(_Lenient):
    id: str
    status: str
    channel: str = "widget"
    user_id: str | None = None
    language: str | None = None
    assigned_agent: str | None = None
    takeover: dict[str, Any] | None = None
    priority: float = 0.0
    waiting_since: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class QueueItem(_Lenient):
    conversation: ConversationInfo
    priority: float = 0.0
    wait_seconds: float = 0.0
    summary: str = ""
    trigger: str | None = None
    reason: str | None = None
    sentiment: float | None = None
    customer: dict[str, Any] | None = None
    orders: list[dict[str, Any]] = Field(default_factory=list)
    # team, topic, stage, band, position, held, deferred_until, sla {first_response_left_s, breached...}
    routing: dict[str, Any] = Field(default_factory=dict)


class TranscriptMessage(_Lenient):
    seq: int = 0
    role: str
    text: str = ""
    author: str | None = None
    citations: list[dict[str, Any]] = Field(default_factory=list)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    guard: dict[str, Any] | None = None
    created_at: datetime | None = None


class ProposedAction(_Lenient):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class SuggestedReply(_Lenient):
    id: int
    draft_text: str
    draft_index: int = 0
    citations: list[dict[str, Any]] = Field(default_factory=list)
    tool_results: list[dict[str, Any]] = Field(default_factory=list)
    proposed_actions: list[ProposedAction] = Field(default_factory=list)
    choice: str = "pending"
    final_text: str | None = None
    created_at: datetime | None = None


class ConversationDetail(_Lenient):
    conversation: ConversationInfo
    messages: list[TranscriptMessage] = Field(default_factory=list)
    customer: dict[str, Any] | None = None
    orders: list[dict[str, Any]] = Field(default_factory=list)
    suggestions: list[SuggestedReply] = Field(default_factory=list)
    sla: dict[str, Any] = Field(default_factory=dict)
    effort: dict[str, Any] = Field(default_factory=dict)
    history: list[dict[str, Any]] = Field(default_factory=list)


class Insights(_Lenient):
    """Desk metrics; every field is optional so a partial answer still renders."""

    conversations: int | None = None
    resolution_rate: float | None = None
    takeover_rate: float | None = None
    takeovers: int | None = None
    takeover_reasons: dict[str, int] = Field(default_factory=dict)
    median_first_response_s: float | None = None
    median_human_response_s: float | None = None
    suggestion_acceptance_rate: float | None = None
    suggestions: dict[str, float] = Field(default_factory=dict)
    # [{"day": "2025-01-31", "mean_sentiment": -0.2, "messages": 12}, ...]
    sentiment_over_time: list[dict[str, Any]] = Field(default_factory=list)
    overall: dict[str, Any] = Field(default_factory=dict)  # ASA, times, rates, CES, SLA breaches
    by: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)  # the same by day, team, channel, agent


DETAIL_PARTS = ("customer", "orders", "suggestions", "sla", "effort", "history")


def _conversation_detail(payload: Any) -> ConversationDetail:
    """Accept both {"conversation": {...}, "messages": [...]} and a flat conversation with its messages."""
    if not isinstance(payload, dict):
        raise ApiError(200, f"expected a conversation object, got {type(payload).__name__}")
    if "conversation" not in payload:
        flat = dict(payload)
        messages = flat.pop("messages", flat.pop("transcript", []))
        extras = {k: flat.pop(k) for k in DETAIL_PARTS if k in flat}
        payload = {"conversation": flat, "messages": messages, **extras}
    elif "messages" not in payload and "transcript" in payload:
        payload = {**payload, "messages": payload["transcript"]}
    return ConversationDetail.model_validate(payload)


# --- the client --------------------------------------------------------------------------------
class AgentApiClient:
    """Typed calls to /v1/agent/*; one instance per console session (it keeps a connection pool)."""

    def __init__(
        self,
        base_url: str,
        agent_key: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        base_url = (base_url or "").strip().rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ConsoleError(f"the API URL must start with http:// or https:// (got {base_url!r})")
        if not agent_key or not agent_key.strip():
            raise AuthError("no agent key: pass --agent-key or set PARLEY_AGENT_KEY")
        self.base_url = base_url
        self.agent_key = agent_key.strip()  # kept with this session's client (the timeline API uses it)
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {agent_key.strip()}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AgentApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ------------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(response.status_code, "the API answered with something not JSON") from exc

    def _text_request(self, method: str, path: str, **kwargs: Any) -> str:
        return self._send(method, path, **kwargs).text

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise ApiUnavailable(f"the Parley API at {self.base_url} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise ApiUnavailable(f"cannot reach the Parley API at {self.base_url}: {exc}") from exc
        if response.is_success:
            return response
        detail = _detail(response)
        if response.status_code in (401, 403):
            raise AuthError(f"the API rejected the agent key ({response.status_code}): {detail}")
        if response.status_code == 404:
            raise NotFound(detail)
        if response.status_code == 409:
            raise OwnershipConflict(detail)
        raise ApiError(response.status_code, detail)

    @staticmethod
    def _cid(conversation_id: str) -> str:
        cid = (conversation_id or "").strip()
        if not cid or len(cid) > 200:
            raise ValueError("a conversation id is required (at most 200 characters)")
        return quote(cid, safe="")

    @staticmethod
    def _text(text: str) -> str:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("the message is empty")
        if len(text) > MAX_TEXT_CHARS:
            raise ValueError(f"the message is too long ({len(text)} characters, at most {MAX_TEXT_CHARS})")
        return text.strip()

    @staticmethod
    def _parse(model: type[BaseModel], payload: Any) -> Any:
        try:
            return model.model_validate(payload)
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise ApiError(200, f"unexpected {model.__name__} from the API: {problem}") from exc

    # --- reading -------------------------------------------------------------------------------
    def whoami(self) -> str | None:
        """The agent name this key belongs to, when the API says (None on APIs without /me)."""
        try:
            payload = self._request("GET", "/v1/agent/me")
        except NotFound:
            return None
        if isinstance(payload, dict):
            name = payload.get("agent") or payload.get("name")
            return str(name) if name else None
        return None

    def queue(self) -> list[QueueItem]:
        payload = self._request("GET", "/v1/agent/queue")
        items = payload.get("queue", payload.get("items", [])) if isinstance(payload, dict) else payload
        return [self._parse(QueueItem, item) for item in items or []]

    def conversations(self, status: str | None = None) -> list[ConversationInfo]:
        params = {"status": status} if status else None
        payload = self._request("GET", "/v1/agent/conversations", params=params)
        items = payload.get("conversations", []) if isinstance(payload, dict) else payload
        return [self._parse(ConversationInfo, item) for item in items or []]

    def conversation(self, conversation_id: str) -> ConversationDetail:
        payload = self._request("GET", f"/v1/agent/conversations/{self._cid(conversation_id)}")
        try:
            return _conversation_detail(payload)
        except ValidationError as exc:
            raise ApiError(200, f"unexpected conversation from the API: {exc.errors()[0]['msg']}") from exc

    def suggestions(self, conversation_id: str) -> list[SuggestedReply]:
        payload = self._request("GET", f"/v1/agent/conversations/{self._cid(conversation_id)}/suggestions")
        return _suggestion_list(payload, self._parse)

    def insights(self) -> Insights:
        result: Insights = self._parse(Insights, self._request("GET", "/insights"))
        return result

    # --- changing ------------------------------------------------------------------------------
    def claim(self, conversation_id: str) -> ConversationInfo:
        return self._conversation_result(
            self._request("POST", f"/v1/agent/conversations/{self._cid(conversation_id)}/claim")
        )

    def hand_back(self, conversation_id: str) -> ConversationInfo:
        return self._conversation_result(
            self._request("POST", f"/v1/agent/conversations/{self._cid(conversation_id)}/handback")
        )

    def close_conversation(self, conversation_id: str) -> ConversationInfo:
        return self._conversation_result(
            self._request("POST", f"/v1/agent/conversations/{self._cid(conversation_id)}/close")
        )

    def send_message(self, conversation_id: str, text: str) -> TranscriptMessage:
        payload = self._request(
            "POST",
            f"/v1/agent/conversations/{self._cid(conversation_id)}/messages",
            json={"text": self._text(text)},
        )
        if isinstance(payload, dict) and "message" in payload:
            payload = payload["message"]
        result: TranscriptMessage = self._parse(TranscriptMessage, payload)
        return result

    def generate_suggestions(self, conversation_id: str) -> list[SuggestedReply]:
        payload = self._request("POST", f"/v1/agent/conversations/{self._cid(conversation_id)}/suggestions")
        return _suggestion_list(payload, self._parse)

    def decide_suggestion(
        self, conversation_id: str, suggestion_id: int, choice: SuggestionDecision, text: str | None = None
    ) -> SuggestedReply:
        """Record the agent's choice; accepted and edited drafts are sent to the customer by the API."""
        if choice not in ("accepted", "edited", "rejected"):
            raise ValueError(f"choice must be accepted, edited or rejected (got {choice!r})")
        body: dict[str, Any] = {"choice": choice}
        if choice == "edited":
            body["text"] = self._text(text or "")
        elif text is not None and text.strip():
            body["text"] = text
        payload = self._request(
            "POST",
            f"/v1/agent/conversations/{self._cid(conversation_id)}/suggestions/{int(suggestion_id)}",
            json=body,
        )
        if isinstance(payload, dict) and "suggestion" in payload:
            payload = payload["suggestion"]
        result: SuggestedReply = self._parse(SuggestedReply, payload)
        return result

    def _conversation_result(self, payload: Any) -> ConversationInfo:
        if isinstance(payload, dict) and "conversation" in payload:
            payload = payload["conversation"]
        result: ConversationInfo = self._parse(ConversationInfo, payload)
        return result


def _suggestion_list(payload: Any, parse: Any) -> list[SuggestedReply]:
    items = payload.get("suggestions", []) if isinstance(payload, dict) else payload
    return [parse(SuggestedReply, item) for item in items or []]


def _detail(response: httpx.Response) -> str:
    """FastAPI puts the reason in {"detail": ...}; a list of validation errors becomes one sentence."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, list):
        parts = [str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail]
        return "; ".join(parts)[:500]
    return str(detail)[:500]
