"""Inbound email: reply and signature stripping (mail-parser-reply), HTML as text, attachments listed,
machine-sent mail recognised, provider webhooks' shapes."""

from __future__ import annotations

import json
from email.message import EmailMessage

import pytest

from assistant.channels.base import MissingSignature, PayloadError, SignatureError
from assistant.channels.email_in import (
    automated_reason,
    mailgun_signature,
    parse_form_webhook,
    parse_json_webhook,
    parse_mime,
    verify_mailgun,
)

REPLY = """Thanks! Can you also check order #W1000002?

Best,
Emma
--
Emma Laurent
Sent from my phone

On Tue, Dec 1, 2026 at 10:00 AM Maple & Moss <help@shop.example> wrote:
> Hello Emma,
> your order #W1000001 is on its way.
"""


def mime(body: str = REPLY, **headers: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = headers.pop("From", "Emma Laurent <emma.laurent@example.com>")
    mail["To"] = "help@shop.example"
    mail["Subject"] = headers.pop("Subject", "Re: my order")
    mail["Message-ID"] = headers.pop("Message_ID", "<m2@mail.example>")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return mail.as_bytes()


def test_quoted_history_and_signature_are_stripped() -> None:
    message = parse_mime(mime(In_Reply_To="<m1@shop.example>", References="<m0@x> <m1@shop.example>"))
    assert message.text == "Thanks! Can you also check order #W1000002?"
    assert "W1000001" not in message.text  # the quoted part is not the customer's new words
    assert message.sender == "emma.laurent@example.com" and message.display_name == "Emma Laurent"
    assert message.in_reply_to == "<m1@shop.example>"
    assert message.references == ["<m0@x>", "<m1@shop.example>"]
    assert message.provider_id == "<m2@mail.example>" and message.automated is None


def test_html_only_mail_with_script_becomes_text() -> None:
    mail = EmailMessage()
    mail["From"] = "x@example.com"
    mail["Subject"] = "hi"
    mail.set_content(
        "<p>Where is <b>my parcel</b>?</p><script>fetch('https://evil.example')</script>", subtype="html"
    )
    message = parse_mime(mail.as_bytes())
    assert "Where is" in message.text and "my parcel" in message.text
    assert "<" not in message.text and "evil" not in message.text


def test_attachments_are_listed_never_opened() -> None:
    mail = EmailMessage()
    mail["From"] = "x@example.com"
    mail.set_content("See the photo.")
    mail.add_attachment(
        b"MZ\x90\x00binary", maintype="application", subtype="octet-stream", filename="run.exe"
    )
    message = parse_mime(mail.as_bytes())
    assert [(a.filename, a.size) for a in message.attachments] == [("run.exe", 10)]
    assert "[Attachments, not opened: run.exe (application/octet-stream, 10 bytes)]" in message.text


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "a@example.com", "Auto-Submitted: auto-replied"),
        ({"Precedence": "bulk"}, "a@example.com", "Precedence: bulk"),
        ({"X-Autoreply": "yes"}, "a@example.com", "x-autoreply header"),
        ({"List-Id": "<news.example>"}, "a@example.com", "mailing list"),
        ({"Return-Path": "<>"}, "a@example.com", "delivery status notification (bounce)"),
        ({}, "MAILER-DAEMON@example.com", "automated sender mailer-daemon"),
        ({}, "help@shop.example", "sent from our own address (loop)"),
    ],
)
def test_machine_sent_mail_is_recognised(headers: dict[str, str], sender: str, reason: str) -> None:
    assert automated_reason(headers, sender, "help@shop.example") == reason


def test_a_persons_mail_is_not_automated() -> None:
    assert automated_reason({"Auto-Submitted": "no", "Precedence": "first-class"}, "emma@example.com") is None


def test_json_webhook_postmark_shape() -> None:
    data = {
        "From": "emma@example.com",
        "FromFull": {"Email": "emma@example.com", "Name": "Emma"},
        "Subject": "Refund",
        "MessageID": "abc-123",
        "TextBody": "How long do refunds take?",
        "Headers": [{"Name": "In-Reply-To", "Value": "<out-1@shop.example>"}],
        "Attachments": [{"Name": "receipt.pdf", "ContentType": "application/pdf", "ContentLength": 1200}],
    }
    message = parse_json_webhook(data)
    assert message.provider_id == "abc-123" and message.display_name == "Emma"
    assert message.in_reply_to == "<out-1@shop.example>" and message.message_ref == "<abc-123>"
    assert message.text.startswith("How long do refunds take?") and "receipt.pdf" in message.text
    with pytest.raises(PayloadError):
        parse_json_webhook({"Subject": "no sender"})
    with pytest.raises(PayloadError):
        parse_json_webhook([1, 2])


def test_form_webhook_mailgun_shape_and_signature() -> None:
    fields = {
        "from": "Noah <noah@example.com>",
        "subject": "Hello",
        "body-plain": "Is return shipping free?",
        "message-headers": json.dumps([["Message-Id", "<n1@mail.example>"], ["Auto-Submitted", "no"]]),
        "timestamp": "1700000000",
        "token": "tok",
    }
    fields["signature"] = mailgun_signature("key", fields["timestamp"], fields["token"])
    verify_mailgun(fields, "key")
    with pytest.raises(SignatureError):
        verify_mailgun({**fields, "signature": "0" * 64}, "key")
    with pytest.raises(MissingSignature):
        verify_mailgun({k: v for k, v in fields.items() if k != "signature"}, "key")
    message = parse_form_webhook(fields, [("a.png", "image/png", 5)])
    assert message.sender == "noah@example.com" and message.message_ref == "<n1@mail.example>"
    assert message.text.startswith("Is return shipping free?")
    with pytest.raises(PayloadError):
        parse_form_webhook({**fields, "message-headers": "{not json"}, [])
