"""The agent console against a REAL Parley API: `parley serve` on a free port, on a tmp data dir with the
sample shop and help centre, conversations seeded through the customer API. Every effect is checked
through the API.

One API server for the module (building it embeds the help centre, which takes tens of seconds); each test
seeds its own conversations so the tests do not depend on each other's order.
"""

from __future__ import annotations

import json
import os
import shutil
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

from tests.conftest import REPO_ROOT, free_port, require_or_skip
from ui import console_views as views
from ui.console_client import (
    AgentApiClient,
    ApiUnavailable,
    AuthError,
    NotFound,
    OwnershipConflict,
)

pytestmark = pytest.mark.slow

CONSOLE_APP = REPO_ROOT / "ui" / "console.py"
SAMPLE = REPO_ROOT / "knowledge" / "sample_data"
AGENT_KEYS = {"demo-agent": "demo-agent-key", "other-agent": "other-agent-key"}
TOKEN_SECRET = "console-tests-secret-0123456789abcdef"
DEMO_USER = "emma_laurent_1001"  # the generator's demo customer: orders #W1000001 (pending) .. #W1000003
SCREENSHOT = REPO_ROOT / "artifacts" / "screenshots" / "console.png"


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
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
    )
    return env


@pytest.fixture(scope="module")
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
    """A fresh console session (AppTest runs the script in this process, reading these variables)."""

    def start(agent_key: str = AGENT_KEYS["demo-agent"]) -> AppTest:
        monkeypatch.setenv("PARLEY_API_URL", live_api.url)
        monkeypatch.setenv("PARLEY_AGENT_KEY", agent_key)
        monkeypatch.setenv("PARLEY_AGENT_KEYS", json.dumps(AGENT_KEYS))
        at = AppTest.from_file(str(CONSOLE_APP), default_timeout=120)
        at.run()
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


# --- queue ---------------------------------------------------------------------------------------
def test_queue_lists_waiting_conversations_most_urgent_first(
    live_api: LiveApi, console: Callable[..., AppTest]
) -> None:
    polite = seed_conversation(live_api, ["I want to talk to a person"])
    angry = seed_conversation(
        live_api, ["This is a disgrace, I will post about you on Twitter and tell everyone to avoid you!"]
    )
    at = console()
    order = [b.key.removeprefix("open-") for b in at.button if b.key and b.key.startswith("open-")]
    api_queue = [item.conversation.id for item in live_api.agent().queue()]
    assert set(order) == set(api_queue)
    assert order.index(angry) < order.index(polite)
    cards = " ".join(texts(at.markdown))
    assert "Asked for a person" in cards
    assert "Threatens to complain publicly" in cards or "Very negative message" in cards
    assert ":material/schedule:" in cards
    assert "widget" in cards


# --- ownership -------------------------------------------------------------------------------------
def test_claim_send_and_hand_back(live_api: LiveApi, console: Callable[..., AppTest]) -> None:
    cid = seed_conversation(live_api, ["I want to talk to a person"])
    at = open_conversation(console(), cid)
    reply = at.text_area(key=f"reply-{cid}")
    assert reply.disabled and button(at, "send").disabled and not button(at, "claim").disabled

    button(at, "claim").click().run()
    claimed = live_api.agent().conversation(cid).conversation
    assert (claimed.status, claimed.assigned_agent) == ("human", "demo-agent")
    assert "You own this conversation" in " ".join(texts(at.success))
    assert not at.text_area(key=f"reply-{cid}").disabled and button(at, "claim").disabled

    at.text_area(key=f"reply-{cid}").input("Hello, this is Sam from the team. How can I help?")
    button(at, "send").click().run()
    messages = live_api.agent().conversation(cid).messages
    assert (messages[-1].role, messages[-1].author) == ("agent", "demo-agent")
    assert messages[-1].text == "Hello, this is Sam from the team. How can I help?"
    assert at.text_area(key=f"reply-{cid}").value == ""  # cleared after sending

    button(at, "handback").click().run()
    back = live_api.agent().conversation(cid)
    assert (back.conversation.status, back.conversation.assigned_agent) == ("bot", None)
    assert back.messages[-1].role == "system" and "handed the conversation back" in back.messages[-1].text
    assert at.text_area(key=f"reply-{cid}").disabled


