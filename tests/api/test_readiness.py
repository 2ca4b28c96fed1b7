"""Liveness vs readiness, and a server that starts degraded on a damaged index instead of exiting."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from tests.api.helpers import make_settings, start, turn

pytestmark = pytest.mark.slow


def test_livez_and_readyz_when_warm(client: TestClient) -> None:
    assert client.get("/livez").json() == {"status": "ok", "checks": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"warm_up": "ok", "store": "ok", "index": "ok"}


def test_a_corrupt_index_starts_degraded_and_keeps_serving(prepared_dir: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "copy"
    shutil.copytree(prepared_dir, data_dir)
    (data_dir / "chroma" / "chroma.sqlite3").write_bytes(b"not a database" * 4096)
    app = create_app(make_settings(data_dir), warm=True)
    with TestClient(app) as client:  # runs the warm-up (lifespan): it used to raise and stop the server
        assert client.get("/livez").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["warm_up"] == "ok"
        assert ready.json()["checks"]["index"] == "down"
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        assert health.json()["checks"]["index"] == "down"  # the reason is in the log only
        conversation_id, headers = start(client)
        reply = turn(client, conversation_id, headers, "how long does shipping take?")
        assert reply["reply"]  # an answer without the index (a handover or "I can't search"), not a 5xx


def test_a_moved_index_folder_is_reported(prepared_dir: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "copy"
    shutil.copytree(prepared_dir, data_dir)
    app = create_app(make_settings(data_dir), warm=True)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        shutil.move(data_dir / "chroma", tmp_path / "moved-away")
        health = client.get("/healthz")  # used to say "ok": the open file handle still answered
        assert health.status_code == 503 and health.json()["checks"]["index"] == "down"
        assert client.get("/readyz").status_code == 503
        shutil.move(tmp_path / "moved-away", data_dir / "chroma")
        assert client.get("/healthz").status_code == 200
