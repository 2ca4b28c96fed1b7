"""The generic API channel: a shop bridges anything (Messenger, Telegram, an app) with signed JSON webhooks.

In: POST /v1/channels/api/messages with `X-Parley-Timestamp` (unix seconds) and `X-Parley-Signature:
sha256=<hex HMAC-SHA256 of "{timestamp}.{raw body}">`; body `{"id", "user": {"id", "name"?}, "text"}`.
Out: the same signature on a POST of `{"id", "conversation_id", "user_id", "text", "citations"}` to
`api_channel_outbound_url`. Timestamps older than five minutes are refused (replayed captures).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from assistant.channels import base
from assistant.channels.base import Delivered, InboundMessage, OutboundMessage, same
from assistant.channels.http import post
from assistant.channels.render import plain_text
from knowledge.settings import Settings

MAX_SKEW_S = 300


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class ApiChannelAdapter:
    name = "api"
    identity_kind = "api"

    def __init__(self, settings: Settings, clock: Any = time.time) -> None:
        self.settings = settings
        self.clock = clock

    def verify(self, body: bytes, timestamp: str | None, header: str | None) -> None:
        secret = self.settings.api_channel_secret
        if not secret:
            raise base.ChannelNotConfigured("the API channel is not configured")
        if not header or not timestamp:
            raise base.MissingSignature("X-Parley-Signature and X-Parley-Timestamp are required")
        try:
            skew = abs(self.clock() - int(timestamp))
        except ValueError as exc:
            raise base.SignatureError("X-Parley-Timestamp must be unix seconds") from exc
        if skew > MAX_SKEW_S:
            raise base.SignatureError("X-Parley-Timestamp is too old or in the future")
        if not same(header.strip(), signature(secret, timestamp, body)):
            raise base.SignatureError("X-Parley-Signature does not match")

    def parse(self, body: bytes) -> InboundMessage:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise base.PayloadError("body is not JSON") from exc
        user = data.get("user") if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(user, dict):
            raise base.PayloadError("expected {id, user: {id, name?}, text}")
        message_id, user_id, text = data.get("id"), user.get("id"), data.get("text")
        if not isinstance(message_id, str) or not message_id or not isinstance(user_id, str) or not user_id:
            raise base.PayloadError("'id' and 'user.id' must be non-empty strings")
        if text is not None and not isinstance(text, str):
            raise base.PayloadError("'text' must be a string")
        name = user.get("name") if isinstance(user.get("name"), str) else None
        return InboundMessage.text_from(self, message_id, user_id, text, 4000, display_name=name)

    def deliver(self, recipient: str, message: OutboundMessage) -> Delivered:
        s = self.settings
        if not (s.api_channel_secret and s.api_channel_outbound_url):
            raise base.DeliveryError("the API channel has no secret or outbound URL", permanent=True)
        payload = {
            "id": f"{message.conversation_id}:{hashlib.sha256(message.text.encode()).hexdigest()[:12]}",
            "conversation_id": message.conversation_id,
            "user_id": recipient,
            "text": plain_text(message.text),
            "citations": message.citations,
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        timestamp = str(int(self.clock()))
        answer = post(
            s.api_channel_outbound_url,
            s.channel_provider_timeout_s,
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Parley-Timestamp": timestamp,
                "X-Parley-Signature": signature(s.api_channel_secret, timestamp, body),
            },
        )
        return Delivered(str(answer.get("id")) if isinstance(answer, dict) and answer.get("id") else None)
