"""The desk over HTTP: teams and agents, routing on handover, the customer told where they stand, refusals
(offline or full agent, a team with no members, someone else's conversation), CES, insights, queue fairness.

The module runs on its own copy of the prepared database (agents going online here must not auto-assign
the conversations of the other API tests); the slow parts (models, index) are shared with them.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.identity.tokens import issue_customer_token
from assistant.parts import ServiceParts
from assistant.service import SupportService
from tests.api.helpers import AGENT_KEY, OTHER_AGENT_KEY, TOKEN_SECRET, make_settings, start, turn

pytestmark = pytest.mark.slow

ALICE = {"Authorization": f"Bearer {AGENT_KEY}"}
BOB = {"Authorization": f"Bearer {OTHER_AGENT_KEY}"}
DEMO_USER = "emma_laurent_1001"


@pytest.fixture(scope="module")
def desk(
    prepared_dir: Path, service: SupportService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    copy = tmp_path_factory.mktemp("desk-db") / "parley.db"
    with sqlite3.connect(prepared_dir / "parley.db") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    settings = make_settings(prepared_dir, database_url=f"sqlite:///{copy}", desk_managers=["alice"])
    shared = service.parts  # the loaded model and its cached embeddings; this test's own database
    parts = ServiceParts(
        settings,
        embedder=shared.embedder,
        encoder=shared.encoder,
        guard=shared.guard,
        help_center=shared.help_center,
    )
    own = SupportService(settings, parts)
    with TestClient(create_app(settings, service=own)) as client:
        yield client


def ok(response: Any, code: int = 200) -> Any:
    assert response.status_code == code, response.text
    return response.json() if response.content else None


def handed_over(
    client: TestClient, text: str = "I want to talk to a person", **start_body: Any
) -> tuple[str, dict[str, str], dict[str, Any]]:
    cid, headers = start(client, **start_body)
    result = turn(client, cid, headers, text)
    assert result["handover"], result
    return cid, headers, result


def other_weekday() -> str:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(datetime.now(UTC).weekday() + 3) % 7]


def test_teams_and_agents_are_managed_over_the_api(desk: TestClient) -> None:
    team = ok(
        desk.put(
            "/v1/desk/teams/support",
            headers=ALICE,
            json={"id": "support", "name": "Support", "languages": ["en"]},
        )
    )
    assert team["languages"] == ["en"] and team["hours"] is None
    ok(
        desk.put(
            "/v1/desk/teams/empty",
            headers=ALICE,
            json={"id": "empty", "name": "Nobody here", "languages": ["de"]},
        )
    )
    bad = desk.put(
        "/v1/desk/teams/x",
        headers=ALICE,
        json={"id": "x", "name": "X", "hours": {"timezone": "Mars/Base", "weekly": {"mon": ["09:00-17:00"]}}},
    )
    assert bad.status_code == 422 and "unknown time zone" in bad.json()["detail"]
    assert (
        desk.put(
            "/v1/desk/teams/x", headers=ALICE, json={"id": "x", "name": "X", "topics": ["gossip"]}
        ).status_code
        == 422
    )
    assert desk.put("/v1/desk/teams/x", headers=ALICE, json={"id": "y", "name": "X"}).status_code == 422
    assert (
        desk.put("/v1/desk/teams/x", headers=BOB, json={"id": "x", "name": "X"}).status_code == 403
    )  # not a manager
    agent = ok(
        desk.put(
            "/v1/desk/agents/alice",
            headers=ALICE,
            json={"name": "alice", "capacity": 1, "teams": ["support"], "lead_of": ["support"]},
        )
    )
    assert (agent["status"], agent["capacity"], agent["lead_of"]) == ("offline", 1, ["support"])
    ok(
        desk.put(
            "/v1/desk/agents/bob", headers=ALICE, json={"name": "bob", "capacity": 1, "teams": ["support"]}
        )
    )
    assert (
        desk.put("/v1/desk/agents/carol", headers=ALICE, json={"name": "carol"}).status_code == 422
    )  # no key
    missing = desk.put("/v1/desk/agents/bob", headers=ALICE, json={"name": "bob", "teams": ["nope"]})
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    assert (
        desk.put("/v1/desk/agents/bob", headers=ALICE, json={"name": "bob", "capacity": 500}).status_code
        == 422
    )
    me = ok(desk.get("/v1/agent/me", headers=BOB))
    assert me["agent"] == "bob" and me["manager"] is False and me["desk"]["teams"] == ["support"]
    config = ok(desk.get("/v1/desk/config", headers=BOB))
    assert "returns" in config["topics"] and config["bands"] == ["urgent", "high", "normal", "low"]


def test_handover_is_routed_and_the_customer_is_told(desk: TestClient) -> None:
    ok(desk.post("/v1/agent/me/status", headers=ALICE, json={"status": "online"}))
    cid, headers, first = handed_over(desk)
    assert first["status"] == "human"  # alice was free: assigned at once
    assert "will answer in a moment" in first["reply"]
    detail = ok(desk.get(f"/v1/agent/conversations/{cid}", headers=ALICE))
    assert (
        detail["conversation"]["assigned_agent"] == "alice" and detail["conversation"]["team_id"] == "support"
    )
    assert detail["sla"]["breached"] is False and detail["effort"]["customer_turns"] == 1
    # alice is full now: the next customer waits and is told where they stand
    second, second_headers, result = handed_over(desk, "Je voudrais parler à un conseiller")
    assert result["status"] == "waiting_for_human"
    assert "dans la file" in result["reply"]
    status = ok(desk.get(f"/v1/conversations/{second}/queue", headers=second_headers))
    assert status["state"] == "waiting" and status["position"] >= 1 and "Vous êtes n°" in status["text"]
    assert (
        desk.get(f"/v1/conversations/{second}/queue", headers=headers).status_code == 404
    )  # another's secret
    queue = ok(desk.get("/v1/agent/queue", headers=ALICE))
    entry = next(e for e in queue if e["conversation"]["id"] == second)
    assert entry["routing"]["team_id"] == "support" and entry["routing"]["sla"]["first_response_left_s"] > 0
    ok(desk.post(f"/v1/agent/conversations/{cid}/close", headers=ALICE))  # a slot frees: routing assigns
    assert ok(desk.get(f"/v1/conversations/{second}/queue", headers=second_headers))["state"] == "assigned"


def test_refusals_are_clear(desk: TestClient) -> None:
    cid, _, result = handed_over(desk)
    assert result["status"] == "waiting_for_human"  # alice is busy, bob offline
    refused = desk.post(f"/v1/agent/conversations/{cid}/assign", headers=ALICE, json={"agent": "bob"})
    assert refused.status_code == 409 and refused.json()["detail"] == "agent bob is offline"
    assert (
        desk.post(f"/v1/agent/conversations/{cid}/assign", headers=BOB, json={"agent": "alice"}).status_code
        == 403
    )
    full = desk.post(f"/v1/agent/conversations/{cid}/assign", headers=ALICE, json={"agent": "alice"})
    assert full.status_code == 409 and "at capacity" in full.json()["detail"]
    claim = desk.post(f"/v1/agent/conversations/{cid}/claim", headers=ALICE)
    assert claim.status_code == 409 and "you are at capacity (1 of 1" in claim.json()["detail"]
    ok(desk.post("/v1/agent/me/status", headers=BOB, json={"status": "online"}))  # bob takes it at once
    assert (
        ok(desk.get(f"/v1/agent/conversations/{cid}", headers=BOB))["conversation"]["assigned_agent"] == "bob"
    )
    taken = desk.post(f"/v1/agent/conversations/{cid}/claim", headers=ALICE)
    assert taken.status_code == 409 and "owned by bob" in taken.json()["detail"]
    nobody = desk.post(f"/v1/agent/conversations/{cid}/transfer", headers=BOB, json={"to_team": "empty"})
    assert nobody.status_code == 409 and "team empty has no members" in nobody.json()["detail"]
    unknown = desk.post(f"/v1/agent/conversations/{cid}/transfer", headers=BOB, json={"to_team": "ghosts"})
    assert unknown.status_code == 404
    both = desk.post(
        f"/v1/agent/conversations/{cid}/transfer",
        headers=BOB,
        json={"to_team": "support", "to_agent": "alice"},
    )
    assert both.status_code == 409
    assert (
        desk.post(
            f"/v1/agent/conversations/{cid}/transfer", headers=ALICE, json={"to_agent": "bob"}
        ).status_code
        == 409
    )
    ok(desk.post(f"/v1/agent/conversations/{cid}/close", headers=BOB))


def test_ces_at_close_once_and_in_range(desk: TestClient) -> None:
    cid, headers = start(desk)
    turn(desk, cid, headers, "How long does shipping take?")
    early = desk.post(f"/v1/conversations/{cid}/ces", headers=headers, json={"score": 6})
    assert early.status_code == 409 and "closed" in early.json()["detail"]
    closed = ok(desk.post(f"/v1/conversations/{cid}/close", headers=headers))
    assert closed["status"] == "closed" and closed["ces"]["ask"] is True
    assert "easy" in closed["ces"]["question"] and closed["ces"]["scale"] == [1, 7]
    for bad in (0, 8, "seven", 4.5):
        assert (
            desk.post(f"/v1/conversations/{cid}/ces", headers=headers, json={"score": bad}).status_code == 422
        )
    answered = ok(desk.post(f"/v1/conversations/{cid}/ces", headers=headers, json={"score": 6}), 201)
    assert answered["score"] == 6 and answered["ask"] is False
    twice = desk.post(f"/v1/conversations/{cid}/ces", headers=headers, json={"score": 2})
    assert twice.status_code == 409 and "already answered" in twice.json()["detail"]
    assert ok(desk.get(f"/v1/conversations/{cid}/ces", headers=headers))["score"] == 6
    skipper, skipper_headers = start(desk)
    ok(desk.post(f"/v1/conversations/{skipper}/close", headers=skipper_headers))
    assert ok(
        desk.post(f"/v1/conversations/{skipper}/ces", headers=skipper_headers, json={"score": None}), 201
    )["skipped"]


def test_insights_json_csv_and_chart(desk: TestClient) -> None:
    data = ok(desk.get("/insights", headers=ALICE))
    overall = data["overall"]
    assert overall["conversations"] >= 4 and overall["handoffs"] >= 3
    assert overall["ces_mean"] == 6 and overall["ces_responses"] == 1
    assert overall["asa_s"] is not None
    assert {g["team"] for g in data["by"]["team"]} >= {"support"}
    assert {"day", "team", "channel", "agent"} == set(data["by"])
    rows = list(csv.DictReader(io.StringIO(desk.get("/insights?format=csv", headers=ALICE).text)))
    assert len(rows) == overall["conversations"] and "asa_s" in rows[0]
    by_agent = desk.get("/insights?format=csv&by=agent", headers=ALICE)
    assert by_agent.headers["content-type"].startswith("text/csv") and "alice" in by_agent.text
    png = desk.get("/insights/chart.png?metric=asa_s&by=team", headers=ALICE)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert desk.get("/insights/chart.png?metric=mood", headers=ALICE).status_code == 422
    assert desk.get("/insights").status_code == 401
    assert (
        ok(desk.get("/v1/agent/insights", headers=ALICE))["overall"]["conversations"]
        == overall["conversations"]
    )


def test_outside_business_hours_the_bot_keeps_helping(desk: TestClient) -> None:
    hours = {"timezone": "Europe/Paris", "weekly": {other_weekday(): ["09:00-17:00"]}}
    ok(
        desk.put(
            "/v1/desk/teams/nuit",
            headers=ALICE,
            json={"id": "nuit", "name": "Nuit", "languages": ["fr"], "hours": hours},
        )
    )
    ok(
        desk.put(
            "/v1/desk/teams/support",
            headers=ALICE,
            json={"id": "support", "name": "Support", "languages": ["en"]},
        )
    )
    cid, headers, result = handed_over(desk, "Je veux parler à un conseiller, mon colis n'est pas arrivé")
    assert result["status"] == "bot"  # not queued yet: the bot keeps helping
    assert "sera de retour" in result["reply"] and "heure de Europe/Paris" in result["reply"]
    status = ok(desk.get(f"/v1/conversations/{cid}/queue", headers=headers))
    assert status["state"] == "deferred" and status["opens_at"]
    assert turn(desk, cid, headers, "Combien de temps prend un remboursement ?")["reply"]  # still answered
    queue = ok(desk.get("/v1/agent/queue", headers=ALICE))
    assert next(e for e in queue if e["conversation"]["id"] == cid)["routing"]["deferred_until"]


def test_macros(desk: TestClient) -> None:
    macro = ok(
        desk.post(
            "/v1/desk/macros",
            headers=BOB,
            json={
                "title": "Order status",
                "body": "Hi {{first_name}}, your order {{order_id}} is {{order_status}}.",
                "tags": ["delivery"],
            },
        ),
        201,
    )
    assert (
        desk.post("/v1/desk/macros", headers=BOB, json={"title": "x", "body": "{{password}}"}).status_code
        == 422
    )
    found = ok(desk.get("/v1/desk/macros?q=order status", headers=BOB))
    assert [m["id"] for m in found] == [macro["id"]]
    cid, _ = start(desk, customer_token=issue_customer_token(DEMO_USER, TOKEN_SECRET))
    rendered = ok(desk.get(f"/v1/desk/macros/{macro['id']}/render?conversation_id={cid}", headers=BOB))
    assert rendered["text"].startswith("Hi Emma, your order #W100000") and rendered["missing"] == []
    anonymous, _ = start(desk)
    bare = ok(desk.get(f"/v1/desk/macros/{macro['id']}/render?conversation_id={anonymous}", headers=BOB))
    assert bare["missing"] == ["first_name", "order_id", "order_status"]
    assert desk.delete(f"/v1/desk/macros/{macro['id']}", headers=BOB).status_code == 403
    assert desk.delete(f"/v1/desk/macros/{macro['id']}", headers=ALICE).status_code == 204
    assert desk.delete(f"/v1/desk/macros/{macro['id']}", headers=ALICE).status_code == 404


def test_a_flood_of_abusive_anonymous_chats_does_not_push_a_verified_customer_down(desk: TestClient) -> None:
    """Issue 11, finding 9: 25 abusive anonymous chats from one IP took 23 of the top 25 places and a polite
    customer asking for a person ranked 30 of 30. Now: per-IP cap, fair share, verified customers first."""
    for name in ("alice", "bob"):
        ok(desk.post(f"/v1/desk/agents/{name}/status", headers=ALICE, json={"status": "away"}))
    flood = [
        handed_over(desk, "You are useless idiots, answer me NOW!!! This is a f***ing disgrace")[0]
        for _ in range(25)
    ]
    token = issue_customer_token(DEMO_USER, TOKEN_SECRET)
    polite, _, _ = handed_over(desk, "Could I talk to a person, please?", customer_token=token)
    queue = ok(desk.get("/v1/agent/queue?limit=100", headers=ALICE))
    ids = [e["conversation"]["id"] for e in queue]
    assert ids[0] == polite
    assert sum(1 for e in queue[:25] if e["conversation"]["id"] in flood and not e["routing"]["held"]) <= 3
    assert sum(1 for e in queue if e["conversation"]["id"] in flood and e["routing"]["held"]) >= 22
