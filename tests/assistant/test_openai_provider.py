"""The `openai` provider end to end, against a local stub of the OpenAI chat-completions protocol.

The stub plays scripted replies (tool calls, streamed text, errors, delays); the turn runs through the real
agent, tool layer, shop database and help-centre index. Fallback cases check that the offline planner
answers when the remote model fails, instead of the turn failing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.prompts import load_prompt
from assistant.shop.generator import (
    DEMO_DELIVERED_ORDER_ID,
    DEMO_PENDING_ORDER_ID,
    DEMO_USER_EMAIL,
    DEMO_USER_ID,
)
from tests.assistant.conftest import SampleDesk
from tests.assistant.openai_stub import StubReply, start_stub_server, tool_call

pytestmark = pytest.mark.slow


class Stub:
    """A started stub server, what it received, and a SupportService pointed at it."""

    def __init__(self, desk: SampleDesk, script: list[StubReply], **settings: Any) -> None:
        self.received: list[dict[str, Any]] = []
        self.base_url, self.stop = start_stub_server(script, received=self.received)
        overrides: dict[str, Any] = {"llm_timeout_s": 5.0, **settings}
        self.service = desk.service_with(
            llm_provider="openai",
            llm_base_url=self.base_url,
            llm_api_key="test-key",
            llm_model="stub-model",
            llm_max_retries=0,
            **overrides,
        )

    def turn(self, conversation_id: str, text: str, tokens: list[str] | None = None) -> Any:
        return self.service.customer_turn(
            conversation_id, text, tokens.append if tokens is not None else None
        )


@pytest.fixture
def stubs(fresh_shop: SampleDesk) -> Iterator[list[Stub]]:
    started: list[Stub] = []
    yield started
    for stub in started:
        stub.stop()


def start(stubs: list[Stub], desk: SampleDesk, script: list[StubReply], **settings: Any) -> Stub:
    stub = Stub(desk, script, **settings)
    stubs.append(stub)
    return stub


def names(result: Any) -> list[str]:
    return [c.name for c in result.tool_calls]


def test_search_then_cited_answer_streams_tokens(fresh_shop: SampleDesk, stubs: list[Stub]) -> None:
    answer = "Orders placed before 14:00 ET leave our warehouse the same business day [1]."
    stub = start(
        stubs,
        fresh_shop,
        [
            StubReply(tool_calls=[tool_call("search_help_center", {"query": "shipping processing time"})]),
            StubReply(content=answer, chunk_chars=5),
        ],
    )
    conversation, _ = stub.service.start_conversation(channel="test")
    tokens: list[str] = []
    result = stub.turn(conversation.id, "how fast do you ship?", tokens)

    assert result.provider == "openai" and result.reply == answer and not result.failed
    (search,) = result.tool_calls
    assert search.name == "search_help_center" and search.ok is True
    first_hit = search.output["hits"][0]
    assert [c.article_id for c in result.citations] == [first_hit["article_id"]]
    assert result.citations[0].url == first_hit["url"]
    assert len(tokens) > 3 and "".join(tokens) == answer  # streamed in pieces, all of them

    # What the model was sent: our system prompt, the tools' schemas, then the tool result.
    assert len(stub.received) == 2 and all(body["stream"] for body in stub.received)
    first, second = stub.received
    assert first["model"] == "stub-model"
    assert first["messages"][0]["role"] == "system"
    assert first["messages"][0]["content"].strip() == load_prompt("system.md").strip()
    assert first["messages"][-1] == {"role": "user", "content": "how fast do you ship?"}
    tools = {t["function"]["name"]: t["function"] for t in first["tools"]}
    assert {"search_help_center", "find_user_id_by_email", "cancel_pending_order"} <= set(tools)
    assert "order_id" in tools["cancel_pending_order"]["parameters"]["properties"]
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and first_hit["article_id"] in tool_message["content"]


def test_order_lookup_through_the_tool_layer(fresh_shop: SampleDesk, stubs: list[Stub]) -> None:
    stub = start(
        stubs,
        fresh_shop,
        [
            StubReply(tool_calls=[tool_call("find_user_id_by_email", {"email": DEMO_USER_EMAIL})]),
            StubReply(tool_calls=[tool_call("get_order_details", {"order_id": DEMO_DELIVERED_ORDER_ID})]),
            StubReply(content=f"Order {DEMO_DELIVERED_ORDER_ID} was delivered."),
        ],
    )
    conversation, _ = stub.service.start_conversation(channel="test")
    result = stub.turn(conversation.id, f"I'm {DEMO_USER_EMAIL}, where is {DEMO_DELIVERED_ORDER_ID}?")
    assert names(result) == ["find_user_id_by_email", "get_order_details"]
    assert all(c.ok for c in result.tool_calls)
    assert result.tool_calls[1].output["status"] == "delivered"  # read from the shop database
    assert stub.service.conversations.get(conversation.id).user_id == DEMO_USER_ID  # signed in by the tool
    assert result.reply == f"Order {DEMO_DELIVERED_ORDER_ID} was delivered."


def test_write_tool_call_waits_for_the_customers_yes(fresh_shop: SampleDesk, stubs: list[Stub]) -> None:
    cancel = {"order_id": DEMO_PENDING_ORDER_ID, "reason": "no longer needed"}
    stub = start(
        stubs,
        fresh_shop,
        [
            StubReply(tool_calls=[tool_call("cancel_pending_order", cancel)]),
            StubReply(content="Your order is cancelled; the refund is on its way."),
        ],
    )
    conversation, _ = stub.service.start_conversation(channel="test", user_id=DEMO_USER_ID)
    asked = stub.turn(conversation.id, f"cancel {DEMO_PENDING_ORDER_ID}, I don't need it")
    assert asked.awaiting_confirmation["actions"][0]["args"] == cancel
    assert len(stub.received) == 1
    with fresh_shop.service.shop.transaction() as shop:
        assert shop.get_order(DEMO_PENDING_ORDER_ID).status == "pending"

    done = stub.turn(conversation.id, "yes")
    with fresh_shop.service.shop.transaction() as shop:
        assert shop.get_order(DEMO_PENDING_ORDER_ID).status == "cancelled"
    assert [(c.name, c.ok) for c in done.tool_calls] == [("cancel_pending_order", True)]
    assert done.reply == "Your order is cancelled; the refund is on its way."
    # The model heard the result of the cancellation before it answered.
    assert '"cancelled"' in stub.received[1]["messages"][-1]["content"]


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(StubReply(status=500), id="http-500"),
        pytest.param(StubReply(status=429), id="http-429"),
        pytest.param(StubReply(content="too late", delay_s=3.0), id="timeout"),
        pytest.param(StubReply(tool_calls=[tool_call("drop_all_orders", {})]), id="unknown-tool"),
        pytest.param(StubReply(tool_calls=[tool_call("get_order_details", "not json")]), id="malformed-args"),
        pytest.param(
            StubReply(tool_calls=[tool_call("get_order_details", {"order": 1})]), id="wrong-arguments"
        ),
    ],
)
def test_remote_failure_falls_back_to_the_offline_planner(
    fresh_shop: SampleDesk, stubs: list[Stub], failure: StubReply
) -> None:
    # Only one scripted reply: any later model call finds the script used up (500) and falls back too.
    stub = start(stubs, fresh_shop, [failure], llm_timeout_s=0.5)
    conversation, _ = stub.service.start_conversation(channel="test")
    result = stub.turn(conversation.id, "how long does shipping take?")
    assert result.reply and not result.failed
    assert result.citations and "shipping-times" in {c.article_id for c in result.citations}
    assert names(result) == ["search_help_center"]  # the planner's call; the bad one never ran
    assert stub.received  # the remote model was asked first


def test_card_numbers_are_redacted_before_the_remote_model(fresh_shop: SampleDesk, stubs: list[Stub]) -> None:
    stub = start(stubs, fresh_shop, [StubReply(content="I'm sorry to hear that.")])
    conversation, _ = stub.service.start_conversation(channel="test")
    stub.turn(conversation.id, "my card 4111 1111 1111 1111 was charged twice")
    sent = json.dumps(stub.received)
    assert "4111 1111 1111 1111" not in sent and "4111111111111111" not in sent


def test_stub_answers_without_streaming_too() -> None:
    from langchain_openai import ChatOpenAI

    received: list[dict[str, Any]] = []
    base_url, stop = start_stub_server(
        [
            StubReply(content="plain answer"),
            StubReply(tool_calls=[tool_call("get_order_details", {"order_id": "#W1"})]),
        ],
        received=received,
    )
    try:
        model = ChatOpenAI(model="stub-model", base_url=base_url, api_key="k", max_retries=0)  # type: ignore[arg-type]
        assert model.invoke("hi").content == "plain answer"
        call = model.invoke("where is #W1?").tool_calls[0]
        assert (call["name"], call["args"]) == ("get_order_details", {"order_id": "#W1"})
    finally:
        stop()
    assert [body.get("stream", False) for body in received] == [False, False]
