"""Inbound email: a raw MIME message (IMAP) or a mail provider's inbound-parse webhook -> InboundMessage.

- Quoted history and signatures are stripped with mail-parser-reply (EN/FR/NL), not with our own regexes.
- HTML-only mail becomes text (BeautifulSoup; scripts and styles dropped): nothing is ever rendered as HTML.
- Attachments are listed (name, type, size), never opened.
- Machine-sent mail (Auto-Submitted, Precedence bulk/junk/list, auto-reply headers, bounces, mailing lists,
  our own address) is marked `automated`: stored, never answered, so two robots cannot start a reply storm.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import Any

from bs4 import BeautifulSoup
from mailparser_reply import EmailReplyParser

from assistant.channels.base import (
    Attachment,
    InboundMessage,
    MissingSignature,
    PayloadError,
    SignatureError,
    same,
)

MAX_TEXT_CHARS = 8000
REPLY_LANGUAGES = ["en", "fr", "nl"]
AUTOMATED_SENDERS = ("mailer-daemon", "postmaster", "no-reply", "noreply", "donotreply", "do-not-reply")


def automated_reason(headers: Mapping[str, str], sender: str, own_address: str | None = None) -> str | None:
    """Why this mail is machine-sent (and must not be answered), or None for a person's mail."""
    h = {k.lower(): str(v).strip().lower() for k, v in headers.items()}
    if h.get("auto-submitted", "no") not in ("", "no"):
        return f"Auto-Submitted: {h['auto-submitted']}"
    if h.get("precedence") in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {h['precedence']}"
    for name in ("x-autoreply", "x-autorespond", "x-auto-response"):
        if name in h:
            return f"{name} header"
    if "list-id" in h or "list-unsubscribe" in h:
        return "mailing list"
    if h.get("return-path") == "<>" or "multipart/report" in h.get("content-type", ""):
        return "delivery status notification (bounce)"
    local = sender.lower().partition("@")[0]
    if any(local.startswith(prefix) for prefix in AUTOMATED_SENDERS):
        return f"automated sender {local}"
    if own_address and sender.lower() == own_address.lower():
        return "sent from our own address (loop)"
    return None


def html_to_text(markup: str) -> str:
    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "head", "template", "iframe", "object"]):
        tag.decompose()
    lines = [line.strip() for line in soup.get_text("\n").splitlines()]
    return "\n".join(line for line in lines if line)


def latest_reply(text: str) -> str:
    """The customer's new words: quoted history and signature removed (mail-parser-reply)."""
    if not text.strip():
        return ""
    parser = EmailReplyParser(languages=REPLY_LANGUAGES)
    parsed = parser.read(text=text)
    if parsed.replies:
        body = parsed.replies[0].body.strip()
        if body:
            return body
    return (parser.parse_reply(text=text) or text).strip()


def refs(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split() if part.strip().startswith("<")][:50]


def build_message(
    *,
    provider_id: str | None,
    sender: str,
    subject: str | None,
    text: str | None,
    html: str | None,
    headers: Mapping[str, str],
    attachments: list[Attachment],
    own_address: str | None,
) -> InboundMessage:
    name, address = parseaddr(sender)
    if not address or "@" not in address:
        raise PayloadError("the mail has no usable From address")
    body = text if text and text.strip() else html_to_text(html or "")
    words = latest_reply(body)[:MAX_TEXT_CHARS]
    if attachments:
        listed = ", ".join(f"{a.filename} ({a.content_type}, {a.size} bytes)" for a in attachments[:20])
        words = (words + f"\n\n[Attachments, not opened: {listed}]").strip()
    lower = {k.lower(): v for k, v in headers.items()}
    message_ref = (lower.get("message-id") or "").strip() or None
    key = provider_id or message_ref
    if not key:  # no id at all: the content decides (a redelivery of the same mail is the same message)
        key = "sha256:" + hashlib.sha256(f"{address}\n{subject}\n{body}".encode()).hexdigest()
    return InboundMessage(
        channel="email",
        provider_id=key[:255],
        sender_kind="email",
        sender=address,
        text=words,
        kind="text" if words else "unsupported",
        display_name=name or None,
        subject=(subject or "")[:300] or None,
        message_ref=message_ref[:512] if message_ref else None,
        in_reply_to=(lower.get("in-reply-to") or "").strip()[:512] or None,
        references=refs(lower.get("references")),
        attachments=attachments,
        automated=automated_reason(headers, address, own_address),
    )


