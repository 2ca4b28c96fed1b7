"""The widget in headless Chromium against a real `parley serve`: cited streaming answer, order flow,
takeover notice, and a human agent's message appearing live. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.shop.generator import DEMO_PENDING_ORDER_ID, DEMO_USER_EMAIL
from tests.api.helpers import TOKEN_SECRET
from tests.api.prepared import parley_env, prepare_data_dir
from tests.conftest import REPO_ROOT, free_port, require_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
AGENT_KEY = "browser-test-agent-key-0123456789abcdef"  # 32+ bytes: parley serve refuses shorter
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_or_skip(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install -y chromium)")
    data_dir = prepare_data_dir(tmp_path_factory.mktemp("parley-browser"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = parley_env(
        data_dir,
        PARLEY_AGENT_KEYS=json.dumps({"sam": AGENT_KEY}),
        PARLEY_CORS_ORIGINS=json.dumps([base]),
        PARLEY_CUSTOMER_TOKEN_SECRET=TOKEN_SECRET,
    )
    log = (tmp_path_factory.mktemp("serve") / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"parley serve did not become healthy; see {log.name}")
            time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_or_skip(CHROMIUM.exists(), f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def send(page: Any, text: str) -> None:
    from playwright.sync_api import expect

    # like a person: wait until the previous answer is complete (the Send button is disabled until then)
    expect(page.locator(".parley-send")).to_be_enabled(timeout=TIMEOUT_MS)
    box = page.get_by_label("Your message")
    box.fill(text)
    box.press("Enter")


def write(page: Any, text: str) -> None:
    """Send `text` in whatever language the widget speaks, and wait for the bot's whole answer."""
    from playwright.sync_api import expect

    bot = page.locator(".parley-msg-bot")
    expect(page.locator(".parley-send")).to_be_enabled(timeout=TIMEOUT_MS)
    answers = bot.count()
    box = page.locator("#parley-input")
    box.fill(text)
    box.press("Enter")
    expect(bot).to_have_count(answers + 1, timeout=TIMEOUT_MS)
    expect(page.locator(".parley-send")).to_be_enabled(timeout=TIMEOUT_MS)