def test_conversation_owned_by_another_agent_is_read_only(
    live_api: LiveApi, console: Callable[..., AppTest]
) -> None:
    cid = seed_conversation(live_api, ["I want to talk to a person"])
    at = open_conversation(console(), cid)
    assert not button(at, "claim").disabled
    live_api.agent("other-agent").claim(cid)  # another agent is faster

    button(at, "claim").click().run()  # the API answers 409
    warnings = " ".join(texts(at.warning))
    assert "someone else has this conversation" in warnings and "other-agent" in warnings
    assert "Owned by other-agent" in warnings
    assert at.text_area(key=f"reply-{cid}").disabled
    assert button(at, "send").disabled and button(at, "claim").disabled and button(at, "handback").disabled
    assert live_api.agent().conversation(cid).conversation.assigned_agent == "other-agent"


# --- suggestions -------------------------------------------------------------------------------------
def test_suggestions_accept_edit_reject_are_recorded(
    live_api: LiveApi, console: Callable[..., AppTest]
) -> None:
    cid = seed_conversation(
        live_api,
        ["I want to talk to a person", "Please cancel order #W1000001, I no longer need it"],
        user_id=DEMO_USER,
    )
    at = open_conversation(console(), cid)
    button(at, "claim").click().run()
    button(at, "suggest").click().run()
    assert not at.exception, at.exception
    drafts = live_api.agent().suggestions(cid)
    assert 1 <= len(drafts) <= 3
    by_id = {s.id: s for s in drafts}

    # The cancel draft proposes a WRITE: nothing can be sent until the agent ticks the confirmation.
    write = next(s for s in drafts if s.proposed_actions)
    assert write.proposed_actions[0].name == "cancel_pending_order"
    assert button(at, f"accept-{write.id}").disabled and button(at, f"edit-{write.id}").disabled
    confirm = at.checkbox(key=f"confirm-{write.id}-0")
    assert "#W1000001" in confirm.label
    confirm.check().run()
    assert not button(at, f"accept-{write.id}").disabled
    button(at, f"accept-{write.id}").click().run()
    recorded = {s.id: s for s in live_api.agent().suggestions(cid)}[write.id]
    assert recorded.choice == "accepted" and recorded.final_text == write.draft_text
    detail = live_api.agent().conversation(cid)
    assert detail.messages[-1].role == "agent" and detail.messages[-1].text == write.draft_text
    # The console only sent the question: the order is untouched until the customer says yes to the bot.
    assert next(o for o in detail.orders if o["order_id"] == "#W1000001")["status"] == "pending"

    others = [s for s in drafts if s.id != write.id]
    assert others, "expected a knowledge or orders draft besides the cancel draft"
    edited = others[0]
    button(at, f"edit-{edited.id}").click().run()
    at.text_area(key=f"edit-text-{edited.id}").input("You can cancel it here, and I have noted your reason.")
    button(at, f"send-edited-{edited.id}").click().run()
    recorded = {s.id: s for s in live_api.agent().suggestions(cid)}[edited.id]
    assert recorded.choice == "edited"
    assert recorded.final_text == "You can cancel it here, and I have noted your reason."
    assert live_api.agent().conversation(cid).messages[-1].text == recorded.final_text

    button(at, "suggest").click().run()  # a fresh batch; reject one of it
    fresh = [s for s in live_api.agent().suggestions(cid) if s.id not in by_id]
    assert fresh
    sent_before = len(live_api.agent().conversation(cid).messages)
    button(at, f"reject-{fresh[0].id}").click().run()
    recorded = {s.id: s for s in live_api.agent().suggestions(cid)}[fresh[0].id]
    assert recorded.choice == "rejected" and recorded.final_text is None
    assert len(live_api.agent().conversation(cid).messages) == sent_before  # nothing sent
    assert "Draft rejected: done." in " ".join(texts(at.success))


# --- conversation view --------------------------------------------------------------------------------
def test_transcript_tool_calls_citations_and_customer(
    live_api: LiveApi, console: Callable[..., AppTest]
) -> None:
    cid = seed_conversation(
        live_api, ["How do I return an item?", "I want to talk to a person"], user_id=DEMO_USER
    )
    at = open_conversation(console(), cid)
    labels = [e.label for e in at.expander]
    assert any("search_help_center" in label for label in labels), labels
    markdown = " ".join(texts(at.markdown))
    assert "Sources:" in markdown
    assert "(https://help.mapleandmoss.example/articles/how-to-return)" in markdown
    assert "**Customer**" in markdown and "**Bot**" in markdown
    assert "agent_transfer" not in markdown  # triggers are shown in words
    assert "**Name:** Emma Laurent" in markdown
    orders = at.dataframe[0].value
    assert set(orders["order"]) == {"#W1000001", "#W1000002", "#W1000003"}
    codes = " ".join(str(c.value) for c in at.code)
    assert '"query": "How do I return an item?"' in codes  # the tool call's arguments


