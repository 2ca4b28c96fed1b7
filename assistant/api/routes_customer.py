"""Customer routes: start a conversation, send a message (streamed), read the own transcript, live events."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import (
    CustomerConversation,
    State,
    limit_conversation,
    limit_ip,
    message_text,
    request_ip,
)
from assistant.api.schemas import (
    EventsResponse,
    MessageRequest,
    PublicMessage,
    StartConversationRequest,
    StartConversationResponse,
    TranscriptResponse,
    TurnResponse,
    error_docs,
)
from assistant.api.token_pieces import TokenPieces
from assistant.identity.tokens import InvalidCustomerToken, verify_customer_token
from assistant.service import TurnResult
from assistant.store.conversations import Message
from assistant.store.models import ConversationStatus, MessageRole

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/conversations", tags=["customer"], dependencies=[Depends(limit_ip)])

CUSTOMER_VISIBLE = (MessageRole.CUSTOMER, MessageRole.BOT, MessageRole.AGENT)
NOT_FOUND_DOC = error_docs({404: "Unknown conversation, or missing/wrong secret (same answer)"})
LIMIT_DOC = error_docs({429: "Rate limited"})
AGENT_ERROR = "the assistant could not answer right now; your message was saved, please try again"
EVENTS_POLL_S = 1.0


def public_message(message: Message) -> PublicMessage:
    return PublicMessage.model_validate(
        {
            "seq": message.seq,
            "role": message.role.value,
            "text": message.text,
            "author": message.author if message.role == MessageRole.AGENT else None,
            "citations": message.citations,
            "created_at": message.created_at,
        }
    )


def public_turn(result: TurnResult) -> dict[str, Any]:
    """What a customer may see of a turn: tool names, arguments and ok, never tool outputs or guard data;
    the conversation's language after the turn (the widget speaks it)."""
    awaiting = None
    if result.awaiting_confirmation:
        awaiting = {
            "action_id": result.awaiting_confirmation.get("action_id"),
            "actions": [
                {
                    "name": a.get("name", ""),
                    "arguments": a.get("args", a.get("arguments", {})) or {},
                    "description": str(a.get("description", a.get("name", ""))),
                }
                for a in result.awaiting_confirmation.get("actions", [])
            ],
        }
    return TurnResponse.model_validate(
        {
            "reply": result.reply,
            "citations": result.citations,
            "tool_calls": [t.public() for t in result.tool_calls],
            "status": result.status.value,
            "handover": result.handover,
            "awaiting_confirmation": awaiting,
            "customer_seq": result.customer_seq,
            "reply_seq": result.reply_seq,
            "language": result.language,
        }
    ).model_dump(mode="json")


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


@router.post(
    "",
    summary="Start a conversation",
    response_model=StartConversationResponse,
    status_code=201,
    responses={**error_docs({401: "Invalid or expired customer token"}), **LIMIT_DOC},
)
async def start_conversation(
    http: Request, state: State, body: StartConversationRequest | None = None
) -> dict[str, Any]:
    """Open a conversation. With a `customer_token` signed by the shop, it is bound to that shop user
    (no need to give an email in chat). Keep the returned `secret`: every later call needs it."""
    request = body or StartConversationRequest.model_validate({})
    user_id = None
    if request.customer_token is not None:
        try:
            user_id = verify_customer_token(
                request.customer_token,
                state.settings.customer_token_secret,
                max_lifetime_s=state.settings.customer_token_max_lifetime_s,
            )
        except InvalidCustomerToken as exc:
            raise HTTPException(status_code=401, detail=str(exc)) from exc
    conversation, secret = await run_in_threadpool(
        state.service.start_conversation, request.channel, user_id, request.language
    )
    # desk: the (hashed) client IP, for fair share of the human queue between origins
    client_ip = request_ip(http, state)
    await run_in_threadpool(state.service.router.record_origin, conversation.id, client_ip)
    return {
        "conversation_id": conversation.id,
        "secret": secret,
        "status": conversation.status.value,
        "authenticated": user_id is not None,
    }


