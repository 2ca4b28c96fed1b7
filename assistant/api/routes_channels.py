"""Channel webhooks: verify the provider's signature, store the message once, answer at once.

The turn runs later in `parley worker` (docs/channels.md), so a provider never waits for a model. Forged
signatures: 403, missing ones: 401, nothing stored. Malformed payloads: 400. A channel without settings: 404.
A replay of a stored message is acknowledged (200) and stored once.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import State
from assistant.channels.answers import answer_signature_ok
from assistant.channels.api_channel import ApiChannelAdapter
from assistant.channels.base import (
    ChannelNotConfigured,
    InboundMessage,
    MissingSignature,
    PayloadError,
    SignatureError,
    same,
)
from assistant.channels.email_in import parse_form_webhook, parse_json_webhook, verify_mailgun
from assistant.channels.inbox import Inbox
from assistant.channels.sms import EMPTY_TWIML, SmsAdapter
from assistant.channels.whatsapp import WhatsAppAdapter, handshake
from assistant.store.models import MessageRole

router = APIRouter(prefix="/v1/channels", tags=["channels"])
DOC: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed payload (nothing stored)"},
    401: {"description": "Signature missing (nothing stored)"},
    403: {"description": "Signature does not match (nothing stored)"},
    404: {"description": "This channel is not configured"},
}


@contextmanager
def webhook_errors() -> Iterator[None]:
    try:
        yield
    except MissingSignature as exc:
        raise HTTPException(status_code=401, detail=str(exc)) from exc
    except SignatureError as exc:
        raise HTTPException(status_code=403, detail=str(exc)) from exc
    except PayloadError as exc:
        raise HTTPException(status_code=400, detail=f"malformed payload: {exc}") from exc
    except ChannelNotConfigured as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc


def _inbox(state: State) -> Inbox:
    state.service.conversations  # noqa: B018  (migrates on first use)
    return Inbox(str(state.settings.database_url))


async def _store(state: State, messages: list[InboundMessage]) -> dict[str, int]:
    inbox = _inbox(state)
    stored = [await run_in_threadpool(inbox.store, m) for m in messages]
    return {"stored": sum(s.created for s in stored), "duplicates": sum(not s.created for s in stored)}


@router.get("/whatsapp/webhook", summary="WhatsApp subscription handshake", response_class=PlainTextResponse)
async def whatsapp_handshake(request: Request, state: State) -> str:
    """Meta calls this with hub.mode=subscribe, hub.verify_token and hub.challenge; we echo the challenge."""
    q = request.query_params
    with webhook_errors():
        return handshake(
            state.settings.whatsapp_verify_token,
            q.get("hub.mode"),
            q.get("hub.verify_token"),
            q.get("hub.challenge"),
        )


@router.post("/whatsapp/webhook", summary="WhatsApp messages (X-Hub-Signature-256)", responses=DOC)
async def whatsapp_webhook(request: Request, state: State) -> dict[str, int]:
    body = await request.body()
    adapter = WhatsAppAdapter(state.settings)
    with webhook_errors():
        adapter.verify(body, request.headers.get("x-hub-signature-256"))
        messages = adapter.parse(body)
    return await _store(state, messages)


@router.post("/sms/webhook", summary="Twilio SMS (X-Twilio-Signature)", responses=DOC)
async def sms_webhook(request: Request, state: State) -> Response:
    form = await request.form()
    params = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    # Twilio signs the URL it called: our public URL, this path and the query string.
    url = state.settings.public_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    adapter = SmsAdapter(state.settings)
    with webhook_errors():
        adapter.verify(url, params, request.headers.get("x-twilio-signature"))
        message = adapter.parse(params)
    await _store(state, [message])
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post(
    "/email/inbound", summary="A mail provider's inbound-parse webhook (JSON or multipart)", responses=DOC
)
async def email_inbound(request: Request, state: State) -> dict[str, int]:
    """JSON (Postmark's shape) with HTTP Basic auth whose password is `email_inbound_secret`, or a
    multipart form (Mailgun's shape) signed with `email_inbound_secret` as the signing key."""
    secret = state.settings.email_inbound_secret
    own = state.settings.email_address
    with webhook_errors():
        if not secret:
            raise ChannelNotConfigured("the email inbound webhook is not configured")
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            _check_basic(request.headers.get("authorization"), secret)
            try:
                data = json.loads(await request.body())
            except ValueError as exc:
                raise PayloadError("body is not JSON") from exc
            message = parse_json_webhook(data, own)
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            form = await request.form()
            fields = {k: v for k, v in form.items() if isinstance(v, str)}
            verify_mailgun(fields, secret)
            files = [
                (str(v.filename or "unnamed"), str(v.content_type or "?"), int(v.size or 0))
                for _, v in form.multi_items()
                if not isinstance(v, str)
            ]
            message = parse_form_webhook(fields, files, own)
        else:
            raise PayloadError("send application/json or multipart/form-data")
    return await _store(state, [message])


def _check_basic(header: str | None, secret: str) -> None:
    import base64

    if not header or not header.lower().startswith("basic "):
        raise MissingSignature("HTTP Basic authentication is required")
    try:
        _, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except ValueError as exc:
        raise SignatureError("malformed Basic credentials") from exc
    if not same(password, secret):
        raise SignatureError("wrong credentials")


@router.post(
    "/api/messages", summary="The signed API channel (X-Parley-Signature)", status_code=202, responses=DOC
)
async def api_message(request: Request, state: State) -> dict[str, int]:
    body = await request.body()
    adapter = ApiChannelAdapter(state.settings)
    with webhook_errors():
        adapter.verify(
            body, request.headers.get("x-parley-timestamp"), request.headers.get("x-parley-signature")
        )
        message = adapter.parse(body)
    return await _store(state, [message])


@router.get(
    "/answers/{conversation_id}/{seq}",
    summary="The full cited answer behind a shortened SMS / WhatsApp message (signed link)",
    response_class=HTMLResponse,
)
async def full_answer(conversation_id: str, seq: int, sig: str, state: State) -> HTMLResponse:
    if (
        not 0 < seq < 2**31
        or len(conversation_id) > 64
        or len(sig) > 64
        or not answer_signature_ok(state.settings, conversation_id, seq, sig)
    ):
        raise HTTPException(status_code=404, detail="answer not found")
    messages = await run_in_threadpool(state.service.conversations.messages, conversation_id, max(0, seq - 1))
    message = next(
        (m for m in messages if m.seq == seq and m.role in (MessageRole.BOT, MessageRole.AGENT)), None
    )
    if message is None:
        raise HTTPException(status_code=404, detail="answer not found")
    sources = "".join(
        f"<li>[{c.ref}] "
        + (
            f'<a href="{html.escape(str(c.url), quote=True)}">{html.escape(str(c.title))}</a>'
            if str(c.url or "").startswith(("https://", "http://"))
            else html.escape(str(c.title))
        )
        + "</li>"
        for c in message.citations
    )
    page = (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(state.settings.shop_name)}</title>"
        f"<p style='white-space:pre-wrap'>{html.escape(message.text)}</p>"
        + (f"<p>Sources:</p><ul>{sources}</ul>" if sources else "")
    )
    return HTMLResponse(
        page, headers={"Content-Security-Policy": "default-src 'none'", "Cache-Control": "no-store"}
    )
