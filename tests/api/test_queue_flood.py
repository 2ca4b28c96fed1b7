"""Issue 11, finding 9, over HTTP: floods of abusive anonymous chats against a polite verified customer.

- from one IP that forges X-Forwarded-For (no trusted proxy): still one IP, held past the per-IP cap;
- from 25 different IPs (behind a trusted proxy, so each really is another client): the per-IP cap does
  not bind, the unverified pool's fair share does; the verified customer still ranks near the top.
Runs on its own copy of the prepared database (no agent online: nothing is assigned away).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.identity.tokens import issue_customer_token
from assistant.parts import ServiceParts
from assistant.service import SupportService
from tests.api.helpers import AGENT_KEY, TOKEN_SECRET, make_settings, turn

pytestmark = pytest.mark.slow
ALICE = {"Authorization": f"Bearer {AGENT_KEY}"}
DEMO_USER = "emma_laurent_1001"
ABUSE = "You are useless idiots, answer me NOW!!! This is a f***ing disgrace"
POLITE = "Could I talk to a person, please?"


@pytest.fixture
def desk_for(
    prepared_dir: Path, service: SupportService, tmp_path: Path
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        copy = tmp_path / f"flood-{len(clients)}.db"
        with sqlite3.connect(prepared_dir / "parley.db") as source, sqlite3.connect(copy) as target:
            source.backup(target)
        settings = make_settings(prepared_dir, database_url=f"sqlite:///{copy}", **overrides)
        shared = service.parts
        parts = ServiceParts(
            settings,
            embedder=shared.embedder,
            encoder=shared.encoder,
            guard=shared.guard,
            help_center=shared.help_center,
        )
        client = TestClient(
            create_app(settings, service=SupportService(settings, parts)), client=("10.0.0.9", 4000)
        )
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def handed_over(client: TestClient, text: str, ip: str, **body: Any) -> str:
    response = client.post("/v1/conversations", json=body, headers={"X-Forwarded-For": ip})
    assert response.status_code == 201, response.text
    data = response.json()
    headers = {"X-Conversation-Secret": data["secret"], "X-Forwarded-For": ip}
    assert turn(client, data["conversation_id"], headers, text)["handover"]
    return str(data["conversation_id"])


def queue_entries(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/v1/agent/queue?limit=100", headers=ALICE)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def queue_ids(client: TestClient) -> list[str]:
    return [entry["conversation"]["id"] for entry in queue_entries(client)]


def test_a_flood_forging_forwarded_for_is_still_one_ip(desk_for: Callable[..., TestClient]) -> None:
    desk = desk_for()  # no trusted proxy: the forged header is ignored
    flood = [handed_over(desk, ABUSE, f"198.51.100.{i}") for i in range(12)]
    token = issue_customer_token(DEMO_USER, TOKEN_SECRET)
    polite = handed_over(desk, POLITE, "192.0.2.50", customer_token=token)
    queue = queue_entries(desk)
    assert queue[0]["conversation"]["id"] == polite
    waiting = [e["conversation"]["id"] for e in queue if not e["routing"]["held"]]
    assert sum(1 for cid in waiting if cid in flood) == 3  # the per-IP cap binds: one IP, not twelve


def test_a_flood_from_many_ips_does_not_push_a_verified_customer_down(
    desk_for: Callable[..., TestClient],
) -> None:
    desk = desk_for(trusted_proxies=["10.0.0.0/8"])  # each X-Forwarded-For is a real, distinct client
    flood = [handed_over(desk, ABUSE, f"198.51.100.{i}") for i in range(25)]
    token = issue_customer_token(DEMO_USER, TOKEN_SECRET)
    polite = handed_over(desk, POLITE, "192.0.2.50", customer_token=token)
    ids = queue_ids(desk)
    assert polite in ids[:4], ids.index(polite)
    # the anonymous ones keep their own order (first come, first served among themselves)
    assert [cid for cid in ids if cid in flood] == flood
