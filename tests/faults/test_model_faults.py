"""Remote model faults, each injected into a customer turn on the real service (SQLite, Chroma, MiniLM):
hang, HTTP errors, garbage bodies, a broken stream, malformed and unknown tool calls, endless tool calls, a
huge reply, a refused connection. Every one: the message stored first, a polite answer or a handover, the
reply stored and at most max_reply_chars long, no internal error text.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from assistant.agent import MODEL_CALL_LIMIT
from tests.assistant.openai_stub import StubReply, tool_call
from tests.conftest import free_port
from tests.faults.checks import assert_turn_survived
from tests.faults.conftest import FaultDesk

pytestmark = pytest.mark.slow  # real SQLite, Chroma and MiniLM; the whole suite runs in about 3-4 minutes

MESSAGES = {
    "shipping": "how long does shipping take?",
    "returns": "how do I return something?",
    "refund": "when will I get my refund?",
    "order": "where is my order #W1000001?",
    "greeting": "hello there",
    "fr": "combien de temps prend la livraison ?",
    "nl": "hoe lang duurt de verzending?",
    "gibberish": "qwzx plorf ???",
    "product": "what colours does the Trail Backpack come in?",
    "cancel": "cancel order #W1000001, I ordered it by mistake",
}


class Hold(threading.Event):
    """A hang the test releases; counts the requests still waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = 0

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting += 1
        try:
            return super().wait(timeout)
        finally:
            self.waiting -= 1


def huge(_: Hold) -> list[StubReply]:
    return [StubReply(content="All good. " * 50_000, chunk_chars=50_000)]  # 500,000 characters


FAULTS: dict[str, Callable[[Hold], list[StubReply]]] = {
    "hang": lambda hold: [StubReply(content="too late", hold=hold)],
    "hang-after-tool-call": lambda hold: [
        StubReply(tool_calls=[tool_call("search_help_center", {"query": "shipping"})]),
        StubReply(content="too late", hold=hold),
    ],
    "http-500": lambda _: [StubReply(status=500)],
    "http-503": lambda _: [StubReply(status=503)],
    "http-429": lambda _: [StubReply(status=429)],
    "garbage-body": lambda _: [StubReply(raw=b"{this is not json")],
    "broken-stream": lambda _: [StubReply(raw=b'data: {"choices": [{"delta": {"content": "Hel')],
    "empty-choices": lambda _: [StubReply(raw=b'data: {"id": "x", "choices": []}\n\ndata: [DONE]\n\n')],
    "malformed-tool-args": lambda _: [StubReply(tool_calls=[tool_call("search_help_center", "{not json")])],
    "unknown-tool": lambda _: [StubReply(tool_calls=[tool_call("drop_all_tables", {})])],
    "endless-tool-calls": lambda _: [
        StubReply(tool_calls=[tool_call("search_help_center", {"query": "shipping"})], repeat=True)
    ],
    "huge-reply": huge,
}


@pytest.mark.parametrize("message", list(MESSAGES))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_model_fault(desk: FaultDesk, fault: str, message: str) -> None:
    hold = Hold()
    overrides: dict[str, Any] = {}
    if fault.startswith("hang"):
        overrides["llm_timeout_s"] = 30.0  # only the turn's deadline can end the wait
    service = desk.service(FAULTS[fault](hold), **overrides)
    conversation, _ = service.start_conversation(channel="test")
    text = MESSAGES[message]
    tokens: list[str] = []
    start = len(desk.received)
    try:
        result = service.customer_turn(conversation.id, text, on_token=tokens.append)
        # The customer has the answer while the model's request is still hanging. (On a loaded machine the
        # turn's deadline may pass before the hanging request is even sent: then no call starts, as designed.)
        hanging_sent = len(desk.received) - start - (1 if fault == "hang-after-tool-call" else 0)
        if fault.startswith("hang") and hanging_sent >= 1:
            assert hold.waiting >= 1, (desk.received, result.reply)
    finally:
        hold.set()
    assert_turn_survived(service, conversation.id, text, result)
    assert len("".join(tokens)) <= service.settings.max_reply_chars
    if fault == "endless-tool-calls":
        assert len(desk.received) - start <= MODEL_CALL_LIMIT
        polite = service.replies("step_limit", service.conversations.get(conversation.id).language or "en")
        # A polite end (counted as a failed answer), or an answer grounded in what the searches found.
        assert (result.reply == polite and result.failed) or result.citations
    if fault == "huge-reply":
        stored = service.conversations.messages(conversation.id)[-1].text
        assert len(stored) <= service.settings.max_reply_chars


@pytest.mark.parametrize("message", list(MESSAGES))
def test_model_endpoint_refuses_connections(desk: FaultDesk, message: str) -> None:
    service = desk.service(base_url=f"http://127.0.0.1:{free_port()}/v1")
    conversation, _ = service.start_conversation(channel="test")
    result = service.customer_turn(conversation.id, MESSAGES[message])
    assert_turn_survived(service, conversation.id, MESSAGES[message], result)


def test_the_received_requests_were_real_model_calls(desk: FaultDesk) -> None:
    """The stub is reached with the agent's messages (the faults above are injected where they count)."""
    service = desk.service([StubReply(content="Hello! How can I help?")])
    conversation, _ = service.start_conversation(channel="test")
    result = service.customer_turn(conversation.id, "hello there")
    assert result.reply == "Hello! How can I help?"
    body = desk.received[-1]
    assert body["model"] == "stub-model" and "hello there" in json.dumps(body["messages"])
