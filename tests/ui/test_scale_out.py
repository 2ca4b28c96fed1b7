"""Scale-out (issue 11): two `parley serve` workers (uvicorn subprocesses on two ports) sharing one PostgreSQL
database (conversations, shop, LangGraph checkpoints) and one Chroma server (`chroma run`). One
conversation's turns alternate between the workers; the handover, the agent's claim and reply and the
customer's answer to the agent cross them too. Nothing lives in a worker's memory that the other needs.

Skips with the reason when PostgreSQL or the `chroma` command is missing, unless PARLEY_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.identity.tokens import issue_customer_token
from tests.api.prepared import FAQ, HELP_CENTER, parley_env
from tests.conftest import REPO_ROOT, free_port, require_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TOKEN_SECRET = "scale-out-token-secret-0123456789abcdef"
AGENT_KEY = "scale-out-agent-key-0123456789abcdef0123"
AGENT = {"Authorization": f"Bearer {AGENT_KEY}"}
DEMO_USER = "emma_laurent_1001"


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{url} did not come up:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    command = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    require_or_skip(Path(command).exists(), "the `chroma` command (chromadb's server) is not installed")
    root = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = root / "chroma.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [command, "run", "--path", str(root / "db"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, log, 60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture(scope="module")
def workers(
    tmp_path_factory: pytest.TempPathFactory, chroma_server: str, module_postgres_url: str
) -> Iterator[list[str]]:
    root = tmp_path_factory.mktemp("scale-out")
    env = parley_env(
        root / "data",
        PARLEY_DATABASE_URL=module_postgres_url,
        PARLEY_CHECKPOINT_URL=module_postgres_url,
        PARLEY_CHROMA_URL=chroma_server,
        PARLEY_CUSTOMER_TOKEN_SECRET=TOKEN_SECRET,
        PARLEY_AGENT_KEYS=json.dumps({"sam": AGENT_KEY}),
        PARLEY_RATE_LIMIT_PER_IP="100000",
        PARLEY_DESK_SWEEP_INTERVAL_S="1",
    )
    cli = [sys.executable, "-m", "assistant.cli"]
    for args in (
        ["generate-shop", "--load", "--no-index"],
        ["ingest", str(HELP_CENTER), str(FAQ), "--no-progress"],
    ):
        done = subprocess.run(
            [*cli, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"parley {' '.join(args)}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    processes, urls = [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = root / f"worker-{name}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
                    env=env,
                    cwd=REPO_ROOT,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            processes.append(process)
            wait_for(f"http://127.0.0.1:{port}/readyz", process, log)
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for process in processes:
            stop(process)


@pytest.fixture(scope="module")
def module_postgres_url() -> Iterator[str]:
    """A fresh database for this module (the shared `postgres_url` fixture is per test)."""
    from tests.conftest import POSTGRES_URL, port_open

    require_or_skip(port_open("127.0.0.1", 5432), "PostgreSQL is not running on 127.0.0.1:5432")
    import uuid

    import sqlalchemy as sa

    from assistant.db import normalise_url

    name = f"parley_scale_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def customer_turn(url: str, cid: str, secret: str, text: str) -> dict[str, Any]:
    response = httpx.post(
        f"{url}/v1/conversations/{cid}/messages",
        json={"text": text},
        headers={"X-Conversation-Secret": secret, "Accept": "application/json"},
        timeout=120,
    )
    assert response.status_code == 200, f"{url}: {response.text}"
    result: dict[str, Any] = response.json()
    return result


def transcript(url: str, cid: str, secret: str) -> dict[str, Any]:
    response = httpx.get(
        f"{url}/v1/conversations/{cid}", headers={"X-Conversation-Secret": secret}, timeout=30
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_conversation_alternates_between_two_workers(workers: list[str]) -> None:
    a, b = workers
    token = issue_customer_token(DEMO_USER, TOKEN_SECRET)
    started = httpx.post(f"{a}/v1/conversations", json={"customer_token": token}, timeout=60)
    assert started.status_code == 201, started.text
    cid, secret = started.json()["conversation_id"], started.json()["secret"]
    assert started.json()["authenticated"] is True

    first = customer_turn(
        b, cid, secret, "How do I return an item?"
    )  # worker b answers from the Chroma server
    assert first["reply"] and first["citations"] and first["status"] == "bot"
    second = customer_turn(a, cid, secret, "And how long does shipping take?")
    assert second["reply"] and second["customer_seq"] > first["customer_seq"]
    third = customer_turn(b, cid, secret, "I want to talk to a person")
    assert third["handover"] and third["status"] == "waiting_for_human"

    # the agent works on worker a: the queue written by b is there; claim on a, reply on b
    queue = httpx.get(f"{a}/v1/agent/queue", headers=AGENT, timeout=30).json()
    assert cid in [entry["conversation"]["id"] for entry in queue]
    claimed = httpx.post(f"{a}/v1/agent/conversations/{cid}/claim", headers=AGENT, timeout=30)
    assert claimed.status_code == 200, claimed.text
    sent = httpx.post(
        f"{b}/v1/agent/conversations/{cid}/messages",
        headers=AGENT,
        json={"text": "Hello, Sam here: I can help with your return."},
        timeout=30,
    )
    assert sent.status_code == 201, sent.text

    # the customer, on worker a, sees the agent's message; their answer on b goes to the human, not the bot
    seen = transcript(a, cid, secret)
    assert seen["status"] == "human"
    assert seen["messages"][-1]["role"] == "agent" and "Sam here" in seen["messages"][-1]["text"]
    answer = customer_turn(b, cid, secret, "Thanks, it is order #W1000001")
    assert answer["reply"] is None and answer["status"] == "human"

    # both workers tell the same story, in order
    left, right = transcript(a, cid, secret), transcript(b, cid, secret)
    assert left == right
    roles = [m["role"] for m in left["messages"]]
    assert roles == ["customer", "bot", "customer", "bot", "customer", "bot", "agent", "customer"], roles
    detail = httpx.get(f"{b}/v1/agent/conversations/{cid}", headers=AGENT, timeout=30).json()
    assert detail["conversation"]["assigned_agent"] == "sam"
