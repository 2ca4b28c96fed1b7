"""Mailing a sign-in code over the deployment's SMTP server (the settings of the email channel).

A plain-text message marked `Auto-Submitted: auto-generated` (RFC 3834). Without PARLEY_SMTP_HOST it
raises, and the sign-in flow logs that no code went out (`parley demo` runs a local SMTP sink instead).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from assistant.identity.signin import SendCode
from knowledge.settings import Settings


class CodeMailError(RuntimeError):
    """The code could not be mailed (mail not configured, or the SMTP server refused or is down)."""


def code_message(settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    sender = settings.email_address or "no-reply@parley.local"
    mail = EmailMessage()
    mail["From"] = formataddr((settings.shop_name, sender))
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "parley.local")
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body)
    return mail


def smtp_code_sender(settings: Settings) -> SendCode:
    """send(email, subject, body, language): mails one code; CodeMailError when it cannot."""

    def send(to: str, subject: str, body: str, language: str) -> None:
        if not settings.smtp_host:
            raise CodeMailError("mail is not configured (PARLEY_SMTP_HOST): no sign-in code can be sent")
        mail = code_message(settings, to, subject, body)
        mail["Content-Language"] = language
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s
            ) as smtp:
                smtp.ehlo()
                if settings.smtp_starttls:
                    if not smtp.has_extn("starttls"):
                        raise CodeMailError("the SMTP server does not offer STARTTLS")
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password or "")
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise CodeMailError(f"sign-in code not mailed: {type(exc).__name__}: {exc}") from exc

    return send