def test_widget_end_to_end(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + "/demo")
    launcher = page.get_by_role("button", name="Open chat: Maple & Moss help")
    launcher.click()
    expect(page.get_by_role("dialog", name="Maple & Moss help")).to_be_visible()
    expect(page.get_by_label("Your message")).to_be_focused()

    # 1. help-centre question: tokens stream into one bubble, then the sources appear as links
    send(page, "How do I return an item?")
    source = page.locator("a.parley-source").first
    expect(source).to_be_visible(timeout=TIMEOUT_MS)
    assert source.get_attribute("href", timeout=TIMEOUT_MS).startswith("https://help.mapleandmoss.example/")
    expect(page.locator(".parley-msg-bot").last).to_contain_text("[1]")
    shot(page, "01-cited-answer")

    # 2. order status: identify by email, then ask
    send(page, f"my email is {DEMO_USER_EMAIL}")
    expect(page.locator(".parley-msg-bot").last).to_contain_text("account", timeout=TIMEOUT_MS)
    send(page, "where is my order?")
    expect(page.locator(".parley-msg-bot").last).to_contain_text(DEMO_PENDING_ORDER_ID, timeout=TIMEOUT_MS)
    shot(page, "02-order-status")

    # 3. confirmation prompt with quick replies; "No" keeps the order
    send(page, f"please cancel order {DEMO_PENDING_ORDER_ID}")
    expect(page.locator(".parley-msg-bot").last).to_contain_text("cancel", timeout=TIMEOUT_MS)
    send(page, "I ordered it by mistake")
    no_button = page.get_by_role("button", name="No, don't")
    expect(no_button).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.get_by_role("button", name="Yes, go ahead")).to_be_focused()
    shot(page, "03-confirmation")
    no_button.click()
    expect(no_button).to_be_hidden(timeout=TIMEOUT_MS)
    # The button carries the pending change's id (awaiting_confirmation.action_id): a clear no for it.
    expect(page.locator(".parley-msg-bot").last).to_contain_text(
        "haven't changed anything", timeout=TIMEOUT_MS
    )

    # 4. takeover
    send(page, "I want to talk to a human")
    notice = page.locator(".parley-notice")
    expect(notice).to_contain_text("member of our team", timeout=TIMEOUT_MS)
    expect(notice).to_contain_text("number 1 in line", timeout=TIMEOUT_MS)  # from /queue, kept up to date
    expect(page.get_by_role("button", name="Talk to a person")).to_be_hidden()
    shot(page, "04-handover")

    # 5. a human agent answers through the API; the message appears live, as text (no HTML)
    stored = json.loads(page.evaluate("sessionStorage.getItem('parley:' + location.origin)"))
    agent = {"Authorization": f"Bearer {AGENT_KEY}"}
    url = f"{server}/v1/agent/conversations/{stored['id']}"
    assert httpx.post(url + "/claim", headers=agent).status_code == 200
    hostile = "Hi, Sam here <img src=x onerror=alert(1)> - I'm looking at your order."
    assert httpx.post(url + "/messages", headers=agent, json={"text": hostile}).status_code == 201
    agent_bubble = page.locator(".parley-msg-agent")
    expect(agent_bubble).to_contain_text("<img src=x onerror=alert(1)>", timeout=TIMEOUT_MS)
    expect(page.locator(".parley-widget img")).to_have_count(0)
    expect(notice).to_contain_text("joined", timeout=TIMEOUT_MS)
    shot(page, "05-agent-message")

    # 6. reload: the conversation comes back from sessionStorage + the transcript endpoint
    page.reload()
    page.get_by_role("button", name="Open chat: Maple & Moss help").click()
    expect(page.locator(".parley-msg-agent")).to_contain_text("Sam here", timeout=TIMEOUT_MS)

    # 7. the agent closes: one effort question (1-7), answered once
    assert httpx.post(url + "/close", headers=agent).status_code == 200
    question = page.locator(".parley-ces")
    expect(question).to_contain_text("made it easy", timeout=TIMEOUT_MS)
    expect(question).to_contain_text("Strongly agree")
    shot(page, "09-effort-question")
    question.get_by_role("button", name="6", exact=True).click()
    expect(notice).to_contain_text("Thank you", timeout=TIMEOUT_MS)
    assert httpx.get(url, headers=agent).json()["conversation"]["ces_score"] == 6

    # 8. keyboard: Esc closes and gives focus back to the launcher
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Maple & Moss help")).to_be_hidden()
    expect(page.get_by_role("button", name="Open chat: Maple & Moss help")).to_be_focused()
    assert errors == []
    page.close()


def test_widget_mobile_fullscreen_and_talk_to_a_person(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 375, "height": 700}, is_mobile=True)
    page.goto(server + "/demo")
    page.get_by_role("button", name="Open chat: Maple & Moss help").click()
    dialog = page.get_by_role("dialog", name="Maple & Moss help")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None and box["width"] >= 370 and box["height"] >= 690
    page.get_by_role("button", name="Talk to a person").click()
    expect(page.locator(".parley-notice")).to_contain_text("member of our team", timeout=TIMEOUT_MS)
    shot(page, "06-mobile-handover")
    page.close()


