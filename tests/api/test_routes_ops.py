"""Health and metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from tests.api.helpers import make_settings, start, turn

pytestmark = pytest.mark.slow


def test_healthz_ok_with_store_and_index(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "checks": {"store": "ok", "index": "ok"}}


def test_healthz_503_with_reasons_when_index_missing(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "empty"))
    response = TestClient(app).get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded" and body["checks"]["store"] == "ok"
    assert body["checks"]["index"] in ("down", "empty")


def test_healthz_503_when_store_is_down(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "x", database_url="postgresql://nobody@127.0.0.1:1/none")
    response = TestClient(create_app(settings)).get("/healthz")
    assert response.status_code == 503 and response.json()["checks"]["store"] == "down"


def test_metrics_count_turns_latency_and_takeovers(client: TestClient) -> None:
    conversation_id, headers = start(client)
    turn(client, conversation_id, headers, "I want to talk to a human")
    text = client.get("/metrics").text
    assert "parley_turns_total{outcome=" in text
    assert "parley_turn_latency_seconds_count" in text
    assert 'parley_takeovers_total{trigger="explicit_request"}' in text


def test_openapi_documents_routes_and_error_model(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/v1/conversations/{conversation_id}/messages"]["post"]
    assert (
        post["summary"]
        and "404" in post["responses"]
        and "text/event-stream" in post["responses"]["200"]["content"]
    )
    assert "ErrorResponse" in spec["components"]["schemas"]
    assert all(op.get("summary") for path in spec["paths"].values() for op in path.values())
