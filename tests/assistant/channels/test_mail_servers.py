"""Email against real servers: SMTP out to aiosmtpd (threaded, HTML + plain), IMAP in from dovecot (IDLE,
\\Seen only after storing), and the poller lease that keeps it single across workers."""

from __future__ import annotations

import threading
import time
from email.message import EmailMessage
from typing import Any

import pytest

from assistant.channels.base import DeliveryError, InboundMessage, OutboundMessage
from assistant.channels.email_out import EmailAdapter
from assistant.channels.imap import ImapPoller
from assistant.channels.leases import Leases
from assistant.store.conversations import ConversationStore
from knowledge.settings import Settings
from tests.assistant.channels.mailservers import dovecot_server, smtp_sink
from tests.conftest import free_port


def mail_settings(**values: Any) -> Settings:
    base = {"email_address": "help@shop.example", "smtp_host": "127.0.0.1", "smtp_starttls": False}
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


def test_smtp_reply_is_threaded_with_html_and_plain_parts() -> None:
    with smtp_sink() as sink:
        adapter = EmailAdapter(mail_settings(smtp_port=sink.port))
        sent = adapter.deliver(
            "emma@example.com",
            OutboundMessage(
                text="Refunds take 5 days [1].",
                citations=[{"ref": 1, "title": "Refunds", "url": "https://help.example/refunds"}],
                subject="my refund",
                in_reply_to="<in-2@mail.example>",
                references=["<in-1@mail.example>", "<out-1@shop.example>"],
            ),
        )
        mail = sink.wait_for(1)[0]
    assert sink.envelopes[0] == ("help@shop.example", ["emma@example.com"])
    assert mail["Subject"] == "Re: my refund"
    assert mail["In-Reply-To"] == "<in-2@mail.example>"
    assert mail["References"].split() == [
        "<in-1@mail.example>",
        "<out-1@shop.example>",
        "<in-2@mail.example>",
    ]
    assert mail["Message-ID"] == sent.message_ref and sent.message_ref.endswith("@shop.example>")
    assert mail["Auto-Submitted"] == "auto-replied"  # robots must not answer the bot
    plain = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert plain is not None and "Refunds take 5 days [1]." in plain.get_content()
    assert html is not None and 'href="https://help.example/refunds"' in html.get_content()


def test_smtp_down_is_retryable_and_refusal_permanent() -> None:
    adapter = EmailAdapter(mail_settings(smtp_port=free_port(), smtp_timeout_s=2))
    with pytest.raises(DeliveryError) as down:
        adapter.deliver("emma@example.com", OutboundMessage(text="hi"))
    assert not down.value.permanent
    with smtp_sink() as sink:
        sink.refuse = True
        with pytest.raises(DeliveryError) as later:
            EmailAdapter(mail_settings(smtp_port=sink.port)).deliver(
                "emma@example.com", OutboundMessage(text="hi")
            )
        assert not later.value.permanent  # 451: try again later
        starttls = EmailAdapter(mail_settings(smtp_port=sink.port, smtp_starttls=True))
        with pytest.raises(DeliveryError) as no_tls:
            starttls.deliver("emma@example.com", OutboundMessage(text="hi"))
        assert no_tls.value.permanent  # never send credentials in the clear


def raw_mail(message_id: str, body: str, sender: str = "Emma <emma@example.com>") -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "help@shop.example"
    mail["Subject"] = "Question"
    mail["Message-ID"] = message_id
    mail.set_content(body)
    return mail.as_bytes()


@pytest.mark.slow
def test_imap_poller_fetches_unseen_mail_once_with_idle() -> None:
    with dovecot_server() as imap:
        settings = mail_settings(
            imap_host=imap.host,
            imap_port=imap.port,
            imap_username=imap.user,
            imap_password=imap.password,
            imap_ssl=False,
            imap_idle_s=5,
        )
        stored: list[InboundMessage] = []
        poller = ImapPoller(settings, stored.append)
        try:
            assert poller.supports_idle()
            imap.append(raw_mail("<a1@mail.example>", "Where is my parcel?"))
            assert poller.fetch_new() == 1
            assert stored[0].text == "Where is my parcel?" and stored[0].provider_id == "<a1@mail.example>"
            assert imap.unseen() == []  # flagged \Seen after it was stored
            assert poller.fetch_new() == 0
            # IDLE: the poller wakes up when new mail arrives instead of sleeping the full interval.
            threading.Timer(0.5, imap.append, args=(raw_mail("<a2@mail.example>", "Hello again"),)).start()
            started = time.monotonic()
            poller.wait(5)
            woke_early = time.monotonic() - started < 5
            assert poller.fetch_new() == 1 and stored[-1].provider_id == "<a2@mail.example>"
            assert woke_early
        finally:
            poller.close()


def test_lease_has_one_holder(settings: Settings) -> None:
    ConversationStore(str(settings.database_url)).migrate()
    leases = Leases(str(settings.database_url))
    assert leases.acquire("imap-poller", "worker-a", ttl_s=30)
    assert not leases.acquire("imap-poller", "worker-b", ttl_s=30)
    assert leases.acquire("imap-poller", "worker-a", ttl_s=30)  # renewal
    leases.release("imap-poller", "worker-a")
    assert leases.acquire("imap-poller", "worker-b", ttl_s=0.01)
    time.sleep(0.05)
    assert leases.acquire("imap-poller", "worker-a", ttl_s=30)  # b's lease ran out (crashed holder)
