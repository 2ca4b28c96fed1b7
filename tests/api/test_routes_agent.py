"""Agent routes: queue, detail, claim/send/hand back/close, suggestions, insights, conflicts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from assistant.shop.generator import DEMO_USER_EMAIL, DEMO_USER_ID
from tests.api.helpers import OTHER_AGENT_KEY, start, turn

pytestmark = pytest.mark.slow


def test_takeover_flow_through_the_agent_api(client: TestClient, agent_headers: dict[str, str]) -> None:
    conversation_id, headers = start(client)
    turn(client, conversation_id, headers, f"my email is {DEMO_USER_EMAIL}")
    turn(client, conversation_id, headers, "this is useless, I want to speak to a human now")
    queue = client.get("/v1/agent/queue", headers=agent_headers).json()
    entry = next(e for e in queue if e["conversation"]["id"] == conversation_id)
    assert entry["trigger"] and entry["summary"].startswith("The customer wrote")
    assert entry["customer"]["user_id"] == DEMO_USER_ID

    waiting = client.get("/v1/agent/conversations?status=waiting_for_human", headers=agent_headers).json()
    assert conversation_id in {c["id"] for c in waiting}
    assert client.get("/v1/agent/conversations?status=nonsense", headers=agent_headers).status_code == 422

    detail = client.get(f"/v1/agent/conversations/{conversation_id}", headers=agent_headers).json()
    assert detail["customer"]["user_id"] == DEMO_USER_ID and detail["orders"]
    bot_with_tools = [m for m in detail["messages"] if m["tool_calls"]]
    assert bot_with_tools and "output" in bot_with_tools[0]["tool_calls"][0]  # agents see tool outputs
    assert any(m["guard"] for m in detail["messages"])

    url = f"/v1/agent/conversations/{conversation_id}"
    assert client.post(url + "/messages", headers=agent_headers, json={"text": "hi"}).status_code == 409
    assert client.post(url + "/claim", headers=agent_headers).json()["assigned_agent"] == "alice"
    other = {"X-Agent-Key": OTHER_AGENT_KEY}
    conflict = client.post(url + "/claim", headers=other)
    assert conflict.status_code == 409 and "alice" in conflict.json()["detail"]
    assert client.post(url + "/messages", headers=agent_headers, json={"text": "  "}).status_code == 422

    drafts = client.post(url + "/suggestions", headers=agent_headers)
    assert drafts.status_code == 201 and 1 <= len(drafts.json()) <= 3
    listed = client.get(url + "/suggestions", headers=agent_headers).json()
    assert [s["id"] for s in listed] == [s["id"] for s in drafts.json()]
    first = listed[0]["id"]
    edited = client.post(url + f"/suggestions/{first}", headers=agent_headers, json={"choice": "edited"})
    assert edited.status_code == 422 and "edited text" in edited.json()["detail"]
    accepted = client.post(url + f"/suggestions/{first}", headers=agent_headers, json={"choice": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["sent"]["role"] == "agent"
    again = client.post(url + f"/suggestions/{first}", headers=agent_headers, json={"choice": "rejected"})
    assert again.status_code == 409
    assert (
        client.post(
            url + "/suggestions/999999", headers=agent_headers, json={"choice": "rejected"}
        ).status_code
        == 404
    )

    assert client.post(url + "/handback", headers=other).status_code == 409
    assert client.post(url + "/handback", headers=agent_headers).json()["status"] == "bot"
    assert turn(client, conversation_id, headers, "How do I return an item?")["reply"]
    assert client.post(url + "/close", headers=agent_headers).json()["status"] == "closed"

    insights = client.get("/v1/agent/insights", headers=agent_headers).json()
    assert insights["takeovers"] >= 1 and 0 < insights["takeover_rate"] <= 1
    assert insights["suggestion_acceptance_rate"] > 0
    assert insights["sentiment_over_time"]


def test_unknown_conversation_is_404_for_agents(client: TestClient, agent_headers: dict[str, str]) -> None:
    for method, suffix in [
        ("GET", ""),
        ("POST", "/claim"),
        ("POST", "/close"),
        ("GET", "/suggestions"),
        ("POST", "/suggestions"),
        ("POST", "/handback"),
    ]:
        response = client.request(method, f"/v1/agent/conversations/nope{suffix}", headers=agent_headers)
        assert response.status_code == 404, (method, suffix, response.text)
        assert isinstance(response.json()["detail"], str)
