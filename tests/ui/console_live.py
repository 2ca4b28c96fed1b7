"""Shared by the console tests: one REAL Parley API: `parley serve` on a free port, on a tmp data dir with the
sample shop and help centre, conversations seeded through the customer API. Every effect is checked
through the API.

One API server for the module (building it embeds the help centre, which takes tens of seconds); each test
seeds its own conversations so the tests do not depend on each other's order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT, free_port
from ui.console_client import AgentApiClient

CONSOLE_APP = REPO_ROOT / "ui" / "console.py"
SAMPLE = REPO_ROOT / "knowledge" / "sample_data"
# 32+ bytes: `parley serve` refuses shipped or short keys (assistant/identity/policy.py).
AGENT_KEYS = {
    "demo-agent": "demo-agent-key-for-console-tests-0123456789",
    "other-agent": "other-agent-key-for-console-tests-0123456789",
}
TOKEN_SECRET = "console-tests-secret-0123456789abcdef"
DEMO_USER = "emma_laurent_1001"  # the generator's demo customer: orders #W1000001 (pending) .. #W1000003
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"


@dataclass
class LiveApi:
    url: str
    env: dict[str, str]
    root: Path

    def agent(self, name: str = "demo-agent") -> AgentApiClient:
        return AgentApiClient(self.url, AGENT_KEYS[name])


def _parley(*args: str) -> list[str]:
    return [sys.executable, "-m", "assistant.cli", *args]


def _clean_env(data_dir: Path) -> dict[str, str]:
    # Nothing from the developer's own PARLEY_* settings may point the server at another database or index.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(
        PARLEY_DATA_DIR=str(data_dir),
        PARLEY_AGENT_KEYS=json.dumps(AGENT_KEYS),
        PARLEY_CUSTOMER_TOKEN_SECRET=TOKEN_SECRET,
        # Every AppTest rerun makes a few API calls from 127.0.0.1; the per-IP limit is for the internet.
        PARLEY_RATE_LIMIT_PER_IP="100000",
        # Every seeded customer comes from 127.0.0.1 here: no per-IP fair share (tests/api covers it).
        PARLEY_DESK_ORIGIN_PENALTY="0",
        PARLEY_DESK_MAX_WAITING_PER_IP="100000",
        # Urgent conversations breach their first-response target after 2 s: the console must show it.
        PARLEY_DESK_SLA=json.dumps(
            {
                "urgent": {"first_response_s": 2, "resolution_s": 3600},
                "high": {"first_response_s": 300, "resolution_s": 7200},
                "normal": {"first_response_s": 600, "resolution_s": 7200},
                "low": {"first_response_s": 1800, "resolution_s": 7200},
            }
        ),
        PARLEY_DESK_SWEEP_INTERVAL_S="1",
        # The seeded conversations sign in by email, as the rest of the suite (tests/conftest.py).
        PARLEY_IDENTITY_POLICY=os.environ.get("PARLEY_IDENTITY_POLICY", "tau2_benchmark"),
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


@pytest.fixture(scope="session")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    root = tmp_path_factory.mktemp("console-api")
    env = _clean_env(root / "data")
    for command in (
        _parley("generate-shop", "--load", "--users", "40", "--orders", "80"),
        _parley("ingest", str(SAMPLE / "help_center"), str(SAMPLE / "faq.csv")),
    ):
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{command[3]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    port = free_port()
    log = (root / "serve.log").open("w")
    server = subprocess.Popen(
        _parley("serve", "--port", str(port), "--log-level", "warning"),
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert server.poll() is None, f"parley serve exited:\n{(root / 'serve.log').read_text()[-3000:]}"
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "parley serve did not become healthy in 240 s"
            time.sleep(0.5)
        yield LiveApi(url, env, root)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def seed_conversation(api: LiveApi, messages: list[str], user_id: str | None = None) -> str:
    """A conversation through the customer API (a signed token binds it to `user_id`), waiting for a human."""
    from assistant.identity.tokens import issue_customer_token

    body: dict[str, Any] = {}
    if user_id:
        body["customer_token"] = issue_customer_token(user_id, TOKEN_SECRET)
    with httpx.Client(base_url=api.url, timeout=120) as http:
        started = http.post("/v1/conversations", json=body)
        assert started.status_code == 201, started.text
        cid, secret = started.json()["conversation_id"], started.json()["secret"]
        for text in messages:
            turn = http.post(
                f"/v1/conversations/{cid}/messages",
                json={"text": text},
                headers={"X-Conversation-Secret": secret, "Accept": "application/json"},
            )
            assert turn.status_code == 200, turn.text
    assert api.agent().conversation(cid).conversation.status == "waiting_for_human"
    return cid


@pytest.fixture
def console(live_api: LiveApi, monkeypatch: pytest.MonkeyPatch) -> Callable[..., AppTest]:
    """A fresh console session, signed in through its form (AppTest runs the script in this process)."""

    def start(agent_key: str = AGENT_KEYS["demo-agent"], sign_in: bool = True) -> AppTest:
        monkeypatch.setenv("PARLEY_API_URL", live_api.url)
        monkeypatch.delenv("PARLEY_AGENT_KEY", raising=False)  # the console never reads a key from anywhere
        at = AppTest.from_file(str(CONSOLE_APP), default_timeout=120)
        at.run()
        assert not at.exception, at.exception
        if sign_in:
            at.text_input(key="sign-in-key").input(agent_key)
            at.button(key="sign-in").click().run()
            assert not at.exception, at.exception
        return at

    return start


def open_conversation(at: AppTest, cid: str) -> AppTest:
    keys = [b.key for b in at.button]
    assert f"open-{cid}" in keys, f"not in the queue: {keys}; errors: {texts(at.error)}"
    at.button(key=f"open-{cid}").click().run()
    assert not at.exception, at.exception
    assert at.session_state["conversation_id"] == cid
    return at


def button(at: AppTest, key: str) -> Any:
    return at.button(key=key)


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]