def test_widget_speaks_the_pages_language(server: str, browser: Any) -> None:
    """On a French page the widget's own words are French, and its "talk to a person" is understood."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def french(route: Any) -> None:
        body = route.fetch().text().replace('<html lang="en">', '<html lang="fr">')
        route.fulfill(body=body, headers={"content-type": "text/html; charset=utf-8"})

    page.route("**/demo", french)
    page.goto(server + "/demo")
    page.get_by_role("button", name="Ouvrir la discussion: Maple & Moss help").click()
    expect(page.get_by_label("Votre message")).to_be_focused()
    expect(page.locator(".parley-send")).to_have_text("Envoyer")
    expect(page.locator(".parley-log")).to_contain_text("Bonjour", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="Parler à un conseiller").click()
    expect(page.locator(".parley-notice")).to_contain_text("membre de notre équipe", timeout=TIMEOUT_MS)
    shot(page, "07-french-handover")
    assert not errors, errors
    page.close()


def test_widget_survives_a_network_loss_without_losing_or_doubling_the_message(
    server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(server + "/demo")
    page.get_by_role("button", name="Open chat: Maple & Moss help").click()
    send(page, "How long does shipping take?")
    expect(page.locator("a.parley-source").first).to_be_visible(timeout=TIMEOUT_MS)

    bot_bubbles = page.locator(".parley-msg-bot").count()
    context.set_offline(True)
    question = "Do you ship to the Netherlands?"
    send(page, question)
    notice = page.locator(".parley-notice")
    expect(notice).to_contain_text("Connection lost", timeout=TIMEOUT_MS)
    shot(page, "07-connection-lost")
    context.set_offline(False)
    # The widget retries by itself: the answer arrives and the notice goes away.
    expect(page.locator(".parley-send")).to_be_enabled(timeout=TIMEOUT_MS)
    expect(notice).to_be_hidden(timeout=TIMEOUT_MS)
    expect(page.locator(".parley-msg-bot")).to_have_count(bot_bubbles + 1, timeout=TIMEOUT_MS)
    shot(page, "08-reconnected")
    expect(page.locator(".parley-msg-customer", has_text=question)).to_have_count(1)
    # ...and the server has it exactly once too.
    stored = json.loads(page.evaluate("sessionStorage.getItem('parley:' + location.origin)"))
    agent = {"Authorization": f"Bearer {AGENT_KEY}"}
    transcript = httpx.get(f"{server}/v1/agent/conversations/{stored['id']}", headers=agent).json()
    texts = [m["text"] for m in transcript["messages"] if m["role"] == "customer"]
    assert texts.count(question) == 1
    context.close()


def test_widget_end_chat_and_skip_the_effort_question(server: str, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server + "/demo")
    page.get_by_role("button", name="Open chat: Maple & Moss help").click()
    send(page, "How long does shipping take?")
    expect(page.locator("a.parley-source").first).to_be_visible(timeout=TIMEOUT_MS)
    page.get_by_role("button", name="End chat").click()
    expect(page.locator(".parley-notice")).to_contain_text("closed", timeout=TIMEOUT_MS)
    skip = page.locator(".parley-ces").get_by_role("button", name="Skip")
    expect(skip).to_be_visible(timeout=TIMEOUT_MS)
    skip.click()
    expect(page.locator(".parley-ces")).to_have_count(0)
    stored = json.loads(page.evaluate("sessionStorage.getItem('parley:' + location.origin)"))
    agent = {"Authorization": f"Bearer {AGENT_KEY}"}
    detail = httpx.get(f"{server}/v1/agent/conversations/{stored['id']}", headers=agent).json()
    assert detail["conversation"]["status"] == "closed" and detail["conversation"]["ces_score"] is None
    page.close()


# The widget's own words in each language (ui/widget/widget-i18n.js), as a customer sees them.
WORDS = {
    "en": {
        "open": "Open chat",
        "message": "Your message",
        "placeholder": "Type your message…",
        "send": "Send",
        "end": "End chat",
        "person": "Talk to a person",
        "yes": "Yes, go ahead",
        "no": "No, don't",
        "sources": "Sources:",
    },
    "fr": {
        "open": "Ouvrir la discussion",
        "message": "Votre message",
        "placeholder": "Écrivez votre message…",
        "send": "Envoyer",
        "end": "Terminer",
        "person": "Parler à un conseiller",
        "yes": "Oui, allez-y",
        "no": "Non, merci",
        "sources": "Sources\u00a0:",
    },
    "nl": {
        "open": "Chat openen",
        "message": "Uw bericht",
        "placeholder": "Typ uw bericht…",
        "send": "Versturen",
        "end": "Chat beëindigen",
        "person": "Met een medewerker praten",
        "yes": "Ja, ga je gang",
        "no": "Nee, niet doen",
        "sources": "Bronnen:",
    },
}
# What the customer writes: sign in by email, ask to cancel the pending order, give the reason (the bot
# then asks to confirm), and one help question (its answer carries sources).
CONVERSATIONS = {
    "en": [
        f"my email is {DEMO_USER_EMAIL}",
        f"please cancel order {DEMO_PENDING_ORDER_ID}",
        "I ordered it by mistake",
    ],
    "fr": [
        f"Mon e-mail est {DEMO_USER_EMAIL}",
        f"Je veux annuler ma commande {DEMO_PENDING_ORDER_ID}",
        "Je l'ai commandée par erreur",
    ],
    "nl": [
        f"Mijn e-mailadres is {DEMO_USER_EMAIL}",
        f"Ik wil mijn bestelling {DEMO_PENDING_ORDER_ID} annuleren",
        "Ik heb het per ongeluk besteld",
    ],
}
HELP_QUESTION = {
    "en": "How do I return an item?",
    "fr": "Comment puis-je retourner un article ?",
    "nl": "Hoe kan ik een artikel retourneren?",
}


def expect_words(page: Any, lang: str) -> None:
    """Every piece of the widget's own interface on screen is in `lang`."""
    from playwright.sync_api import expect

    words = WORDS[lang]
    expect(page.locator(".parley-send")).to_have_text(words["send"], timeout=TIMEOUT_MS)
    expect(page.get_by_label(words["message"], exact=True)).to_have_attribute(
        "placeholder", words["placeholder"]
    )
    expect(page.locator(".parley-end")).to_have_text(words["end"])
    expect(page.locator(".parley-person")).to_have_text(words["person"])
    expect(page.get_by_role("button", name=f"{words['open']}: Maple & Moss help")).to_have_count(1)


