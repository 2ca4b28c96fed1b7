"""Shared dependencies: the app's state (settings, service, desk, limits, metrics) and authentication.

Everything a request needs comes from the store or from settings; process memory holds only caches and
the (per-process) rate-limit counters, so any number of workers can serve the same conversations.
"""

from __future__ import annotations

import hmac
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request

from assistant.api.client_ip import client_address
from assistant.api.limits import RateLimiter, retry_after_header
from assistant.api.metrics import ApiMetrics
from assistant.api.schemas import ResponseDocs, error_docs
from assistant.desk import AgentDesk
from assistant.service import SupportService
from assistant.store.conversations import Conversation
from knowledge.settings import Settings

NOT_FOUND = "conversation not found"  # the same words for an unknown id and a wrong secret
MAX_SECRET_CHARS = 128


@dataclass
class ApiState:
    settings: Settings
    service: SupportService
    metrics: ApiMetrics = field(default_factory=ApiMetrics)

    @cached_property
    def turn_pool(self) -> ThreadPoolExecutor:
        """Customer turns run here, at most `effective_turn_threads` at once (the rest queue in order)."""
        size = self.settings.effective_turn_threads
        return ThreadPoolExecutor(size, thread_name_prefix="parley-turn")

    @cached_property
    def desk(self) -> AgentDesk:
        return AgentDesk(self.service)

    @cached_property
    def conversation_limiter(self) -> RateLimiter:
        return RateLimiter(self.settings.rate_limit_per_conversation)

    @cached_property
    def ip_limiter(self) -> RateLimiter:
        return RateLimiter(self.settings.rate_limit_per_ip)


def get_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.parley
    return state


State = Annotated[ApiState, Depends(get_state)]


def _too_many(state: ApiState, scope: str, wait_s: float) -> HTTPException:
    state.metrics.rate_limited.labels(scope=scope).inc()
    return HTTPException(
        status_code=429,
        detail=f"too many requests ({scope} limit); retry after {retry_after_header(wait_s)} s",
        headers={"Retry-After": retry_after_header(wait_s)},
    )


def request_ip(request: Request, state: ApiState) -> str:
    """The client's address: the peer, or what a configured trusted proxy says (see client_ip.py)."""
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), state.settings.trusted_proxies)


def limit_ip(request: Request, state: State) -> None:
    """Per client IP (per worker process, see limits.py)."""
    wait_s = state.ip_limiter.hit(request_ip(request, state))
    if wait_s:
        raise _too_many(state, "ip", wait_s)


def limit_conversation(state: ApiState, conversation_id: str) -> None:
    wait_s = state.conversation_limiter.hit(conversation_id)
    if wait_s:
        raise _too_many(state, "conversation", wait_s)


def customer_conversation(
    conversation_id: str,
    state: State,
    x_conversation_secret: Annotated[
        str | None, Header(description="The secret returned when the conversation was started")
    ] = None,
) -> Conversation:
    """The conversation, only for the holder of its secret. Unknown id, missing or wrong secret: the
    same 404, so the API is no oracle for which conversations exist."""
    secret = x_conversation_secret or ""
    # `authorized` hashes and compares in constant time, and does the same work for unknown ids.
    if len(conversation_id) > 64 or len(secret) > MAX_SECRET_CHARS:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    conversation = state.service.conversations.authorized(conversation_id, secret)
    if conversation is None:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    return conversation


CustomerConversation = Annotated[Conversation, Depends(customer_conversation)]


def require_agent(
    state: State,
    authorization: Annotated[str | None, Header(description="Bearer <agent key>")] = None,
    x_agent_key: Annotated[str | None, Header(description="The agent key (alternative to Bearer)")] = None,
) -> str:
    """The agent's name for a valid key (settings.agent_keys name -> key), 401 otherwise."""
    key = x_agent_key
    if key is None and authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            key = value.strip()
    if not key:
        raise HTTPException(
            status_code=401,
            detail="agent key required (Authorization: Bearer <key> or X-Agent-Key)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    match = None
    for name, expected in state.settings.agent_keys.items():
        # compare against every key (no early exit) in constant time per key
        if hmac.compare_digest(expected.encode(), key.encode()) and match is None:
            match = name
    if match is None:
        raise HTTPException(
            status_code=401, detail="invalid agent key", headers={"WWW-Authenticate": "Bearer"}
        )
    return match


AgentName = Annotated[str, Depends(require_agent)]


def message_text(text: str, state: ApiState) -> str:
    """A message from a customer or an agent, stripped: 422 when empty or over max_message_chars."""
    cleaned = text.strip()
    if not cleaned:
        raise HTTPException(status_code=422, detail="message text is empty")
    if len(cleaned) > state.settings.max_message_chars:
        raise HTTPException(
            status_code=422,
            detail=f"message is {len(cleaned)} characters; the limit is {state.settings.max_message_chars}",
        )
    return cleaned


def agent_router(tag: str, prefix: str = "", responses: ResponseDocs | None = None) -> APIRouter:
    """A router of agent routes: rate limited per IP, an agent key required (401 documented first)."""
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        dependencies=[Depends(limit_ip), Depends(require_agent)],
        responses={**error_docs({401: "Missing or invalid agent key"}), **(responses or {})},
    )
