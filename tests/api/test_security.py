"""Customer A cannot reach customer B's conversation; agent endpoints need a valid key; tokens bind users."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from assistant.identity.tokens import issue_customer_token
from assistant.shop.generator import DEMO_PENDING_ORDER_ID, DEMO_SECOND_USER_ID, DEMO_USER_ID
from tests.api.helpers import OTHER_AGENT_KEY, TOKEN_SECRET, start, turn

pytestmark = pytest.mark.slow


def _reads(conversation_id: str) -> list[tuple[str, str, dict[str, object] | None]]:
    base = f"/v1/conversations/{conversation_id}"
    return [
        ("GET", base, None),
        ("GET", base + "/messages?after=0", None),
        ("GET", base + "/events?timeout=0", None),
        ("POST", base + "/messages", {"text": "show me the orders"}),
    ]


def test_wrong_missing_foreign_secret_and_random_id_all_give_the_same_404(client: TestClient) -> None:
    a_id, a_headers = start(client)
    b_id, b_headers = start(client)
    turn(client, b_id, b_headers, "hello")
    attempts = [
        (b_id, {}),  # no secret
        (b_id, {"X-Conversation-Secret": ""}),
        (b_id, {"X-Conversation-Secret": "guess"}),
        (b_id, a_headers),  # A's secret on B's conversation (token swap)
        (b_id, {"X-Conversation-Secret": b_headers["X-Conversation-Secret"][:-1]}),
        (str(uuid.uuid4()), b_headers),  # random id
        (b_id.upper(), b_headers),
        ("x" * 500, b_headers),
    ]
    answers = set()
    for conversation_id, headers in attempts:
        for method, path, body in _reads(conversation_id):
            response = client.request(method, path, headers=headers, json=body)
            answers.add((response.status_code, response.text))
    assert answers == {(404, '{"detail":"conversation not found"}')}
    # nothing was written to B, and B still works with its own secret
    transcript = client.get(f"/v1/conversations/{b_id}", headers=b_headers).json()
    assert [m["text"] for m in transcript["messages"] if m["role"] == "customer"] == ["hello"]
    assert client.get(f"/v1/conversations/{a_id}", headers=a_headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic dGVzdA=="},
        {"Authorization": "Bearer "},
        {"X-Agent-Key": "wrong"},
        {"X-Conversation-Secret": "anything"},
    ],
)
def test_agent_endpoints_refuse_missing_or_wrong_keys(client: TestClient, headers: dict[str, str]) -> None:
    conversation_id, _ = start(client)
    for method, path in [
        ("GET", "/v1/agent/queue"),
        ("GET", "/v1/agent/conversations"),
        ("GET", f"/v1/agent/conversations/{conversation_id}"),
        ("POST", f"/v1/agent/conversations/{conversation_id}/claim"),
        ("POST", f"/v1/agent/conversations/{conversation_id}/close"),
        ("GET", "/v1/agent/insights"),
    ]:
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401, (method, path)
        assert "agent key" in response.json()["detail"]
    assert (
        client.get(
            f"/v1/agent/conversations/{conversation_id}", headers={"X-Agent-Key": OTHER_AGENT_KEY}
        ).json()["conversation"]["status"]
        == "bot"
    )


def test_token_of_a_cannot_open_or_act_as_b(client: TestClient) -> None:
    token_a = issue_customer_token(DEMO_USER_ID, TOKEN_SECRET)
    response = client.post("/v1/conversations", json={"customer_token": token_a})
    data = response.json()
    headers = {"X-Conversation-Secret": data["secret"]}
    # the conversation is A's: B's order is not on A's account, and nothing of it is shown
    reply = turn(client, data["conversation_id"], headers, "where is my order #W1000005?")
    assert "couldn't find order #W1000005" in reply["reply"]
    assert "Linen Duvet Cover" not in reply["reply"]
    assert not any(t["ok"] and "#W1000005" in str(t["arguments"]) for t in reply["tool_calls"])
    assert DEMO_PENDING_ORDER_ID in reply["reply"]  # A's own orders are listed instead
    # a token forged for B with a guessed secret is refused
    forged = issue_customer_token(DEMO_SECOND_USER_ID, "guessed-secret-0123456789abcdefghijklmnop")
    refused = client.post("/v1/conversations", json={"customer_token": forged})
    assert refused.status_code == 401 and "signature" in refused.json()["detail"]
    expired = issue_customer_token(DEMO_SECOND_USER_ID, TOKEN_SECRET, ttl=1, now=0)
    refused = client.post("/v1/conversations", json={"customer_token": expired})
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]


def test_agent_detail_shows_bound_user_only(client: TestClient) -> None:
    token_a = issue_customer_token(DEMO_USER_ID, TOKEN_SECRET)
    conversation_id = client.post("/v1/conversations", json={"customer_token": token_a}).json()[
        "conversation_id"
    ]
    detail = client.get(
        f"/v1/agent/conversations/{conversation_id}", headers={"X-Agent-Key": OTHER_AGENT_KEY}
    ).json()
    assert detail["conversation"]["user_id"] == DEMO_USER_ID
    assert detail["customer"]["user_id"] == DEMO_USER_ID
    assert {o["user_id"] for o in detail["orders"]} == {DEMO_USER_ID}