def parse_mime(raw: bytes, own_address: str | None = None) -> InboundMessage:
    """A raw RFC 5322 message (as fetched over IMAP)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage):
        raise PayloadError("not an email message")
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    attachments = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        attachments.append(
            Attachment(
                filename=str(part.get_filename() or "unnamed")[:200],
                content_type=part.get_content_type(),
                size=len(payload) if isinstance(payload, bytes) else 0,
            )
        )
    headers = {k: str(v) for k, v in message.items()}
    return build_message(
        provider_id=None,
        sender=str(message.get("From") or ""),
        subject=str(message.get("Subject") or ""),
        text=plain.get_content() if plain is not None else None,
        html=rich.get_content() if rich is not None else None,
        headers=headers,
        attachments=attachments,
        own_address=own_address,
    )


# --- mail providers' inbound-parse webhooks ------------------------------------------------------
def parse_json_webhook(data: Any, own_address: str | None = None) -> InboundMessage:
    """The JSON shape Postmark (and look-alikes) post: From, Subject, TextBody, HtmlBody, MessageID,
    Headers [{Name, Value}], Attachments [{Name, ContentType, ContentLength}]."""
    if not isinstance(data, dict) or not isinstance(data.get("From"), str):
        raise PayloadError("expected a JSON object with at least 'From'")
    raw_headers = data.get("Headers") or []
    if not isinstance(raw_headers, list):
        raise PayloadError("'Headers' must be a list of {Name, Value}")
    headers = {str(h.get("Name")): str(h.get("Value")) for h in raw_headers if isinstance(h, dict)}
    if data.get("MessageID") and not any(k.lower() == "message-id" for k in headers):
        headers["Message-ID"] = f"<{str(data['MessageID']).strip('<>')}>"
    attachments = [
        Attachment(
            str(a.get("Name") or "unnamed")[:200],
            str(a.get("ContentType") or "?"),
            int(a.get("ContentLength") or 0),
        )
        for a in data.get("Attachments") or []
        if isinstance(a, dict)
    ]
    from_full = data.get("FromFull")
    sender = str(data["From"])
    if isinstance(from_full, dict) and from_full.get("Email"):
        sender = f"{from_full.get('Name') or ''} <{from_full['Email']}>"
    return build_message(
        provider_id=str(data.get("MessageID") or "") or None,
        sender=sender,
        subject=str(data.get("Subject") or ""),
        text=str(data.get("TextBody") or ""),
        html=str(data.get("HtmlBody") or ""),
        headers=headers,
        attachments=attachments,
        own_address=own_address,
    )


def mailgun_signature(signing_key: str, timestamp: str, token: str) -> str:
    return hmac.new(signing_key.encode(), (timestamp + token).encode(), "sha256").hexdigest()


def verify_mailgun(fields: Mapping[str, str], signing_key: str) -> None:
    timestamp, token, given = fields.get("timestamp"), fields.get("token"), fields.get("signature")
    if not (timestamp and token and given):
        raise MissingSignature("timestamp, token and signature fields are required")
    if not same(given, mailgun_signature(signing_key, timestamp, token)):
        raise SignatureError("signature does not match")


def parse_form_webhook(
    fields: Mapping[str, str], files: list[tuple[str, str, int]], own_address: str | None = None
) -> InboundMessage:
    """The multipart form Mailgun (and look-alikes) post: sender/from, subject, body-plain, body-html,
    Message-Id, message-headers (JSON [[name, value], ...]) and attachment-N files."""
    import json

    sender = fields.get("from") or fields.get("sender") or ""
    headers: dict[str, str] = {}
    if fields.get("message-headers"):
        try:
            pairs = json.loads(fields["message-headers"])
        except ValueError as exc:
            raise PayloadError("message-headers is not JSON") from exc
        if not isinstance(pairs, list):
            raise PayloadError("message-headers must be a list of [name, value]")
        headers = {str(p[0]): str(p[1]) for p in pairs if isinstance(p, list) and len(p) == 2}
    for name in ("Message-Id", "In-Reply-To", "References"):
        if fields.get(name) and not any(k.lower() == name.lower() for k in headers):
            headers[name] = fields[name]
    return build_message(
        provider_id=None,
        sender=sender,
        subject=fields.get("subject"),
        text=fields.get("body-plain"),
        html=fields.get("body-html"),
        headers=headers,
        attachments=[Attachment(n[:200], t, s) for n, t, s in files],
        own_address=own_address,
    )


def recipients(value: str) -> list[str]:
    return [address for _, address in getaddresses([value]) if address]
