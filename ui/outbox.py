"""The demo's mail: a real SMTP server on loopback (aiosmtpd) that keeps what it receives, and a dev outbox
page (`GET /dev/outbox`, mounted by `parley demo` only) that shows it, so the one-time sign-in codes of
the verified identity policy can be read without any mail provider.
"""

from __future__ import annotations

import html
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

MAX_KEPT = 200


@dataclass(frozen=True)
class SentMail:
    received_at: str
    to: str
    subject: str
    body: str


def parse_mail(raw: bytes) -> SentMail:
    mail = message_from_bytes(raw, policy=policy.default)
    assert isinstance(mail, EmailMessage)
    part = mail.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if part is not None else ""
    return SentMail(
        received_at=datetime.now(UTC).strftime("%H:%M:%S"),
        to=str(mail.get("To", "")),
        subject=str(mail.get("Subject", "")),
        body=str(body).strip(),
    )


class OutboxHandler:
    """aiosmtpd handler: keeps the newest messages in memory."""

    def __init__(self) -> None:
        self.mails: deque[SentMail] = deque(maxlen=MAX_KEPT)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        mail = parse_mail(bytes(envelope.original_content or envelope.content))
        with self._lock:
            self.mails.appendleft(mail)
        return "250 Message accepted for delivery"

    def recent(self) -> list[SentMail]:
        with self._lock:
            return list(self.mails)


class DevOutbox:
    """A local SMTP sink: `start()` listens on 127.0.0.1 (a free port unless one is given)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from aiosmtpd.controller import Controller

        self.handler = OutboxHandler()
        if port == 0:
            import socket

            with socket.socket() as s:
                s.bind((host, 0))
                port = int(s.getsockname()[1])
        self.host, self.port = host, port
        self._controller = Controller(self.handler, hostname=host, port=port)

    def start(self) -> DevOutbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def recent(self) -> list[SentMail]:
        return self.handler.recent()


def mail_block(mail: SentMail) -> str:
    subject, to, at, body = (html.escape(v) for v in (mail.subject, mail.to, mail.received_at, mail.body))
    return f"<article><header><b>{subject}</b> to {to} at {at}</header><pre>{body}</pre></article>"


def outbox_page(mails: list[SentMail]) -> str:
    """The outbox as an HTML page; every text is escaped (mail bodies are not trusted markup)."""
    rows = "".join(mail_block(m) for m in mails) or (
        "<p>No mail sent yet. Give the assistant the email address of a demo customer.</p>"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Parley demo outbox</title>"
        "<meta http-equiv='refresh' content='5'></head><body><h1>Demo outbox</h1>"
        "<p>Mail the demo sent (one-time sign-in codes), newest first. Only `parley demo` serves this page."
        f"</p>{rows}</body></html>"
    )


def outbox_router(outbox: DevOutbox) -> APIRouter:
    router = APIRouter(prefix="/dev", include_in_schema=False)

    @router.get("/outbox", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse(outbox_page(outbox.recent()))

    @router.get("/outbox.json")
    async def as_json() -> list[dict[str, str]]:
        return [m.__dict__ for m in outbox.recent()]

    return router
