"""The whole story, end to end, with the real mail servers (issue 12, "Real parts in tests"):

an email arrives in the mailbox (dovecot, IMAP) -> the bot answers by SMTP (aiosmtpd), threaded -> the
same customer writes on WhatsApp (signed webhook) and proves it is her with a code sent to her mailbox ->
the bot uses her name and the open request without asking again -> the guard hands over -> an agent sees
the whole timeline through the API and replies -> the reply is delivered on WhatsApp.
"""

from __future__ import annotations

import re
import threading
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.channels.worker import ChannelWorker
from assistant.store.models import ConversationStatus
from tests.assistant.channels.harness import channel_overrides, signed, wait_until, whatsapp_webhook_body
from tests.assistant.channels.mailservers import dovecot_server, smtp_sink
from tests.assistant.channels.providers import fake_provider

pytestmark = pytest.mark.slow
EMMA = "emma.laurent@example.com"
PHONE = "+15551239876"
AGENT_KEY = "story-agent-key-0123456789abcdef"


def plain(mail: EmailMessage) -> str:
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_one_customer_one_history_every_channel(fresh_shop) -> None:  # type: ignore[no-untyped-def]
    with (
        dovecot_server() as imap,
        smtp_sink() as smtp,
        fake_provider("whatsapp") as graph,
        fake_provider("twilio") as twilio,
        fake_provider("api") as api,
    ):
        service = fresh_shop.service_with(
            **channel_overrides(graph, twilio, api, smtp),
            imap_host=imap.host,
            imap_port=imap.port,
            imap_username=imap.user,
            imap_password=imap.password,
            imap_ssl=False,
            imap_poll_s=1.0,
            imap_idle_s=2.0,
            channel_worker_poll_s=0.2,
            agent_keys={"alice": AGENT_KEY},
        )
        stop = threading.Event()
        worker = ChannelWorker(service, holder="story-worker")
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        try:
            with TestClient(create_app(service.settings, service=service)) as client:
                run_story(client, imap, smtp, graph)
        finally:
            stop.set()
            thread.join(timeout=30)


def run_story(client: TestClient, imap, smtp, graph) -> None:  # type: ignore[no-untyped-def]
    # 1. An email arrives in the mailbox; the poller fetches it and the bot answers by SMTP, threaded.
    mail = EmailMessage()
    mail["From"] = f"Emma Laurent <{EMMA}>"
    mail["To"] = "help@shop.example"
    mail["Subject"] = "Return"
    mail["Message-ID"] = "<story-1@mail.example>"
    mail.set_content(
        "Hello, I'd like to return the wool throw blanket from order #W1000002, the colour is wrong.\n\nEmma"
    )
    imap.append(mail.as_bytes())
    reply = wait_until(
        lambda: [m for m in smtp.messages if m["In-Reply-To"] == "<story-1@mail.example>"],
        what="the email reply",
    )[0]
    assert reply["To"] == EMMA and reply["Subject"] == "Re: Return"
    # A From header proves nothing: for her order the bot first sends a code to that mailbox.
    assert "code" in plain(reply)
    assert imap.unseen() == []

    # 2. The same customer writes on WhatsApp and proves it with a code sent to her mailbox.
    def whatsapp(text: str) -> None:
        body = whatsapp_webhook_body(PHONE, text, "Emma L")
        response = client.post(
            "/v1/channels/whatsapp/webhook", content=body, headers={"X-Hub-Signature-256": signed(body)}
        )
        assert response.status_code == 200 and response.json()["stored"] == 1

    whatsapp(f"Hi, it's Emma ({EMMA}), following up on my email")
    offer = wait_until(lambda: graph.received[:1], what="the code offer")[0]["text"]["body"]
    assert "code" in offer and EMMA not in offer  # the address is masked
    code_mail = wait_until(
        lambda: [m for m in smtp.messages if "verification code" in str(m["Subject"])][1:2], what="the code"
    )[0]
    assert code_mail["To"] == EMMA
    code = re.search(r"\b(\d{6})\b", plain(code_mail))
    assert code is not None
    whatsapp(code.group(1))
    linked = wait_until(lambda: graph.received[1:2], what="the link confirmation")[0]["text"]["body"]
    # Her name and the open request from the email, without asking again.
    assert "Emma" in linked and "#W1000002" in linked and "blanket" in linked

    # 3. The bot continues the task started by email: it knows the order and who she is.
    whatsapp("Yes please, go ahead with that return")
    answer = wait_until(lambda: graph.received[2:3], what="the bot's next answer")[0]["text"]["body"]
    assert "email address on your account" not in answer and "zip" not in answer
    assert "W1000002" in answer or "blanket" in answer.lower()

    # 4. The guard hands over.
    whatsapp("This is ridiculous, I want to talk to a real person NOW!")
    handover = wait_until(lambda: graph.received[3:4], what="the handover message")[0]["text"]["body"]
    assert "team" in handover or "person" in handover

    # 5. An agent sees one timeline across both channels and replies on the last-used one.
    headers = {"Authorization": f"Bearer {AGENT_KEY}"}
    [contact] = [c for c in client.get("/v1/agent/contacts", params={"query": EMMA}, headers=headers).json()]
    assert {i["kind"] for i in contact["identities"]} == {"email", "whatsapp"}
    view = client.get(f"/v1/agent/contacts/{contact['id']}", headers=headers).json()
    channels = [e["channel"] for e in view["entries"] if e["role"] == "customer"]
    assert channels[0] == "email" and channels[-1] == "whatsapp"
    assert view["last_used_channel"] == "whatsapp"
    waiting = [c for c in view["conversations"] if c["status"] == ConversationStatus.WAITING_FOR_HUMAN.value]
    assert waiting and waiting[0]["channel"] == "whatsapp" and waiting[0]["summary"]
    assert "Earlier on other channels" in waiting[0]["summary"] and "blanket" in waiting[0]["summary"]
    sent = client.post(
        f"/v1/agent/contacts/{contact['id']}/reply",
        json={"text": "Hi Emma, I'm Alice. I've started the return of the blanket for you."},
        headers=headers,
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["channel"] == "whatsapp" and sent.json()["conversation_id"] == waiting[0]["id"]
    delivered = wait_until(
        lambda: [r for r in graph.received if "I'm Alice" in r.get("text", {}).get("body", "")],
        what="the agent's reply on WhatsApp",
    )
    assert delivered[0]["to"] == PHONE.lstrip("+")
