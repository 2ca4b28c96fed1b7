"""SMS (Twilio): form-encoded webhooks checked with X-Twilio-Signature (base64 HMAC-SHA1 of the URL and the
sorted parameters), replies through the REST API (`/2010-04-01/Accounts/{sid}/Messages.json`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from assistant.channels import base
from assistant.channels.base import Delivered, InboundMessage, OutboundMessage, same
from assistant.channels.http import post
from assistant.channels.render import sms_text
from knowledge.settings import Settings

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's scheme: the full URL, then each parameter name and value, sorted by name."""
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()).decode()


class SmsAdapter:
    name = "sms"
    identity_kind = "phone"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def verify(self, url: str, params: Mapping[str, str], header: str | None) -> None:
        token = self.settings.twilio_auth_token
        if not token:
            raise base.ChannelNotConfigured("sms is not configured")
        if not header:
            raise base.MissingSignature("X-Twilio-Signature is missing")
        if not same(header.strip(), signature(token, url, params)):
            raise base.SignatureError("X-Twilio-Signature does not match")

    def parse(self, params: Mapping[str, str]) -> InboundMessage:
        sid, sender = params.get("MessageSid") or params.get("SmsSid"), params.get("From")
        if not sid or not sender:
            raise base.PayloadError("MessageSid and From are required")
        body = (params.get("Body") or "").strip()
        try:
            media = int(params.get("NumMedia") or 0)
        except ValueError as exc:
            raise base.PayloadError("NumMedia must be a number") from exc
        if media < 0:
            raise base.PayloadError("NumMedia must not be negative")
        return InboundMessage.text_from(self, sid, sender, body, 1600)

    def deliver(self, recipient: str, message: OutboundMessage) -> Delivered:
        s = self.settings
        if not (s.twilio_account_sid and s.twilio_auth_token and s.twilio_from_number):
            raise base.DeliveryError(
                "sms is not configured (account sid, auth token, from number)", permanent=True
            )
        body = sms_text(message.text, message.citations, s.sms_max_segments, message.full_answer_url)
        answer = post(
            f"{s.twilio_api_base.rstrip('/')}/2010-04-01/Accounts/{s.twilio_account_sid}/Messages.json",
            s.channel_provider_timeout_s,
            data={"To": recipient, "From": s.twilio_from_number, "Body": body},
            auth=(s.twilio_account_sid, s.twilio_auth_token),
        )
        return Delivered(str(answer.get("sid")) if answer.get("sid") else None)
