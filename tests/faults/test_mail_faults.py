"""Outbound mail faults: the SMTP server refuses connections, drops them, never greets, answers "try again
later" (451) or "no service" (554). The reply stays in the transcript, its delivery stays queued with a
readable error (the console's outbox), and once attempts run out a note in the conversation says it was
not delivered; when the server is back, the queued reply goes out."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from assistant.channels.worker import ChannelWorker
from assistant.store.models import MessageRole
from tests.assistant.channels.mailservers import smtp_sink
from tests.conftest import free_port
from tests.faults.conftest import FaultDesk

pytestmark = pytest.mark.slow  # real SQLite, Chroma and MiniLM; the whole suite runs in about 3 minutes

RECIPIENT = "customer@example.com"


@contextmanager
def raw_server(greeting: bytes | None) -> Iterator[int]:
    """A TCP server on a free port that sends `greeting` (None: nothing, ever) and closes or stalls."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            if greeting is None:
                held.append(conn)  # accepted, silent: the client's timeout must end it
            else:
                conn.sendall(greeting)
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        listener.close()


@contextmanager
def mail_server(kind: str) -> Iterator[int]:
    if kind == "refused":
        yield free_port()
    elif kind == "451-try-later":
        with smtp_sink() as sink:
            sink.refuse = True
            yield sink.port
    elif kind == "drops-connection":
        with raw_server(b"") as port:
            yield port
    elif kind == "never-greets":
        with raw_server(None) as port:
            yield port
    elif kind == "554-no-service":
        with raw_server(b"554 5.3.2 no service here\r\n") as port:
            yield port
    else:
        raise AssertionError(kind)


def mail_settings(port: int) -> dict[str, Any]:
    return {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_starttls": False,
        "smtp_timeout_s": 0.5,
        "email_address": "help@shop.example",
        "channel_retry_base_s": 0.0,
        "channel_delivery_attempts": 2,
    }


def queued_reply(service: Any, worker: ChannelWorker, role: MessageRole, text: str) -> tuple[str, int]:
    conversation, _ = service.start_conversation(channel="email")
    service.conversations.add_message(conversation.id, MessageRole.CUSTOMER, "where is my parcel?")
    message = service.conversations.add_message(conversation.id, role, text)
    assert worker.outbox.enqueue(conversation.id, message.seq, "email", RECIPIENT) is not None
    return conversation.id, message.seq


PERMANENT = {"554-no-service"}
KINDS = ["refused", "451-try-later", "drops-connection", "never-greets", "554-no-service"]
AUTHORS = {
    MessageRole.BOT: "Your parcel left our warehouse yesterday [1].",
    MessageRole.AGENT: "Hi, this is Sam from support: I have checked your parcel, it arrives Monday.",
}


@pytest.mark.parametrize("author", list(AUTHORS), ids=[a.value for a in AUTHORS])
@pytest.mark.parametrize("kind", KINDS)
def test_mail_server_down(own_desk: FaultDesk, kind: str, author: MessageRole) -> None:
    with mail_server(kind) as port:
        service = own_desk.service(**mail_settings(port))
        worker = ChannelWorker(service)
        conversation_id, seq = queued_reply(service, worker, author, AUTHORS[author])
        sent, failed = worker.deliver_due()
        assert (sent, failed) == (0, 1)
        (delivery,) = worker.outbox.list(conversation_ids=[conversation_id])
        assert delivery.last_error and "SMTP" in delivery.last_error
        assert "Traceback" not in delivery.last_error  # the console's outbox shows a readable reason
        if kind not in PERMANENT:
            assert delivery.status == "pending" and delivery.attempts == 1  # queued, tried again later
            worker.deliver_due()  # the last attempt fails too
            (delivery,) = worker.outbox.list(conversation_ids=[conversation_id])
        assert delivery.status == "undelivered"
    messages = service.conversations.messages(conversation_id)
    assert any(m.seq == seq and m.text == AUTHORS[author] for m in messages)  # the reply is kept
    notes = [m.text for m in messages if m.role == MessageRole.SYSTEM]
    assert any(f"Message {seq} was NOT delivered" in note for note in notes)  # visible in the console


@pytest.mark.parametrize("kind", ["refused", "451-try-later", "never-greets"])
def test_a_queued_reply_goes_out_when_the_server_is_back(own_desk: FaultDesk, kind: str) -> None:
    with mail_server(kind) as port:
        service = own_desk.service(**{**mail_settings(port), "channel_delivery_attempts": 5})
        worker = ChannelWorker(service)
        conversation_id, _ = queued_reply(service, worker, MessageRole.BOT, AUTHORS[MessageRole.BOT])
        assert worker.deliver_due() == (0, 1)
    with smtp_sink() as sink:
        back = own_desk.service(**{**mail_settings(sink.port), "channel_delivery_attempts": 5})
        assert ChannelWorker(back).deliver_due() == (1, 0)
        (mail,) = sink.wait_for(1)
    assert mail["To"] == RECIPIENT and "warehouse yesterday" in mail.get_body(("plain",)).get_content()
    (delivery,) = worker.outbox.list(conversation_ids=[conversation_id])
    assert delivery.status == "sent" and delivery.attempts >= 1
