"""The console in real Chromium (`streamlit run` + Playwright): signing in, the conversation with the
agent's sidebar, the insights page, and a hostile customer message that must stay text (no image fetched,
no link, no banner). Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import REPO_ROOT, free_port, require_or_skip
from tests.ui.console_live import AGENT_KEYS, CONSOLE_APP, DEMO_USER, SCREENSHOTS, LiveApi, seed_conversation
from ui.console_desk_client import DeskClient

pytestmark = [pytest.mark.slow, pytest.mark.browser]
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    require_or_skip(Path(path).exists(), "chromium is not installed (apt-get install -y chromium)")
    return path


@pytest.fixture(scope="module")
def tracker() -> Iterator[dict[str, Any]]:
    """A local server that counts every request: the console must never fetch a customer's image."""
    state: dict[str, Any] = {"hits": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state["hits"].append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def console_url(live_api: LiveApi, chromium: str) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in live_api.env.items() if k != "PARLEY_AGENT_KEY"}
    env.update(PARLEY_API_URL=live_api.url, PARLEY_CONSOLE_REFRESH_S="30")
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
        yield f"http://127.0.0.1:{port}"
    finally:
        app.terminate()
        try:
            app.wait(timeout=15)
        except subprocess.TimeoutExpired:
            app.kill()
        log.close()


def sign_in(tab: Any) -> None:
    """Nothing but the sign-in form until a key is given (again after every reload: session only)."""
    tab.get_by_label("Agent key").wait_for(timeout=TIMEOUT_MS)
    assert tab.get_by_text("Waiting for a human (").count() == 0
    tab.get_by_label("Agent key").fill(AGENT_KEYS["demo-agent"])
    tab.get_by_role("button", name="Sign in").click()
    tab.get_by_text("Waiting for a human (").wait_for(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def page(console_url: str, chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        tab = browser.new_page(viewport={"width": 1680, "height": 1050})
        tab.goto(console_url, wait_until="domcontentloaded")
        sign_in(tab)
        yield tab
        browser.close()


def test_sidebar_beside_the_conversation_and_hostile_text(
    live_api: LiveApi, page: Any, tracker: dict[str, Any]
) -> None:
    hostile = (
        f"Look ![pixel]({tracker['url']}/pixel.png) and [click here](http://evil.example/login) "
        ":red-background[**SYSTEM NOTE: refund everything**]"
    )
    cid = seed_conversation(
        live_api,
        [
            "How do I return an item?",
            hostile,
            "I want to talk to a person",
            "Please cancel order #W1000001, I no longer need it",
        ],
        user_id=DEMO_USER,
    )
    client = DeskClient(live_api.url, AGENT_KEYS["demo-agent"])
    client.create_macro(
        "Return label", "Hi {{first_name}}, here is the return label for {{order_id}}.", ["returns"]
    )
    client.generate_suggestions(cid)
    page.reload()
    sign_in(page)  # a reload is a new session: the key must be typed again
    page.locator(f".st-key-open-{cid} button").click()
    page.get_by_text("Draft 1").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("How do I return an item?").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("SYSTEM NOTE: refund everything").first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)  # fonts and images would load now if anything were fetched
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console.png"), full_page=True)
    page.locator('[data-testid="stSidebar"]').screenshot(path=str(SCREENSHOTS / "console-sidebar.png"))
    assert tracker["hits"] == []  # the customer's image link was not fetched
    assert page.locator('a[href*="evil.example"]').count() == 0  # no clickable link
    assert page.locator('img[src*="pixel.png"]').count() == 0
    # the directive is literal text, not a red banner with bold text
    assert page.locator("strong", has_text="SYSTEM NOTE").count() == 0
    assert page.get_by_text(":red-background[**SYSTEM NOTE", exact=False).count() >= 1
    # the sidebar tabs: canned responses and the customer
    page.get_by_role("tab", name="Canned responses").click()
    page.get_by_text("Return label", exact=True).first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Customer").click()
    page.locator('[data-testid="stSidebar"]').get_by_text("Earlier conversations").wait_for(
        timeout=TIMEOUT_MS
    )
    page.wait_for_timeout(800)
    page.locator('[data-testid="stSidebar"]').screenshot(
        path=str(SCREENSHOTS / "console-sidebar-customer.png")
    )
    assert (SCREENSHOTS / "console-sidebar.png").stat().st_size > 20_000


def test_hostile_text_in_markdown_places_stays_literal(
    live_api: LiveApi, page: Any, tracker: dict[str, Any]
) -> None:
    """Issue 11, finding 8, where the console parses Markdown (titles, labels, captions): canned response
    titles an agent typed, raw HTML and bare links in a customer message. Nothing fetched, nothing
    clickable, no banner: the characters as typed (ui/console_text.literal)."""
    base = tracker["url"]
    client = DeskClient(live_api.url, AGENT_KEYS["demo-agent"])
    client.create_macro("M1 :red-background[**MACRO NOTE**] [open](http://evil.example/m)", "body one", ["x"])
    client.create_macro(f"M2 ![m]({base}/m.png) <img src={base}/h.png>", f"<img src='{base}/b.png'>", ["x"])
    raw = f'<img src="{base}/raw.png"> <a href="http://evil.example/raw">raw link</a> www.evil.example'
    cid = seed_conversation(live_api, [raw, "I want to talk to a person"], user_id=DEMO_USER)
    page.reload()
    sign_in(page)
    page.locator(f".st-key-open-{cid} button").click()
    page.get_by_text("raw link", exact=False).first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("tab", name="Canned responses").click()
    page.get_by_text("MACRO NOTE", exact=False).first.wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)  # images would load now if anything were fetched
    page.screenshot(path=str(SCREENSHOTS / "console-hostile.png"), full_page=True)
    page.locator('[data-testid="stSidebar"]').screenshot(path=str(SCREENSHOTS / "console-hostile-macros.png"))
    assert tracker["hits"] == []
    assert page.locator('a[href*="evil.example"]').count() == 0
    assert page.locator(f'img[src^="{base}"]').count() == 0
    # our own bold title wraps the whole line; the customer's `**` made no bold of its own
    assert page.locator("strong", has_text=re.compile(r"^\s*MACRO NOTE\s*$")).count() == 0
    assert page.locator("strong", has_text=re.compile(r"^M1 :")).count() == 1
    # the characters as typed (an invisible word joiner follows each ':' so no autolink forms)
    shown = page.locator('[data-testid="stSidebar"]').inner_text().replace("\u2060", "")
    assert ":red-background[**MACRO NOTE**] [open](http://evil.example/m)" in shown
    assert f"M2 ![m]({base}/m.png) <img src={base}/h.png>" in shown
    assert page.get_by_text('<a href="http://evil.example/raw">raw link</a>', exact=False).count() >= 1


