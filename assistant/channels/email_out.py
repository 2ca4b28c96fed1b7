"""Outbound email over SMTP (STARTTLS and login when configured): plain-text and HTML parts, threaded with
In-Reply-To / References, marked `Auto-Submitted: auto-replied` when the bot wrote it (RFC 3834)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from assistant.channels.base import Delivered, DeliveryError, OutboundMessage
from assistant.channels.render import email_bodies
from knowledge.settings import Settings


def reply_subject(subject: str | None, fallback: str) -> str:
    subject = " ".join((subject or "").split())[:250]
    if not subject:
        return fallback
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


class EmailAdapter:
    name = "email"
    identity_kind = "email"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def compose(self, recipient: str, message: OutboundMessage) -> EmailMessage:
        s = self.settings
        if not s.email_address:
            raise DeliveryError("email is not configured (PARLEY_EMAIL_ADDRESS)", permanent=True)
        domain = s.email_address.rpartition("@")[2] or "parley.local"
        mail = EmailMessage()
        mail["From"] = formataddr((s.shop_name, s.email_address))
        mail["To"] = recipient
        mail["Subject"] = reply_subject(message.subject, f"Your question to {s.shop_name}")
        mail["Message-ID"] = make_msgid(domain=domain)
        if message.in_reply_to:
            mail["In-Reply-To"] = message.in_reply_to
            mail["References"] = " ".join([*message.references, message.in_reply_to][-20:])
        if message.automated:
            mail["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer it
        plain, html = email_bodies(message.text, message.citations, s.shop_name)
        mail.set_content(plain)
        mail.add_alternative(html, subtype="html")
        return mail

    def deliver(self, recipient: str, message: OutboundMessage) -> Delivered:
        s = self.settings
        if not s.smtp_host:
            raise DeliveryError("email is not configured (PARLEY_SMTP_HOST)", permanent=True)
        mail = self.compose(recipient, message)
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s) as smtp:
                smtp.ehlo()
                if s.smtp_starttls:
                    if not smtp.has_extn("starttls"):
                        raise DeliveryError("the SMTP server does not offer STARTTLS", permanent=True)
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc.recipients}", permanent=True) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login refused ({exc.smtp_code})", permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP server unreachable: {type(exc).__name__}: {exc}") from exc
        return Delivered(provider_id=str(mail["Message-ID"]), message_ref=str(mail["Message-ID"]))
