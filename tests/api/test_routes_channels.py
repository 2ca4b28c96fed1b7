"""Channel webhooks and contact routes over HTTP: signatures (missing 401, forged 403, nothing stored),
replays stored once, malformed payloads 4xx never 5xx, the WhatsApp handshake, agent routes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.channels.answers import answer_url
from assistant.channels.inbox import Inbox
from assistant.service import SupportService
from knowledge.settings import Settings
from tests.api.helpers import AGENT_KEY, make_settings

WA_SECRET = "wa-app-secret-for-tests"
TWILIO_TOKEN = "twilio-token-for-tests"
API_SECRET = "api-secret-for-tests-0123456789"
INBOUND_SECRET = "inbound-secret-for-tests"
PUBLIC = "https://parley.example"


@pytest.fixture(scope="module")
def channel_app(prepared_dir: Path) -> Iterator[tuple[TestClient, Settings, Inbox]]:
    settings = make_settings(
        prepared_dir,
        public_url=PUBLIC,
        whatsapp_app_secret=WA_SECRET,
        whatsapp_verify_token="verify-me",
        twilio_auth_token=TWILIO_TOKEN,
        api_channel_secret=API_SECRET,
        email_inbound_secret=INBOUND_SECRET,
        email_address="help@shop.example",
        smtp_host="127.0.0.1",
        whatsapp_access_token="t",
        whatsapp_phone_number_id="1",
    )
    service = SupportService(settings)
    with TestClient(create_app(settings, service=service)) as client:
        yield client, settings, Inbox(str(settings.database_url))


def wa_body(message_id: str, text: str = "hello", kind: str = "text") -> bytes:
    message: dict[str, Any] = {"from": "15550000001", "id": message_id, "type": kind}
    if kind == "text":
        message["text"] = {"body": text}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [message]}}]}]}
    ).encode()


def wa_sig(body: bytes, secret: str = WA_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_whatsapp_handshake(channel_app) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = channel_app
    ok = client.get(
        "/v1/channels/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "4242"},
    )
    assert ok.status_code == 200 and ok.text == "4242"
    bad = client.get(
        "/v1/channels/whatsapp/webhook",
        params={"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "4242"},
    )
    assert bad.status_code == 403


def test_whatsapp_signatures_replay_and_malformed(channel_app) -> None:  # type: ignore[no-untyped-def]
    client, _, inbox = channel_app
    before = inbox.count("whatsapp")
    body = wa_body("wamid.route1")
    assert client.post("/v1/channels/whatsapp/webhook", content=body).status_code == 401
    forged = client.post(
        "/v1/channels/whatsapp/webhook", content=body, headers={"X-Hub-Signature-256": wa_sig(body, "guess")}
    )
    assert forged.status_code == 403
    assert inbox.count("whatsapp") == before  # nothing stored
    first = client.post(
        "/v1/channels/whatsapp/webhook", content=body, headers={"X-Hub-Signature-256": wa_sig(body)}
    )
    again = client.post(
        "/v1/channels/whatsapp/webhook", content=body, headers={"X-Hub-Signature-256": wa_sig(body)}
    )
    assert first.json() == {"stored": 1, "duplicates": 0} and again.json() == {"stored": 0, "duplicates": 1}
    assert inbox.count("whatsapp") == before + 1
    for bad in (
        b"{not json",
        b'{"entry": 5}',
        b'{"entry": [{"changes": [{"value": {"messages": [{"type": "text"}]}}]}]}',
    ):
        response = client.post(
            "/v1/channels/whatsapp/webhook", content=bad, headers={"X-Hub-Signature-256": wa_sig(bad)}
        )
        assert response.status_code == 400 and "malformed" in response.json()["detail"]
    sticker = wa_body("wamid.route2", kind="sticker")
    assert (
        client.post(
            "/v1/channels/whatsapp/webhook", content=sticker, headers={"X-Hub-Signature-256": wa_sig(sticker)}
        ).status_code
        == 200
    )
    assert inbox.list()[0].message.kind == "unsupported"


def twilio_sig(url: str, params: dict[str, str]) -> str:
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(TWILIO_TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_sms_webhook(channel_app) -> None:  # type: ignore[no-untyped-def]
    client, _, inbox = channel_app
    params = {"MessageSid": "SMroute1", "From": "+15550000002", "To": "+15550001111", "Body": "refund?"}
    url = f"{PUBLIC}/v1/channels/sms/webhook"
    before = inbox.count("sms")
    assert client.post("/v1/channels/sms/webhook", data=params).status_code == 401
    assert (
        client.post(
            "/v1/channels/sms/webhook",
            data=params,
            headers={"X-Twilio-Signature": twilio_sig(url + "x", params)},
        ).status_code
        == 403
    )
    assert inbox.count("sms") == before
    ok = client.post(
        "/v1/channels/sms/webhook", data=params, headers={"X-Twilio-Signature": twilio_sig(url, params)}
    )
    assert (
        ok.status_code == 200
        and ok.headers["content-type"].startswith("text/xml")
        and "<Response>" in ok.text
    )
    client.post(
        "/v1/channels/sms/webhook", data=params, headers={"X-Twilio-Signature": twilio_sig(url, params)}
    )
    assert inbox.count("sms") == before + 1
    bad = {"From": "+15550000002"}
    assert (
        client.post(
            "/v1/channels/sms/webhook", data=bad, headers={"X-Twilio-Signature": twilio_sig(url, bad)}
        ).status_code
        == 400
    )


def test_api_channel_webhook(channel_app) -> None:  # type: ignore[no-untyped-def]
    client, _, inbox = channel_app
    body = json.dumps({"id": "api-route-1", "user": {"id": "app-user-1"}, "text": "hi"}).encode()
    stamp = str(int(time.time()))
    sig = "sha256=" + hmac.new(API_SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert client.post("/v1/channels/api/messages", content=body).status_code == 401
    forged = client.post(
        "/v1/channels/api/messages",
        content=body,
        headers={"X-Parley-Timestamp": stamp, "X-Parley-Signature": "sha256=00"},
    )
    assert forged.status_code == 403
    ok = client.post(
        "/v1/channels/api/messages",
        content=body,
        headers={"X-Parley-Timestamp": stamp, "X-Parley-Signature": sig},
    )
    assert ok.status_code == 202 and ok.json()["stored"] == 1
    assert inbox.list()[0].message.sender == "app-user-1"
    replay = client.post(
        "/v1/channels/api/messages",
        content=body,
        headers={"X-Parley-Timestamp": stamp, "X-Parley-Signature": sig},
    )
    assert replay.status_code == 202 and replay.json() == {"stored": 0, "duplicates": 1}
    bad = b'{"id": "x", "text": "no user"}'
    bad_sig = (
        "sha256=" + hmac.new(API_SECRET.encode(), stamp.encode() + b"." + bad, hashlib.sha256).hexdigest()
    )
    malformed = client.post(
        "/v1/channels/api/messages",
        content=bad,
        headers={"X-Parley-Timestamp": stamp, "X-Parley-Signature": bad_sig},
    )
    assert malformed.status_code == 400


def test_email_inbound_webhook_json_and_form(channel_app) -> None:  # type: ignore[no-untyped-def]
    client, _, inbox = channel_app
    data = {
        "From": "noah@example.com",
        "Subject": "Hi",
        "MessageID": "pm-route-1",
        "TextBody": "Do you ship to Canada?",
    }
    auth = "Basic " + base64.b64encode(f"postmark:{INBOUND_SECRET}".encode()).decode()
    assert client.post("/v1/channels/email/inbound", json=data).status_code == 401
    wrong = "Basic " + base64.b64encode(b"postmark:guess").decode()
    assert (
        client.post("/v1/channels/email/inbound", json=data, headers={"Authorization": wrong}).status_code
        == 403
    )
    assert (
        client.post("/v1/channels/email/inbound", json=data, headers={"Authorization": auth}).json()["stored"]
        == 1
    )
    assert (
        client.post("/v1/channels/email/inbound", json=data, headers={"Authorization": auth}).json()[
            "duplicates"
        ]
        == 1
    )
    assert (
        client.post(
            "/v1/channels/email/inbound", json={"Subject": "x"}, headers={"Authorization": auth}
        ).status_code
        == 400
    )
    form = {
        "from": "Ann <ann@example.com>",
        "subject": "Hello",
        "body-plain": "Where is my parcel?",
        "Message-Id": "<mg-route-1@x>",
        "timestamp": "1",
        "token": "t",
    }
    form["signature"] = hmac.new(INBOUND_SECRET.encode(), b"1t", hashlib.sha256).hexdigest()
    files = {"attachment-1": ("photo.jpg", b"\xff\xd8\xff", "image/jpeg")}
    ok = client.post("/v1/channels/email/inbound", data=form, files=files)
    assert ok.status_code == 200 and ok.json()["stored"] == 1
    stored = inbox.list()[0].message
    assert stored.sender == "ann@example.com" and [a.filename for a in stored.attachments] == ["photo.jpg"]
    assert client.post("/v1/channels/email/inbound", data={**form, "signature": "0" * 64}).status_code == 403
    assert (
        client.post(
            "/v1/channels/email/inbound", content=b"x", headers={"Content-Type": "text/plain"}
        ).status_code
        == 400
    )


def test_unconfigured_channel_is_404(prepared_dir: Path) -> None:
    settings = make_settings(prepared_dir)
    with TestClient(create_app(settings, service=SupportService(settings))) as client:
        body = wa_body("wamid.x")
        assert (
            client.post(
                "/v1/channels/whatsapp/webhook", content=body, headers={"X-Hub-Signature-256": wa_sig(body)}
            ).status_code
            == 404
        )
        assert (
            client.get("/v1/channels/whatsapp/webhook", params={"hub.mode": "subscribe"}).status_code == 404
        )


def test_full_answer_link_is_signed(channel_app) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = channel_app
    from assistant.store.models import MessageRole

    store = client.app.state.parley.service.conversations  # type: ignore[attr-defined]
    conversation, _ = store.create_conversation("sms")
    store.add_message(conversation.id, MessageRole.CUSTOMER, "policy?")
    reply = store.add_message(
        conversation.id,
        MessageRole.BOT,
        "<b>Returns</b> take 30 days [1].",
        citations=[{"ref": 1, "title": "Returns", "url": "javascript:alert(1)"}],
    )
    url = answer_url(settings, conversation.id, reply.seq).removeprefix(PUBLIC)
    page = client.get(url)
    assert (
        page.status_code == 200
        and "&lt;b&gt;Returns&lt;/b&gt;" in page.text
        and "javascript:" not in page.text
    )
    assert client.get(url.replace("sig=", "sig=0")).status_code == 404
    assert (
        client.get(answer_url(settings, conversation.id, 1).removeprefix(PUBLIC)).status_code == 404
    )  # a customer message


def test_contact_routes(channel_app) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = channel_app
    headers = {"Authorization": f"Bearer {AGENT_KEY}"}
    contacts = client.app.state.parley.service.contact_memory.contacts  # type: ignore[attr-defined]
    email = contacts.resolve("email", "route.person@example.com", "Route Person")
    phone = contacts.resolve("whatsapp", "+15550000099")
    assert client.get("/v1/agent/contacts").status_code == 401
    linked = client.post(
        f"/v1/agent/contacts/{email.contact_id}/link", json={"identity_id": phone.id}, headers=headers
    )
    assert linked.status_code == 200
    assert {i["kind"]: i["proof"] for i in linked.json()["identities"]} == {
        "email": "none",
        "whatsapp": "agent",
    }
    found = client.get("/v1/agent/contacts", params={"query": "5550000099"}, headers=headers).json()
    assert [c["id"] for c in found] == [email.contact_id]
    view = client.get(f"/v1/agent/contacts/{email.contact_id}", headers=headers).json()
    assert view["entries"] == [] and set(view["reply_channels"]) >= {"email", "whatsapp"}
    assert (
        client.post(
            f"/v1/agent/contacts/{email.contact_id}/reply",
            json={"text": "hi", "channel": "sms"},
            headers=headers,
        ).status_code
        == 422
    )
    sent = client.post(
        f"/v1/agent/contacts/{email.contact_id}/reply",
        json={"text": "Hello from the team", "channel": "email"},
        headers=headers,
    )
    assert sent.status_code == 201 and sent.json()["delivery_id"] is not None
    undelivered = client.get("/v1/agent/deliveries", params={"status": "pending"}, headers=headers).json()
    assert any(d["id"] == sent.json()["delivery_id"] for d in undelivered)
    split = client.post(
        f"/v1/agent/contacts/{email.contact_id}/split", json={"identity_id": phone.id}, headers=headers
    )
    assert split.status_code == 200 and [i["kind"] for i in split.json()["split_into"]["identities"]] == [
        "whatsapp"
    ]
    assert (
        client.post(
            f"/v1/agent/contacts/{email.contact_id}/split", json={"identity_id": email.id}, headers=headers
        ).status_code
        == 409
    )
    assert client.get("/v1/agent/contacts/not-a-contact", headers=headers).status_code == 404


def test_signatures_with_any_characters_are_refused_not_crashed(channel_app) -> None:  # type: ignore[no-untyped-def]
    client, settings, _ = channel_app
    body = wa_body("wamid.nonascii")
    odd = "sha256=é\u0080".encode()  # bytes on the wire that are not ASCII
    response = client.post(
        "/v1/channels/whatsapp/webhook", content=body, headers={"X-Hub-Signature-256": odd}
    )
    assert response.status_code == 403
    assert client.get("/v1/channels/answers/x/1", params={"sig": "\u0080é"}).status_code == 404
    assert client.get("/v1/channels/answers/x/99999999999999999999", params={"sig": "a"}).status_code == 404