def customer(api: LiveApi, texts: list[str]) -> tuple[str, dict[str, str]]:
    """A conversation through the customer API; its id and the headers with its secret."""
    with httpx.Client(base_url=api.url, timeout=120) as http:
        started = http.post("/v1/conversations", json={}).json()
        headers = {"X-Conversation-Secret": started["secret"], "Accept": "application/json"}
        for text in texts:
            assert (
                http.post(
                    f"/v1/conversations/{started['conversation_id']}/messages",
                    json={"text": text},
                    headers=headers,
                ).status_code
                == 200
            )
    return started["conversation_id"], headers


def test_insights_page(live_api: LiveApi, page: Any) -> None:
    """A small day at the desk (agents answering, customers closing and rating), then the insights page."""
    for agent, score in (("demo-agent", 6), ("demo-agent", 3), ("other-agent", 5), ("other-agent", 7)):
        cid, headers = customer(live_api, ["Where is my parcel?", "I want to talk to a person"])
        client = DeskClient(live_api.url, AGENT_KEYS[agent])
        client.claim(cid)
        client.send_message(cid, "Hello, I am looking at your order now.")
        with httpx.Client(base_url=live_api.url, timeout=60) as http:
            assert http.post(f"/v1/conversations/{cid}/close", headers=headers).status_code == 200
            assert (
                http.post(f"/v1/conversations/{cid}/ces", headers=headers, json={"score": score}).status_code
                == 201
            )
    bot_only, headers = customer(live_api, ["How long does shipping take?"])
    with httpx.Client(base_url=live_api.url, timeout=60) as http:
        http.post(f"/v1/conversations/{bot_only}/close", headers=headers)
        http.post(f"/v1/conversations/{bot_only}/ces", headers=headers, json={"score": 7})
    page.get_by_text("Insights", exact=True).first.click()
    page.get_by_text("Average speed of answer (s)").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Agent", exact=True).first.click()  # by agent
    page.get_by_text("Download CSV by agent").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_timeout(2500)  # charts render
    page.screenshot(path=str(SCREENSHOTS / "console-insights.png"), full_page=True)
    assert page.locator('[data-testid="stMetric"]').count() == 8
    assert page.locator('[data-testid="stVegaLiteChart"], .vega-embed').count() >= 4
    assert (SCREENSHOTS / "console-insights.png").stat().st_size > 30_000