def test_insights_page_shows_the_api_numbers(live_api: LiveApi, console: Callable[..., AppTest]) -> None:
    seed_conversation(live_api, ["I want to talk to a person"])
    at = console()
    at.radio(key="page").set_value("Insights").run()
    assert not at.exception, at.exception
    numbers = live_api.agent().insights()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Takeover rate"] == views.percent(numbers.takeover_rate)
    assert metrics["Resolution rate"] == views.percent(numbers.resolution_rate)
    assert metrics["Suggestion acceptance"] == views.percent(numbers.suggestion_acceptance_rate)
    assert metrics["Median first response"] == views.format_wait(numbers.median_first_response_s)
    assert int(metrics["Conversations"]) == numbers.conversations
    charts = [e for e in at.main if "chart" in type(e).__name__.lower() or "vega" in str(e.type)]
    assert len(charts) >= 2  # takeover reasons and sentiment over time (suggestions when there are any)


def test_wrong_agent_key_shows_a_clear_error(console: Callable[..., AppTest]) -> None:
    at = console(agent_key="not-a-real-key")
    errors = " ".join(texts(at.error))
    assert "rejected the agent key" in errors


# --- the client on its own -----------------------------------------------------------------------------
def test_client_maps_api_errors(live_api: LiveApi) -> None:
    cid = seed_conversation(live_api, ["I want to talk to a person"])
    with pytest.raises(AuthError, match="401"):
        AgentApiClient(live_api.url, "wrong-key").queue()
    with pytest.raises(NotFound):
        live_api.agent().conversation("no-such-conversation")
    with pytest.raises(OwnershipConflict, match="claim the conversation first"):
        live_api.agent().send_message(cid, "hello")  # not claimed yet
    live_api.agent("other-agent").claim(cid)
    with pytest.raises(OwnershipConflict, match="other-agent"):
        live_api.agent().claim(cid)
    with pytest.raises(ValueError, match="empty"):
        live_api.agent().send_message(cid, "   ")
    with pytest.raises(ValueError, match="edited text|empty"):
        live_api.agent().decide_suggestion(cid, 1, "edited", "")
    with pytest.raises(ApiUnavailable):
        AgentApiClient(f"http://127.0.0.1:{free_port()}", "k", timeout=2).queue()


# --- a real browser ------------------------------------------------------------------------------------
@pytest.mark.browser
def test_screenshot_of_the_running_console(live_api: LiveApi) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    require_or_skip(Path(chromium).exists(), "chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    cid = seed_conversation(
        live_api,
        [
            "How do I return an item?",
            "I want to talk to a person",
            "Please cancel order #W1000001, I no longer need it",
        ],
        user_id=DEMO_USER,
    )
    live_api.agent().generate_suggestions(cid)  # the sidebar then shows drafts with their sources
    port = free_port()
    env = {
        **live_api.env,
        "PARLEY_API_URL": live_api.url,
        "PARLEY_AGENT_KEY": AGENT_KEYS["demo-agent"],
        "PARLEY_CONSOLE_REFRESH_S": "30",
    }
    log = (live_api.root / "streamlit.log").open("w")
    app = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(CONSOLE_APP),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--client.toolbarMode",
            "minimal",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert app.poll() is None, (live_api.root / "streamlit.log").read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "streamlit did not become healthy in 120 s"
            time.sleep(0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1680, "height": 1050})
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.get_by_text("Waiting for a human (").wait_for(timeout=60_000)
            # Streamlit puts each widget's key in a CSS class: open exactly the seeded conversation.
            page.locator(f".st-key-open-{cid} button").click()
            page.get_by_text("You own this conversation").or_(page.get_by_text("claim it to reply")).wait_for(
                timeout=60_000
            )
            page.get_by_text("Draft 1").wait_for(timeout=60_000)
            page.get_by_text("How do I return an item?").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1500)  # let charts and fonts settle
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            browser.close()
    finally:
        app.terminate()
        try:
            app.wait(timeout=15)
        except subprocess.TimeoutExpired:
            app.kill()
        log.close()
    assert SCREENSHOT.stat().st_size > 20_000
