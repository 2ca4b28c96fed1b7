"""The console's Contacts view against a real API server (uvicorn in a thread, real SQLite): one timeline
across channels with badges and identities, customer text shown as text, a reply on the last-used channel,
undelivered messages visible with a retry."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from streamlit.testing.v1 import AppTest

from assistant.api.app import create_app
from assistant.channels.outbox import Outbox
from assistant.service import SupportService
from assistant.store.models import MessageRole
from knowledge.settings import Settings
from tests.conftest import free_port, port_open
from tests.ui.console_live import literal_source
from ui.console_timeline import badge, delivery_label, identity_lines, timeline_rows

KEY = "timeline-agent-key-0123456789abcdef"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SupportService]]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path_factory.mktemp("timeline") / "parley",
        llm_provider="offline",
        agent_keys={"alice": KEY},
        email_address="help@shop.example",
        smtp_host="127.0.0.1",
        whatsapp_access_token="t",
        whatsapp_phone_number_id="1",
    )
    service = SupportService(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, service=service), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not port_open("127.0.0.1", port) and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", service
    server.should_exit = True
    thread.join(timeout=10)


def seed(service: SupportService) -> str:
    contacts = service.contact_memory.contacts
    store = service.conversations
    email = contacts.resolve("email", "ann@example.com", "Ann Lee")
    phone = contacts.resolve("whatsapp", "+15550123456", "Ann")
    contacts.link(phone.id, email.contact_id, "otp")
    mail, _ = store.create_conversation("email", contact_id=email.contact_id, identity_id=email.id)
    store.add_message(mail.id, MessageRole.CUSTOMER, "**Where** is my order #W1000001? <img src=x>")
    bot = store.add_message(mail.id, MessageRole.BOT, "It is on its way.")
    chat, _ = store.create_conversation("whatsapp", contact_id=email.contact_id, identity_id=phone.id)
    store.add_message(chat.id, MessageRole.CUSTOMER, "Any news?")
    outbox = Outbox(str(service.settings.database_url))
    delivery = outbox.enqueue(mail.id, bot.seq, "email", "ann@example.com")
    assert delivery is not None
    outbox.failed(delivery, "SMTP server unreachable", permanent=True, max_attempts=5, base_s=0, max_s=0)
    return email.contact_id


def test_pure_helpers() -> None:
    assert badge("whatsapp") == ":green-badge[whatsapp]" and badge("<b>") == ":gray-badge[other]"
    assert delivery_label({"status": "undelivered", "attempts": 5, "last_error": "down"}).startswith(
        "NOT DELIVERED"
    )
    assert delivery_label({"status": "sent"}) == "delivered" and delivery_label(None) is None
    view: dict[str, Any] = {
        "entries": [
            {
                "channel": "sms",
                "role": "agent",
                "author": "alice",
                "text": "hi",
                "created_at": "2026-01-01T10:00:00",
            }
        ]
    }
    [row] = timeline_rows(view)
    assert (row.who, row.when, row.badge) == ("Agent alice", "2026-01-01 10:00", ":orange-badge[sms]")
    lines = identity_lines({"identities": [{"id": 3, "kind": "email", "value": "a@x.y", "proof": "otp"}]})
    assert lines == ["email: a@x.y · proven by a one-time code (#3)"]


@pytest.mark.slow
def test_contacts_page_shows_one_timeline_and_replies(
    live: tuple[str, SupportService], tmp_path: Path
) -> None:
    url, service = live
    contact_id = seed(service)
    script = tmp_path / "page.py"
    script.write_text(f"from ui.console_timeline import contacts_page\ncontacts_page({url!r}, {KEY!r})\n")
    app = AppTest.from_file(str(script), default_timeout=30).run()
    assert not app.exception, app.exception
    texts = [t.value for t in app.text]
    # Customer text as text: the Markdown and the HTML tag are shown, not rendered.
    assert "**Where** is my order #W1000001? <img src=x>" in texts and "Any news?" in texts
    assert any("whatsapp: +15550123456 · proven by a one-time code" in t for t in texts)
    badges = " ".join(m.value for m in app.markdown)
    assert ":blue-badge[email]" in badges and ":green-badge[whatsapp]" in badges
    assert any("Undelivered on email" in literal_source(e.value) for e in app.error)
    assert app.selectbox(key=f"reply-channel-{contact_id}").value == "whatsapp"  # the channel last used
    app.text_area(key=f"reply-text-{contact_id}").input("Hello Ann, it is out for delivery.")
    app.button(key=f"reply-send-{contact_id}").click().run()
    assert any("Sent on whatsapp" in literal_source(s.value) for s in app.success), [
        e.value for e in app.error
    ]
    chat = [c for c in service.contact_memory.contacts.conversations(contact_id) if c.channel == "whatsapp"][
        0
    ]
    agent = [m for m in service.conversations.messages(chat.id) if m.role == MessageRole.AGENT]
    assert [m.text for m in agent] == ["Hello Ann, it is out for delivery."] and agent[0].author == "alice"
    [undelivered] = [d for d in Outbox(str(service.settings.database_url)).list(status="undelivered")]
    app.button(key=f"retry-{undelivered.id}").click().run()
    assert Outbox(str(service.settings.database_url)).list(status="undelivered") == []
