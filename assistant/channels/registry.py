"""The channel adapters of a deployment, by name. A new channel is one module plus one line here."""

from __future__ import annotations

from typing import Any

from assistant.channels.api_channel import ApiChannelAdapter
from assistant.channels.base import ChannelNotConfigured, Delivered, OutboundMessage
from assistant.channels.email_out import EmailAdapter
from assistant.channels.sms import SmsAdapter
from assistant.channels.whatsapp import WhatsAppAdapter
from knowledge.settings import Settings


class WidgetAdapter:
    """The web widget: customers read replies from the conversation store (SSE / long-poll), so a
    delivery is the stored message itself."""

    name = "widget"
    identity_kind = "widget"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def deliver(self, recipient: str, message: OutboundMessage) -> Delivered:
        return Delivered(provider_id=None)


ADAPTERS: dict[str, Any] = {
    "widget": WidgetAdapter,
    "email": EmailAdapter,
    "whatsapp": WhatsAppAdapter,
    "sms": SmsAdapter,
    "api": ApiChannelAdapter,
}


def adapter(settings: Settings, channel: str) -> Any:
    if channel not in ADAPTERS:
        raise ChannelNotConfigured(f"unknown channel {channel!r}")
    return ADAPTERS[channel](settings)


def configured_channels(settings: Settings) -> list[str]:
    """Channels whose outbound settings are present (what the console offers an agent to reply on)."""
    s = settings
    found = ["widget"]
    if s.email_address and s.smtp_host:
        found.append("email")
    if s.whatsapp_access_token and s.whatsapp_phone_number_id:
        found.append("whatsapp")
    if s.twilio_account_sid and s.twilio_auth_token and s.twilio_from_number:
        found.append("sms")
    if s.api_channel_secret and s.api_channel_outbound_url:
        found.append("api")
    return found


# Which identity kind each channel speaks to.
IDENTITY_KIND = {"widget": "widget", "email": "email", "whatsapp": "whatsapp", "sms": "phone", "api": "api"}
