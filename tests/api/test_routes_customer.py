"""Customer routes against a real store, a real index and the offline agent."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.service import SupportService
from assistant.shop.generator import DEMO_PENDING_ORDER_ID, DEMO_USER_EMAIL, DEMO_USER_ID
from knowledge.settings import Settings
from tests.api.helpers import AGENT_KEY, parse_sse, start, turn

pytestmark = pytest.mark.slow


def test_start_conversation_returns_id_secret_status(client: TestClient) -> None:
    response = client.post("/v1/conversations")
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "bot" and data["authenticated"] is False
    assert len(data["secret"]) >= 24 and data["conversation_id"]


def test_help_question_streams_tokens_then_cited_final(client: TestClient) -> None:
    conversation_id, headers = start(client)
    with client.stream(
        "POST",
        f"/v1/conversations/{conversation_id}/messages",
        json={"text": "How do I return an item?"},
        headers=headers,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse("".join(response.iter_text()))
    names = [name for name, _ in events]
    # The offline planner writes its reply at once: its pieces may go out as a single event.
    assert names[-1] == "final" and names.count("token") >= 1
    final = events[-1][1]
    assert "".join(data["text"] for name, data in events if name == "token").strip()
    assert final["citations"] and final["citations"][0]["url"].startswith("https://")
    assert set(final) == {
        "reply",
        "citations",
        "tool_calls",
        "status",
        "handover",
        "awaiting_confirmation",
        "customer_seq",
        "reply_seq",
        "language",
    }
    assert final["language"] == "en"
    # customers see tool names/arguments/ok, never outputs
    assert final["tool_calls"] and set(final["tool_calls"][0]) == {"name", "arguments", "ok"}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Comment puis-je retourner un article ?", "fr"),
        ("Hoe kan ik een artikel retourneren?", "nl"),
        ("How do I return an item?", "en"),
    ],
)
def test_turn_says_the_conversations_language(client: TestClient, text: str, language: str) -> None:
    """The turn's response names the language the conversation is now in (the widget speaks it): in the
    JSON answer and in the SSE `final` event alike, and the transcript agrees."""
    conversation_id, headers = start(client)
    assert turn(client, conversation_id, headers, text)["language"] == language
    with client.stream(
        "POST", f"/v1/conversations/{conversation_id}/messages", json={"text": text}, headers=headers
    ) as response:
        events = parse_sse("".join(response.iter_text()))
    assert events[-1][0] == "final" and events[-1][1]["language"] == language
    transcript = client.get(f"/v1/conversations/{conversation_id}", headers=headers).json()
    assert transcript["language"] == language


def test_order_flow_and_confirmation_prompt(client: TestClient) -> None:
    conversation_id, headers = start(client)
    assert "account" in turn(client, conversation_id, headers, f"my email is {DEMO_USER_EMAIL}")["reply"]
    orders = turn(client, conversation_id, headers, "where is my order?")
    assert DEMO_PENDING_ORDER_ID in orders["reply"]
    assert all("output" not in t for t in orders["tool_calls"])
    turn(client, conversation_id, headers, f"please cancel order {DEMO_PENDING_ORDER_ID}")
    asked = turn(client, conversation_id, headers, "I ordered it by mistake")
    assert asked["awaiting_confirmation"] is not None, asked
    action = asked["awaiting_confirmation"]["actions"][0]
    assert action["name"] == "cancel_pending_order" and action["description"]


def test_transcript_hides_system_and_guard_details(client: TestClient, agent_headers: dict[str, str]) -> None:
    conversation_id, headers = start(client)
    handed = turn(client, conversation_id, headers, "I want to talk to a human")
    assert handed["handover"] is True and handed["status"] == "waiting_for_human"
    assert (
        client.post(f"/v1/agent/conversations/{conversation_id}/claim", headers=agent_headers).status_code
        == 200
    )
    sent = client.post(
        f"/v1/agent/conversations/{conversation_id}/messages",
        headers=agent_headers,
        json={"text": "Hi, Alice here"},
    )
    assert sent.status_code == 201
    transcript = client.get(f"/v1/conversations/{conversation_id}", headers=headers).json()
    assert transcript["status"] == "human"
    roles = [m["role"] for m in transcript["messages"]]
    assert roles == ["customer", "bot", "agent"]  # the "alice joined" system note is hidden
    assert all("guard" not in m and "tool_calls" not in m for m in transcript["messages"])
    assert transcript["messages"][-1]["author"] == "alice"
    after = client.get(f"/v1/conversations/{conversation_id}/messages?after=2", headers=headers).json()
    assert [m["text"] for m in after] == ["Hi, Alice here"]
    # while a human holds it, the bot is silent
    silent = turn(client, conversation_id, headers, "thanks, are you there?")
    assert silent["reply"] is None and silent["status"] == "human"


def test_events_long_poll_returns_agent_message(client: TestClient, agent_headers: dict[str, str]) -> None:
    conversation_id, headers = start(client)
    turn(client, conversation_id, headers, "I want to talk to a person")
    last = client.get(f"/v1/conversations/{conversation_id}/events?timeout=0", headers=headers).json()
    assert last["status"] == "waiting_for_human"
    client.post(f"/v1/agent/conversations/{conversation_id}/claim", headers=agent_headers)
    client.post(
        f"/v1/agent/conversations/{conversation_id}/messages", headers=agent_headers, json={"text": "Hello!"}
    )
    events = client.get(
        f"/v1/conversations/{conversation_id}/events?after={last['last_seq']}&timeout=5", headers=headers
    ).json()
    assert events["status"] == "human"
    assert [m["text"] for m in events["messages"]] == ["Hello!"]
    assert events["last_seq"] > last["last_seq"]
    with client.stream(
        "GET",
        f"/v1/conversations/{conversation_id}/events?after=0&timeout=0",
        headers={**headers, "Accept": "text/event-stream"},
    ) as response:
        sse = parse_sse("".join(response.iter_text()))
    assert sse[0] == ("status", {"status": "human"})
    assert [d["text"] for n, d in sse if n == "message"][-1] == "Hello!"


def test_customer_token_binds_user(client: TestClient) -> None:
    from assistant.identity.tokens import issue_customer_token
    from tests.api.helpers import TOKEN_SECRET

    token = issue_customer_token(DEMO_USER_ID, TOKEN_SECRET)
    response = client.post("/v1/conversations", json={"customer_token": token})
    assert response.status_code == 201 and response.json()["authenticated"] is True
    data = response.json()
    headers = {"X-Conversation-Secret": data["secret"]}
    orders = turn(client, data["conversation_id"], headers, "where is my order?")
    assert DEMO_PENDING_ORDER_ID in orders["reply"]  # no email asked


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"text": ""}, 422, "empty"),
        ({"text": "   \n\t "}, 422, "empty"),
        ({"text": "x" * 2001}, 422, "limit is 2000"),
        ({}, 422, "text"),
        ({"text": 5}, 422, "text"),
        ({"text": "hi", "extra": 1}, 422, "extra"),
    ],
)
def test_bad_messages_get_readable_4xx(
    client: TestClient, body: dict[str, Any], status: int, words: str
) -> None:
    conversation_id, headers = start(client)
    response = client.post(f"/v1/conversations/{conversation_id}/messages", json=body, headers=headers)
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str) and words in response.json()["detail"].lower()


def test_malformed_json_and_oversized_body(client: TestClient) -> None:
    conversation_id, headers = start(client)
    url = f"/v1/conversations/{conversation_id}/messages"
    bad = client.post(url, content=b'{"text": "hi"', headers={**headers, "Content-Type": "application/json"})
    assert bad.status_code == 422 and "not valid JSON" in bad.json()["detail"]
    huge = client.post(url, json={"text": "x" * 20_000}, headers=headers)
    assert huge.status_code == 413 and "larger than" in huge.json()["detail"]

    def chunked():
        yield b'{"text": "'
        for _ in range(40):
            yield b"x" * 1000
        yield b'"}'

    streamed = client.post(url, content=chunked(), headers={**headers, "Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert client.get(f"/v1/conversations/{conversation_id}", headers=headers).json()["messages"] == []


def test_rate_limits_give_429_with_retry_after(api_settings: Settings, service: SupportService) -> None:
    limited = api_settings.model_copy(update={"rate_limit_per_conversation": 2, "rate_limit_per_ip": 8})
    with TestClient(create_app(limited, service=service)) as client:
        conversation_id, headers = start(client)
        url = f"/v1/conversations/{conversation_id}/messages"
        for _ in range(2):
            client.post(url, json={"text": "hello"}, headers={**headers, "Accept": "application/json"})
        third = client.post(url, json={"text": "hello"}, headers=headers)
        assert third.status_code == 429 and int(third.headers["Retry-After"]) >= 1
        assert "conversation limit" in third.json()["detail"]
        statuses = [
            client.get(f"/v1/conversations/{conversation_id}", headers=headers).status_code for _ in range(8)
        ]
        assert 429 in statuses
        metrics = client.get("/metrics").text
        assert 'parley_rate_limited_total{scope="conversation"} 1.0' in metrics


def test_cors_allows_listed_origin_only(client: TestClient, api_settings: Settings) -> None:
    allowed = api_settings.cors_origins[0]
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-conversation-secret",
    }
    ok = client.options("/v1/conversations", headers={"Origin": allowed, **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == allowed
    refused = client.options("/v1/conversations", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers


def test_agent_crash_keeps_message_and_retry_works(
    client: TestClient, service: SupportService, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation_id, headers = start(client)
    url = f"/v1/conversations/{conversation_id}/messages"

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("model backend exploded")

    monkeypatch.setattr(service, "_run", crash)  # fails after customer_turn stored the message
    with client.stream("POST", url, json={"text": "How do I return an item?"}, headers=headers) as response:
        assert response.status_code == 200
        events = parse_sse("".join(response.iter_text()))
    assert events[-1][0] == "error" and events[-1][1]["message_stored"] is True
    assert "saved" in events[-1][1]["detail"]
    as_json = client.post(
        url, json={"text": "Still there?"}, headers={**headers, "Accept": "application/json"}
    )
    assert as_json.status_code == 503 and as_json.json()["message_stored"] is True
    transcript = client.get(f"/v1/conversations/{conversation_id}", headers=headers).json()["messages"]
    assert [m["text"] for m in transcript] == ["How do I return an item?", "Still there?"]

    monkeypatch.undo()
    retry = turn(client, conversation_id, headers, "How do I return an item?")
    assert retry["reply"] and retry["citations"]
    assert 'parley_errors_total{kind="turn"}' in client.get("/metrics").text


def test_closed_conversation_refuses_messages(client: TestClient) -> None:
    conversation_id, headers = start(client)
    client.post(f"/v1/agent/conversations/{conversation_id}/close", headers={"X-Agent-Key": AGENT_KEY})
    response = client.post(
        f"/v1/conversations/{conversation_id}/messages", json={"text": "hi"}, headers=headers
    )
    assert response.status_code == 409 and "closed" in response.json()["detail"]
