"""Each adapter against a local server that speaks its provider's wire format: signatures in, credentials
and payloads out, provider down (retryable) and refusals (permanent)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from assistant.channels.api_channel import ApiChannelAdapter
from assistant.channels.api_channel import signature as api_signature
from assistant.channels.base import (
    DeliveryError,
    MissingSignature,
    OutboundMessage,
    PayloadError,
    SignatureError,
)
from assistant.channels.sms import SmsAdapter
from assistant.channels.whatsapp import WhatsAppAdapter, handshake
from knowledge.settings import Settings
from tests.assistant.channels.providers import (
    API_SECRET,
    TWILIO_SID,
    TWILIO_TOKEN,
    WA_PHONE_ID,
    WA_TOKEN,
    fake_provider,
)


def channel_settings(**values: Any) -> Settings:
    base = {
        "whatsapp_app_secret": "wa-app-secret",
        "whatsapp_verify_token": "wa-verify",
        "whatsapp_access_token": WA_TOKEN,
        "whatsapp_phone_number_id": WA_PHONE_ID,
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from_number": "+15550001111",
        "api_channel_secret": API_SECRET,
        "channel_provider_timeout_s": 5.0,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


def wa_payload(*messages: dict[str, Any]) -> bytes:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": WA_PHONE_ID},
        "contacts": [{"profile": {"name": "Emma"}, "wa_id": "15551234567"}],
        "messages": list(messages),
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()


# --- WhatsApp --------------------------------------------------------------------------------------
def test_whatsapp_signature_and_handshake() -> None:
    adapter = WhatsAppAdapter(channel_settings())
    body = wa_payload({"from": "15551234567", "id": "wamid.1", "type": "text", "text": {"body": "hi"}})
    good = "sha256=" + hmac.new(b"wa-app-secret", body, hashlib.sha256).hexdigest()
    adapter.verify(body, good)
    with pytest.raises(MissingSignature):
        adapter.verify(body, None)
    with pytest.raises(SignatureError):
        adapter.verify(body + b" ", good)  # one byte changed: the signature no longer matches
    assert handshake("wa-verify", "subscribe", "wa-verify", "12345") == "12345"
    with pytest.raises(SignatureError):
        handshake("wa-verify", "subscribe", "guess", "12345")


def test_whatsapp_parse_text_interactive_and_unsupported() -> None:
    adapter = WhatsAppAdapter(channel_settings())
    messages = adapter.parse(
        wa_payload(
            {
                "from": "15551234567",
                "id": "wamid.1",
                "type": "text",
                "text": {"body": " where is my order? "},
            },
            {
                "from": "15551234567",
                "id": "wamid.2",
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": "b0", "title": "Yes"}},
            },
            {"from": "15551234567", "id": "wamid.3", "type": "sticker", "sticker": {"id": "s1"}},
            {
                "from": "15551234567",
                "id": "wamid.4",
                "type": "location",
                "location": {"latitude": 1, "longitude": 2},
            },
        )
    )
    assert [(m.provider_id, m.kind, m.text) for m in messages] == [
        ("wamid.1", "text", "where is my order?"),
        ("wamid.2", "text", "Yes"),
        ("wamid.3", "unsupported", ""),
        ("wamid.4", "unsupported", ""),
    ]
    assert messages[0].display_name == "Emma" and messages[0].sender == "15551234567"
    statuses = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"value": {"statuses": [{"id": "x"}]}}]}],
        }
    )
    assert adapter.parse(statuses.encode()) == []
    for bad in (
        b"not json",
        b"[]",
        b'{"entry": [{"changes": [{"value": 3}]}]}',
        wa_payload({"type": "text"}),
    ):
        with pytest.raises(PayloadError):
            adapter.parse(bad)


def test_whatsapp_delivery_text_and_buttons() -> None:
    with fake_provider("whatsapp") as graph:
        adapter = WhatsAppAdapter(channel_settings(whatsapp_api_base=graph.url))
        sent = adapter.deliver("+15551234567", OutboundMessage(text="**Done**: order cancelled."))
        assert sent.provider_id == "wamid.1"
        assert graph.received[0]["to"] == "15551234567"
        assert graph.received[0]["text"]["body"] == "*Done*: order cancelled."
        adapter.deliver("+15551234567", OutboundMessage(text="Shall I go ahead?", buttons=["Yes", "No"]))
        buttons = graph.received[1]["interactive"]["action"]["buttons"]
        assert [b["reply"]["title"] for b in buttons] == ["Yes", "No"]


def test_whatsapp_provider_down_is_retryable_and_refusal_permanent() -> None:
    with fake_provider("whatsapp") as graph:
        adapter = WhatsAppAdapter(channel_settings(whatsapp_api_base=graph.url))
        graph.fail_next = 1
        with pytest.raises(DeliveryError) as down:
            adapter.deliver("+15551234567", OutboundMessage(text="hi"))
        assert not down.value.permanent
        graph.refuse = True
        with pytest.raises(DeliveryError) as refused:
            adapter.deliver("+15551234567", OutboundMessage(text="hi"))
        assert refused.value.permanent
    wrong_token = WhatsAppAdapter(
        channel_settings(whatsapp_api_base="http://127.0.0.1:9", whatsapp_access_token="x")
    )
    with pytest.raises(DeliveryError) as unreachable:
        wrong_token.deliver("+15551234567", OutboundMessage(text="hi"))
    assert not unreachable.value.permanent


# --- Twilio SMS ------------------------------------------------------------------------------------
def twilio_signature(url: str, params: dict[str, str]) -> str:
    """Written from Twilio's documentation, independently of the adapter."""
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(TWILIO_TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_sms_signature() -> None:
    adapter = SmsAdapter(channel_settings())
    params = {"MessageSid": "SM1", "From": "+15551234567", "To": "+15550001111", "Body": "hello"}
    url = "https://parley.example/v1/channels/sms/webhook"
    adapter.verify(url, params, twilio_signature(url, params))
    with pytest.raises(SignatureError):
        adapter.verify(url, {**params, "Body": "changed"}, twilio_signature(url, params))
    with pytest.raises(SignatureError):
        adapter.verify(url + "?x=1", params, twilio_signature(url, params))
    with pytest.raises(MissingSignature):
        adapter.verify(url, params, "")


def test_sms_parse() -> None:
    adapter = SmsAdapter(channel_settings())
    message = adapter.parse({"MessageSid": "SM1", "From": "+15551234567", "Body": "  refund? "})
    assert (message.provider_id, message.sender, message.text, message.kind) == (
        "SM1",
        "+15551234567",
        "refund?",
        "text",
    )
    picture = adapter.parse({"MessageSid": "SM2", "From": "+15551234567", "Body": "", "NumMedia": "1"})
    assert picture.kind == "unsupported"
    for bad in ({"From": "+1"}, {"MessageSid": "SM3"}, {"MessageSid": "SM4", "From": "+1", "NumMedia": "x"}):
        with pytest.raises(PayloadError):
            adapter.parse(bad)


def test_sms_delivery_shortens_long_answers() -> None:
    with fake_provider("twilio") as twilio:
        adapter = SmsAdapter(channel_settings(twilio_api_base=twilio.url, sms_max_segments=2))
        long = " ".join(f"Point {i} of the policy applies here [1]." for i in range(40))
        sent = adapter.deliver(
            "+15551234567",
            OutboundMessage(
                text=long, citations=[{"ref": 1, "title": "Returns"}], full_answer_url="https://p.example/a"
            ),
        )
        assert sent.provider_id and sent.provider_id.startswith("SM")
        body = twilio.received[0]["Body"]
        assert twilio.received[0]["To"] == "+15551234567" and twilio.received[0]["From"] == "+15550001111"
        assert body.endswith("Full answer: https://p.example/a") and len(body) <= 306
        twilio.fail_next = 1
        with pytest.raises(DeliveryError) as down:
            adapter.deliver("+15551234567", OutboundMessage(text="hi"))
        assert not down.value.permanent
    bad_token = SmsAdapter(channel_settings(twilio_api_base="http://127.0.0.1:9"))
    with pytest.raises(DeliveryError):
        bad_token.deliver("+15551234567", OutboundMessage(text="hi"))


# --- API channel -----------------------------------------------------------------------------------
def test_api_channel_signature_window_and_payload() -> None:
    now = 1_800_000_000
    adapter = ApiChannelAdapter(channel_settings(), clock=lambda: now)
    body = json.dumps({"id": "m1", "user": {"id": "app-user-7", "name": "Ana"}, "text": "hi"}).encode()
    stamp = str(now)
    adapter.verify(body, stamp, api_signature(API_SECRET, stamp, body))
    with pytest.raises(SignatureError):
        adapter.verify(body, stamp, api_signature("wrong-secret", stamp, body))
    old = str(now - 3600)
    with pytest.raises(SignatureError):  # a captured request replayed an hour later
        adapter.verify(body, old, api_signature(API_SECRET, old, body))
    with pytest.raises(MissingSignature):
        adapter.verify(body, None, None)
    message = adapter.parse(body)
    assert (message.sender, message.display_name, message.text) == ("app-user-7", "Ana", "hi")
    for bad in (
        b"{",
        b'{"id": "m1", "text": "x"}',
        b'{"id": 5, "user": {"id": "u"}}',
        b'{"id": "m", "user": {"id": "u"}, "text": 3}',
    ):
        with pytest.raises(PayloadError):
            adapter.parse(bad)


def test_api_channel_delivery_is_signed() -> None:
    with fake_provider("api") as receiver:
        adapter = ApiChannelAdapter(
            channel_settings(api_channel_outbound_url=receiver.url + "/hook"), clock=time.time
        )
        sent = adapter.deliver("app-user-7", OutboundMessage(text="**Hello**", conversation_id="c1"))
        assert sent.provider_id == "ext-1"
        assert receiver.received[0]["user_id"] == "app-user-7" and receiver.received[0]["text"] == "Hello"
        receiver.fail_next = 1
        with pytest.raises(DeliveryError) as down:
            adapter.deliver("app-user-7", OutboundMessage(text="again"))
        assert not down.value.permanent
    forged = ApiChannelAdapter(channel_settings(api_channel_outbound_url="http://127.0.0.1:9/hook"))
    with pytest.raises(DeliveryError):
        forged.deliver("u", OutboundMessage(text="x"))