@router.post(
    "/{conversation_id}/messages",
    summary="Send a customer message (streams the answer)",
    response_model=TurnResponse,
    responses={
        200: {
            "description": "`text/event-stream` (default): `token` events ({text}) then one `final` event "
            "(this object) or an `error` event ({detail, message_stored}). With `Accept: application/json`: "
            "this object.",
            "content": {"text/event-stream": {}},
        },
        **error_docs(
            {
                409: "The conversation is closed",
                422: "Empty, too long or malformed message",
                503: "The assistant failed (JSON mode); the message is stored",
            }
        ),
        **NOT_FOUND_DOC,
        **LIMIT_DOC,
    },
)
async def send_message(
    request: Request, body: MessageRequest, conversation: CustomerConversation, state: State
) -> Any:
    text = message_text(body.text, state)
    if conversation.status == ConversationStatus.CLOSED:
        raise HTTPException(status_code=409, detail="this conversation is closed; start a new one")
    limit_conversation(state, conversation.id)
    wants_json = "application/json" in request.headers.get("accept", "") and "text/event-stream" not in (
        request.headers.get("accept", "")
    )
    if wants_json:
        return await _turn_json(state, conversation.id, text, body.action_id)
    return StreamingResponse(
        _turn_stream(state, conversation.id, text, body.action_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _run_turn(
    state: State, conversation_id: str, text: str, on_token: Any = None, action_id: str | None = None
) -> TurnResult:
    started = time.perf_counter()
    try:
        result = state.service.customer_turn(conversation_id, text, on_token=on_token, action_id=action_id)
    except Exception:
        state.metrics.errors.labels(kind="turn").inc()
        state.metrics.turns.labels(outcome="error").inc()
        log.exception("customer turn failed in conversation %s", conversation_id)
        raise
    state.metrics.turn_latency.observe(time.perf_counter() - started)
    outcome = "silent" if result.reply is None else ("failed" if result.failed else "answered")
    state.metrics.turns.labels(outcome=outcome).inc()
    if result.handover:
        state.metrics.takeovers.labels(
            trigger=str((result.guard.trigger if result.guard else None) or "agent_transfer")
        ).inc()
    return result


def _message_stored(state: State, conversation_id: str, after_seq: int, text: str) -> bool:
    try:
        return any(
            m.role == MessageRole.CUSTOMER and m.text == text
            for m in state.service.conversations.messages(conversation_id, after_seq=after_seq)
        )
    except Exception:  # the store itself is down
        return False


def _last_seq(state: State, conversation_id: str) -> int:
    return state.service.conversations.last_seq(conversation_id)


async def _turn_json(state: State, conversation_id: str, text: str, action_id: str | None = None) -> Any:
    before = await run_in_threadpool(_last_seq, state, conversation_id)
    loop = asyncio.get_running_loop()
    try:
        result = await loop.run_in_executor(
            state.turn_pool, _run_turn, state, conversation_id, text, None, action_id
        )
    except Exception:
        stored = await run_in_threadpool(_message_stored, state, conversation_id, before, text)
        detail = AGENT_ERROR if stored else "the assistant could not answer right now; please send it again"
        return JSONResponse(status_code=503, content={"detail": detail, "message_stored": stored})
    return public_turn(result)


async def _turn_stream(
    state: State, conversation_id: str, text: str, action_id: str | None = None
) -> AsyncIterator[bytes]:
    """Run the turn in a worker thread; its tokens come back through a queue as SSE `token` events."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    pieces = TokenPieces()  # pieces that arrive faster than the client is written go out as one event

    def on_token(piece: str) -> None:
        if pieces.add(piece):
            loop.call_soon_threadsafe(queue.put_nowait, ("token", None))

    before = await run_in_threadpool(_last_seq, state, conversation_id)

    def work() -> None:
        try:
            result = _run_turn(state, conversation_id, text, on_token, action_id)
            loop.call_soon_threadsafe(queue.put_nowait, ("final", result))
        except Exception as exc:
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))

    # A client that disconnects does not cancel the turn: the worker finishes it and stores the reply.
    loop.run_in_executor(state.turn_pool, work)
    while True:
        kind, payload = await queue.get()
        if kind == "token":
            if text_so_far := pieces.take():
                yield _sse("token", {"text": text_so_far})
        elif kind == "final":
            if rest := pieces.take():
                yield _sse("token", {"text": rest})
            yield _sse("final", public_turn(payload))
            return
        else:
            stored = await run_in_threadpool(_message_stored, state, conversation_id, before, text)
            detail = AGENT_ERROR if stored else "the assistant could not answer; please send it again"
            yield _sse("error", {"detail": detail, "message_stored": stored})
            return


@router.get(
    "/{conversation_id}",
    summary="The customer's own transcript",
    response_model=TranscriptResponse,
    responses={**NOT_FOUND_DOC, **LIMIT_DOC},
)
async def get_conversation(conversation: CustomerConversation, state: State) -> dict[str, Any]:
    """Customer, bot and agent messages; system notes, tool traces and guard details are not shown."""
    messages = await run_in_threadpool(state.service.conversations.messages, conversation.id)
    return {
        "conversation_id": conversation.id,
        "status": conversation.status.value,
        "language": conversation.language,
        "messages": [public_message(m) for m in messages if m.role in CUSTOMER_VISIBLE],
    }


@router.get(
    "/{conversation_id}/messages",
    summary="Messages after a sequence number",
    response_model=list[PublicMessage],
    responses={**NOT_FOUND_DOC, **LIMIT_DOC},
)
async def list_messages(
    conversation: CustomerConversation,
    state: State,
    after: int = Query(0, ge=0, le=2**31, description="Only messages with seq greater than this"),
) -> list[PublicMessage]:
    messages = await run_in_threadpool(state.service.conversations.messages, conversation.id, after)
    return [public_message(m) for m in messages if m.role in CUSTOMER_VISIBLE]


@router.get(
    "/{conversation_id}/events",
    summary="New messages and status, live (long-poll JSON or SSE)",
    response_model=EventsResponse,
    responses={
        200: {
            "description": "JSON (default): returns as soon as there is a message after `after`, or at "
            "`timeout`. With `Accept: text/event-stream`: `message` and `status` events until `timeout`.",
            "content": {"text/event-stream": {}},
        },
        **NOT_FOUND_DOC,
        **LIMIT_DOC,
    },
)
async def events(
    request: Request,
    conversation: CustomerConversation,
    state: State,
    after: int = Query(0, ge=0, le=2**31, description="Last seq the client has"),
    timeout: float = Query(25.0, ge=0, le=55, description="Seconds to wait for something new"),
) -> Any:
    """The store is polled (about once a second), so a message written by any worker shows up here."""
    store = state.service.conversations
    deadline = time.monotonic() + timeout

    def snapshot(after_seq: int) -> tuple[str, list[Message]]:
        current = store.get(conversation.id)
        return current.status.value, store.messages(conversation.id, after_seq)

    if "text/event-stream" in request.headers.get("accept", ""):

        async def stream() -> AsyncIterator[bytes]:
            last_seq, last_status = after, None
            while True:
                status, messages = await run_in_threadpool(snapshot, last_seq)
                if status != last_status:
                    yield _sse("status", {"status": status})
                    last_status = status
                for message in messages:
                    last_seq = message.seq
                    if message.role in CUSTOMER_VISIBLE:
                        yield _sse("message", public_message(message).model_dump(mode="json"))
                if time.monotonic() >= deadline or await request.is_disconnected():
                    break
                yield b": keep-alive\n\n"
                await asyncio.sleep(EVENTS_POLL_S)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    while True:
        status, messages = await run_in_threadpool(snapshot, after)
        if messages or time.monotonic() >= deadline or status != conversation.status.value:
            break
        if await request.is_disconnected():
            break
        await asyncio.sleep(min(EVENTS_POLL_S, max(0.0, deadline - time.monotonic())))
    last_seq = messages[-1].seq if messages else after
    return {
        "status": status,
        "messages": [public_message(m) for m in messages if m.role in CUSTOMER_VISIBLE],
        "last_seq": last_seq,
    }
