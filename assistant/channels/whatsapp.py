"""WhatsApp (Meta Cloud API): the GET verification handshake, X-Hub-Signature-256 on webhooks, messages out
through the Graph API (`{base}/{phone-number-id}/messages`), text or interactive reply buttons."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from assistant.channels import base
from assistant.channels.base import Delivered, InboundMessage, OutboundMessage, same
from assistant.channels.http import post
from assistant.channels.render import WHATSAPP_BUTTON_TITLE, whatsapp_body
from knowledge.settings import Settings

TEXT_TYPES = ("text", "interactive", "button")


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def handshake(verify_token: str | None, mode: str | None, token: str | None, challenge: str | None) -> str:
    """The challenge to echo when Meta's subscription request carries our verify token."""
    if not verify_token:
        raise base.ChannelNotConfigured("whatsapp is not configured")
    if mode != "subscribe" or not token or not same(token, verify_token) or not challenge:
        raise base.SignatureError("verify token does not match")
    return challenge


def _text_of(message: dict[str, Any]) -> str | None:
    kind = message.get("type")
    if kind == "text":
        return str((message.get("text") or {}).get("body") or "")
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return str(reply.get("title") or "")
    if kind == "button":
        return str((message.get("button") or {}).get("text") or "")
    return None


class WhatsAppAdapter:
    name = "whatsapp"
    identity_kind = "whatsapp"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def verify(self, body: bytes, header: str | None) -> None:
        secret = self.settings.whatsapp_app_secret
        if not secret:
            raise base.ChannelNotConfigured("whatsapp is not configured")
        if not header:
            raise base.MissingSignature("X-Hub-Signature-256 is missing")
        if not same(header.strip(), signature(secret, body)):
            raise base.SignatureError("X-Hub-Signature-256 does not match the body")

    def parse(self, body: bytes) -> list[InboundMessage]:
        """Customer messages of a webhook (status updates carry none). Stickers, locations, voice, images:
        `unsupported` messages, answered politely."""
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise base.PayloadError("body is not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
            raise base.PayloadError("expected a WhatsApp webhook object with an 'entry' list")
        found: list[InboundMessage] = []
        for entry in data["entry"]:
            for change in (entry or {}).get("changes", []) if isinstance(entry, dict) else []:
                value = (change or {}).get("value") if isinstance(change, dict) else None
                if not isinstance(value, dict):
                    raise base.PayloadError("a change has no 'value' object")
                names = {
                    str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "") or None
                    for c in value.get("contacts", []) or []
                    if isinstance(c, dict)
                }
                for message in value.get("messages", []) or []:
                    if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
                        raise base.PayloadError("a message lacks 'id' or 'from'")
                    text = _text_of(message)
                    found.append(
                        InboundMessage.text_from(
                            self,
                            str(message["id"]),
                            str(message["from"]),
                            text,
                            4096,
                            display_name=names.get(str(message["from"])),
                            received_at=str(message.get("timestamp") or "") or None,
                        )
                    )
        return found

    def deliver(self, recipient: str, message: OutboundMessage) -> Delivered:
        s = self.settings
        if not (s.whatsapp_access_token and s.whatsapp_phone_number_id):
            raise base.DeliveryError(
                "whatsapp is not configured (access token, phone number id)", permanent=True
            )
        to = recipient.lstrip("+")
        body = whatsapp_body(message.text, message.citations, message.full_answer_url)
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        if message.buttons and len(body) <= 1024:
            payload |= {
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": body},
                    "action": {
                        "buttons": [
                            {
                                "type": "reply",
                                "reply": {"id": f"b{i}", "title": title[:WHATSAPP_BUTTON_TITLE]},
                            }
                            for i, title in enumerate(message.buttons[:3])
                        ]
                    },
                },
            }
        else:
            payload |= {"type": "text", "text": {"preview_url": False, "body": body}}
        answer = post(
            f"{s.whatsapp_api_base.rstrip('/')}/{s.whatsapp_phone_number_id}/messages",
            s.channel_provider_timeout_s,
            json=payload,
            headers={"Authorization": f"Bearer {s.whatsapp_access_token}"},
        )
        ids = [m.get("id") for m in (answer.get("messages") or []) if isinstance(m, dict)]
        return Delivered(str(ids[0]) if ids and ids[0] else None)
