"""Helpers shared by the API tests (settings, conversations, SSE parsing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from knowledge.settings import Settings

AGENT_KEY = "test-agent-key-0123456789abcdefghij"  # 32+ bytes, as `parley serve` requires
OTHER_AGENT_KEY = "other-agent-key-0123456789abcdefghij"
TOKEN_SECRET = "test-token-secret-0123456789abcdefghij"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "llm_provider": "offline",
        "customer_token_secret": TOKEN_SECRET,
        "agent_keys": {"alice": AGENT_KEY, "bob": OTHER_AGENT_KEY},
        "rate_limit_per_conversation": 10_000,
        "rate_limit_per_ip": 100_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def start(client: TestClient, **body: Any) -> tuple[str, dict[str, str]]:
    """A new conversation: its id and the headers that carry its secret."""
    response = client.post("/v1/conversations", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    return data["conversation_id"], {"X-Conversation-Secret": data["secret"]}


def turn(client: TestClient, conversation_id: str, headers: dict[str, str], text: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers={**headers, "Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    import json

    events = []
    for block in body.split("\n\n"):
        name, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
        if data:
            events.append((name, json.loads(data)))
    return events