@pytest.mark.parametrize("lang", ["fr", "nl", "en"])
def test_widget_speaks_the_customers_language(server: str, browser: Any, lang: str, tmp_path: Path) -> None:
    """Issue 14: on an English page, a customer who writes in French (Dutch) gets the widget's buttons and
    labels in French (Dutch) too - the confirmation's Yes/No included - and keeps them after a reload; an
    English conversation stays English."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server + "/demo")  # <html lang="en">, no data-lang
    page.get_by_role("button", name="Open chat: Maple & Moss help").click()
    expect(page.locator(".parley-send")).to_have_text("Send")  # the page's language until the customer writes
    first, cancel, reason = CONVERSATIONS[lang]
    write(page, first)
    expect_words(page, lang)
    write(page, cancel)
    write(page, reason)
    words = WORDS[lang]
    yes = page.get_by_role("button", name=words["yes"], exact=True)
    expect(yes).to_be_visible(timeout=TIMEOUT_MS)
    expect(yes).to_be_focused()
    expect(page.get_by_role("button", name=words["no"], exact=True)).to_be_visible()
    expect(page.locator(".parley-confirm-text")).to_contain_text(DEMO_PENDING_ORDER_ID)
    expect_words(page, lang)
    page.screenshot(path=str(tmp_path / f"{lang}-1-confirmation.png"))
    if lang != "en":
        expect(page.get_by_role("button", name=WORDS["en"]["yes"])).to_have_count(0)

    # No: the order stays; then a help question, whose sources are labelled in the same language
    page.get_by_role("button", name=words["no"], exact=True).click()
    expect(yes).to_be_hidden(timeout=TIMEOUT_MS)
    write(page, HELP_QUESTION[lang])
    expect(page.locator(".parley-sources-label").last).to_have_text(words["sources"], timeout=TIMEOUT_MS)

    # a reload of the same conversation comes back in the customer's language
    page.reload()
    page.get_by_role("button", name=f"{words['open']}: Maple & Moss help").click()
    expect(page.locator(".parley-msg-customer")).to_have_count(5, timeout=TIMEOUT_MS)
    expect_words(page, lang)
    expect(page.locator(".parley-sources-label").last).to_have_text(words["sources"])
    page.screenshot(path=str(tmp_path / f"{lang}-2-after-reload.png"))
    print(f"screenshots: {tmp_path}")
    assert errors == [], errors
    page.close()


def test_widget_keeps_the_pages_data_lang_until_the_customer_writes(server: str, browser: Any) -> None:
    """A page's data-lang is the widget's language until the customer writes; a language the widget has no
    words for changes nothing; then the customer's own language wins."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def dutch_tag(route: Any) -> None:
        body = (
            route.fetch().text().replace('src="/widget/widget.js"', 'src="/widget/widget.js" data-lang="nl"')
        )
        route.fulfill(body=body, headers={"content-type": "text/html; charset=utf-8"})

    replaced: list[bool] = []

    def unknown_language(route: Any) -> None:  # as if the API named a language without widget words
        body = route.fetch().text()
        replaced.append('"language": "en"' in body)
        body = body.replace('"language": "en"', '"language": "de"')
        route.fulfill(body=body, headers={"content-type": "text/event-stream"})

    page.route("**/demo", dutch_tag)
    page.goto(server + "/demo")  # <html lang="en">, but the tag says nl
    page.get_by_role("button", name="Chat openen: Maple & Moss help").click()
    expect(page.locator(".parley-send")).to_have_text("Versturen")
    page.route("**/v1/conversations/*/messages", unknown_language)
    write(page, "How do I return an item?")
    assert replaced == [True]
    expect_words(page, "nl")
    page.unroute("**/v1/conversations/*/messages")
    write(page, "Comment puis-je retourner un article ?")
    expect_words(page, "fr")
    assert errors == [], errors
    page.close()
