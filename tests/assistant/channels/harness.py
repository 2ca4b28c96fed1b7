"""A channel worker on the shared sample desk (real SQLite, Chroma, MiniLM, offline agent), with every
provider pointed at local fakes and real mail servers."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from assistant.channels.base import InboundMessage
from assistant.channels.whatsapp import WhatsAppAdapter
from assistant.channels.worker import ChannelWorker
from tests.assistant.channels.mailservers import SmtpSink, smtp_sink
from tests.assistant.channels.providers import (
    API_SECRET,
    TWILIO_SID,
    TWILIO_TOKEN,
    WA_PHONE_ID,
    WA_TOKEN,
    FakeProvider,
    fake_provider,
)

WA_APP_SECRET = "wa-app-secret"
_ids = itertools.count(1)


@dataclass
class Channels:
    worker: ChannelWorker
    graph: FakeProvider
    twilio: FakeProvider
    api: FakeProvider
    smtp: SmtpSink

    @property
    def service(self) -> Any:
        return self.worker.service

    def whatsapp(self, sender: str, text: str, name: str | None = None, kind: str = "text") -> InboundMessage:
        message_id = f"wamid.test{next(_ids)}"
        payload = {"from": sender.lstrip("+"), "id": message_id, "type": kind}
        if kind == "text":
            payload["text"] = {"body": text}
        body = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "changes": [
                            {
                                "value": {
                                    "contacts": [
                                        {"profile": {"name": name or ""}, "wa_id": sender.lstrip("+")}
                                    ],
                                    "messages": [payload],
                                }
                            }
                        ]
                    }
                ],
            }
        ).encode()
        return WhatsAppAdapter(self.worker.settings).parse(body)[0]

    def deliver(self, message: InboundMessage, rounds: int = 3) -> None:
        self.worker.inbox.store(message)
        for _ in range(rounds):
            report = self.worker.run_once()
            if not (report.processed or report.queued or report.sent or report.failed):
                break


def wait_until(condition: Any, timeout_s: float = 120.0, what: str = "condition") -> Any:
    """Poll until `condition()` is truthy (the worker runs in its own thread); fail after `timeout_s`."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def whatsapp_webhook_body(sender: str, text: str, name: str) -> bytes:
    payload = {
        "from": sender.lstrip("+"),
        "id": f"wamid.story{next(_ids)}",
        "type": "text",
        "text": {"body": text},
    }
    value = {"contacts": [{"profile": {"name": name}, "wa_id": sender.lstrip("+")}], "messages": [payload]}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}
    ).encode()


def signed(body: bytes) -> str:
    return "sha256=" + hmac.new(WA_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def channel_overrides(
    graph: FakeProvider, twilio: FakeProvider, api: FakeProvider, smtp: SmtpSink
) -> dict[str, Any]:
    return {
        "public_url": "https://parley.example",
        "email_address": "help@shop.example",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_starttls": False,
        "whatsapp_app_secret": WA_APP_SECRET,
        "whatsapp_verify_token": "wa-verify",
        "whatsapp_access_token": WA_TOKEN,
        "whatsapp_phone_number_id": WA_PHONE_ID,
        "whatsapp_api_base": graph.url,
        "twilio_account_sid": TWILIO_SID,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_from_number": "+15550001111",
        "twilio_api_base": twilio.url,
        "api_channel_secret": API_SECRET,
        "api_channel_outbound_url": api.url + "/hook",
        "email_inbound_secret": "inbound-secret",
        "channel_retry_base_s": 0.0,
        "channel_provider_timeout_s": 5.0,
    }


@contextmanager
def channels_on(desk: Any, **extra: Any) -> Iterator[Channels]:
    with ExitStack() as stack:
        graph = stack.enter_context(fake_provider("whatsapp"))
        twilio = stack.enter_context(fake_provider("twilio"))
        api = stack.enter_context(fake_provider("api"))
        smtp = stack.enter_context(smtp_sink())
        service = desk.service_with(**{**channel_overrides(graph, twilio, api, smtp), **extra})
        yield Channels(ChannelWorker(service, holder="test-worker"), graph, twilio, api, smtp)
