"""Help-centre index faults under a running service: the index folder or its files moved, deleted, corrupted
or emptied, the collection dropped by another client, an ingest while serving. A damaged index hands the
customer to a person ("I can't search right now"), /healthz says so, and the message is kept."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.store.models import ConversationStatus
from tests.conftest import REPO_ROOT
from tests.faults.checks import assert_turn_survived
from tests.faults.conftest import FaultDesk

pytestmark = pytest.mark.slow  # real SQLite, Chroma and MiniLM; the whole suite runs in about 3 minutes

QUESTIONS = {
    "shipping": "how long does shipping take?",
    "returns": "how do I return something?",
    "fr": "combien de temps prend la livraison ?",
}


def _chroma(desk: FaultDesk) -> Path:
    return desk.data_dir / "chroma"


def _overwrite_header(desk: FaultDesk) -> None:
    database = _chroma(desk) / "chroma.sqlite3"
    with open(database, "r+b") as f:
        f.write(b"\x00garbage" * 512)


def _garbage_file(desk: FaultDesk) -> None:
    (_chroma(desk) / "chroma.sqlite3").write_bytes(b"not a database" * 4096)


def _truncate(desk: FaultDesk) -> None:
    (_chroma(desk) / "chroma.sqlite3").write_bytes(b"")


def _delete_database(desk: FaultDesk) -> None:
    (_chroma(desk) / "chroma.sqlite3").unlink()


def _move_folder(desk: FaultDesk) -> None:
    shutil.move(_chroma(desk), desk.data_dir / "chroma-moved-away")


def _delete_folder(desk: FaultDesk) -> None:
    shutil.rmtree(_chroma(desk))


def _delete_vectors(desk: FaultDesk) -> None:
    for segment in _chroma(desk).iterdir():
        if segment.is_dir():
            shutil.rmtree(segment)


def _drop_collection(desk: FaultDesk) -> None:
    from knowledge.chroma import get_chroma_client

    client = get_chroma_client(desk.settings())  # another client on the same files (as `parley` would be)
    for collection in client.list_collections():
        client.delete_collection(collection.name)


DAMAGE: dict[str, Callable[[FaultDesk], None]] = {
    "header-overwritten": _overwrite_header,
    "garbage-database": _garbage_file,
    "truncated-database": _truncate,
    "database-deleted": _delete_database,
    "folder-moved-away": _move_folder,
    "folder-deleted": _delete_folder,
    "collection-dropped": _drop_collection,
}


@pytest.mark.parametrize("question", list(QUESTIONS))
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_index_while_serving(own_desk: FaultDesk, damage: str, question: str) -> None:
    service = own_desk.service()
    assert service.help_center.search("shipping")  # a running server: the index is open and answering
    DAMAGE[damage](own_desk)
    conversation, _ = service.start_conversation(channel="test")
    text = QUESTIONS[question]
    result = service.customer_turn(conversation.id, text)
    assert_turn_survived(service, conversation.id, text, result)
    assert not result.citations  # nothing is cited from an index that cannot be read
    assert result.handover and result.status == ConversationStatus.WAITING_FOR_HUMAN
    with TestClient(create_app(service.settings, service=service)) as client:
        health = client.get("/healthz")
    assert health.status_code == 503 and health.json()["status"] == "degraded"
    assert "Traceback" not in health.text


@pytest.mark.parametrize("question", list(QUESTIONS))
def test_vector_files_deleted_while_serving(own_desk: FaultDesk, question: str) -> None:
    """The vectors' files deleted under a running server: it answers from what it has loaded, or hands
    over; either way the message is kept and the reply is visible."""
    service = own_desk.service()
    assert service.help_center.search("shipping")
    _delete_vectors(own_desk)
    conversation, _ = service.start_conversation(channel="test")
    result = service.customer_turn(conversation.id, QUESTIONS[question])
    assert_turn_survived(service, conversation.id, QUESTIONS[question], result)
    assert result.citations or result.handover


@pytest.mark.parametrize("damage", ["header-overwritten", "garbage-database", "folder-moved-away"])
def test_server_starts_degraded_on_a_damaged_index(own_desk: FaultDesk, damage: str) -> None:
    DAMAGE[damage](own_desk)
    settings = own_desk.settings()
    with TestClient(create_app(settings, warm=True)) as client:  # warm-up runs; the server stays up
        assert client.get("/livez").status_code == 200
        health = client.get("/healthz")
        # A folder moved away before the start is a new, empty index to Chroma: "empty" says run an ingest.
        expected = ("down", "empty") if damage == "folder-moved-away" else ("down",)
        assert health.status_code == 503 and health.json()["checks"]["index"] in expected
        started = client.post("/v1/conversations", json={})
        assert started.status_code == 201, started.text
        conversation_id, secret = started.json()["conversation_id"], started.json()["secret"]
        sent = client.post(
            f"/v1/conversations/{conversation_id}/messages",
            json={"text": "how long does shipping take?"},
            headers={"X-Conversation-Secret": secret, "Accept": "application/json"},
        )
        assert sent.status_code == 200 and sent.json()["reply"], sent.text
        assert "Traceback" not in sent.text


def test_ingest_by_another_process_while_serving(own_desk: FaultDesk, tmp_path: Path) -> None:
    """The real `parley ingest` in a second process adds an article; the running service answers from it."""
    service = own_desk.service()
    conversation, _ = service.start_conversation(channel="test")
    service.customer_turn(conversation.id, "how long does shipping take?")  # index open, snapshot read
    articles = tmp_path / "new"
    articles.mkdir()
    (articles / "zorblax-club.md").write_text(
        "# Zorblax club\n\nHow do I join the Zorblax club? Members of the Zorblax club get free returns for "
        "life. You join the Zorblax club from your account page.\n"
    )
    env = {**os.environ, "PARLEY_DATA_DIR": str(own_desk.data_dir), "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", str(articles), "--no-progress"],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    for text in ("how do I join the Zorblax club?", "what do Zorblax club members get?"):
        other, _ = service.start_conversation(channel="test")
        result = service.customer_turn(other.id, text)
        assert_turn_survived(service, other.id, text, result)
        assert any(c.article_id == "zorblax-club" for c in result.citations), result.reply


def test_parley_serve_starts_degraded_on_a_corrupt_index(own_desk: FaultDesk, tmp_path: Path) -> None:
    """Issue 11: a corrupt chroma.sqlite3 made `parley serve` exit. The real command, in its own process,
    now serves: alive, /healthz degraded, customers handed to a person."""
    import json
    import time

    import httpx

    from tests.conftest import free_port

    _garbage_file(own_desk)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(
        PARLEY_DATA_DIR=str(own_desk.data_dir),
        PARLEY_LLM_PROVIDER="offline",
        PARLEY_CUSTOMER_TOKEN_SECRET="a-strong-test-secret-of-more-than-32-bytes",
        PARLEY_AGENT_KEYS=json.dumps({"sam": "a-strong-agent-key-of-more-than-32-bytes"}),
        PARLEY_EMBEDDING_CACHE_DIR=os.environ.get("PARLEY_EMBEDDING_CACHE_DIR", ""),
        PYTHONPATH=str(REPO_ROOT),
        HF_HUB_OFFLINE="1",
    )
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        for _ in range(360):  # up to about 3 minutes on a loaded machine
            try:
                if httpx.get(base + "/readyz", timeout=2).json()["checks"].get("warm_up") == "ok":
                    break
            except (httpx.HTTPError, ValueError):
                pass
            assert process.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(0.5)
        health = httpx.get(base + "/healthz", timeout=10)
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        assert "Traceback" not in health.text
        started = httpx.post(base + "/v1/conversations", json={}, timeout=10).json()
        sent = httpx.post(
            f"{base}/v1/conversations/{started['conversation_id']}/messages",
            json={"text": "how long does shipping take?"},
            headers={"X-Conversation-Secret": started["secret"], "Accept": "application/json"},
            timeout=60,
        )
        assert sent.status_code == 200 and sent.json()["reply"] and sent.json()["handover"], sent.text
        assert process.poll() is None  # still serving
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
