"""The channel interface: one inbound shape, one outbound shape, and the errors that map to HTTP answers.

An adapter turns a provider's webhook (or a polled mail) into `InboundMessage`s after checking its
signature, and turns a reply into what the provider accepts (`render`) and sends it (`deliver`). Adding a
channel is one module with one class implementing `ChannelAdapter`, registered in `registry.py`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

MessageKind = Literal["text", "unsupported"]
UNSUPPORTED_REPLY = "Sorry, I can only read text here. Could you write your question in a message?"


def same(given: str, expected: str) -> bool:
    """Constant-time comparison of a signature or token from a request (any characters: compared as
    UTF-8 bytes, so a non-ASCII value is a mismatch, not a crash)."""
    import hmac

    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


class SignatureError(PermissionError):
    """Missing or forged signature: the request is refused (401/403) and nothing is stored."""


class MissingSignature(SignatureError):
    """No signature at all (401); a wrong one is a plain SignatureError (403)."""


class PayloadError(ValueError):
    """A malformed payload: a readable 4xx, nothing stored."""


class DeliveryError(RuntimeError):
    """Sending failed. `permanent` errors (a refused recipient) are not retried; others are, with backoff."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ChannelNotConfigured(RuntimeError):
    """The channel's settings are missing (the route answers 404, the worker skips it)."""


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass
class InboundMessage:
    """A customer message from any channel, normalised. Only `text` ever reaches the bot."""

    channel: str
    provider_id: str  # the provider's message id (de-duplication key with the channel)
    sender_kind: str  # identity kind: email | phone | whatsapp | widget | api
    sender: str  # the address / number / id as the provider gave it
    text: str
    kind: MessageKind = "text"
    display_name: str | None = None
    subject: str | None = None
    # Email threading: this message's Message-ID and what it replies to.
    message_ref: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    automated: str | None = None  # why this looks machine-sent (auto-reply, bounce, bulk): never answered
    received_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def text_from(
        cls,
        channel: ChannelAdapter,
        provider_id: str,
        sender: str,
        text: str | None,
        max_chars: int,
        display_name: str | None = None,
        received_at: str | None = None,
    ) -> InboundMessage:
        """A chat message from `channel`: its text stripped and cut to the channel's length, `unsupported`
        when there is none (a picture or voice note is answered politely: "I can only read text here")."""
        cleaned = (text or "").strip()
        return cls(
            channel=channel.name,
            provider_id=provider_id[:255],
            sender_kind=channel.identity_kind,
            sender=sender,
            text=cleaned[:max_chars],
            kind="text" if cleaned else "unsupported",
            display_name=display_name,
            received_at=received_at,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InboundMessage:
        values = dict(data)
        values["attachments"] = [Attachment(**a) for a in values.get("attachments", [])]
        return cls(**values)


@dataclass
class OutboundMessage:
    """A reply to deliver: the text as stored, its citations, and email threading."""

    text: str
    citations: list[dict[str, Any]] = field(default_factory=list)
    subject: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    conversation_id: str | None = None
    full_answer_url: str | None = None  # where the whole cited answer can be read (SMS shortening)
    buttons: list[str] = field(default_factory=list)  # quick replies (WhatsApp interactive buttons)
    automated: bool = True  # the bot wrote it (email marks it Auto-Submitted); False for an agent's words


@dataclass
class Delivered:
    provider_id: str | None
    message_ref: str | None = None  # email: the Message-ID we sent, so replies thread


class ChannelAdapter(Protocol):
    name: str
    identity_kind: str

    def deliver(self, recipient: str, message: OutboundMessage) -> Delivered:
        """Render and send; DeliveryError on failure."""
        ...
