"""The desk in the console (AppTest against the real API): customer text shown as text, SLA breaches
highlighted, canned responses inserted, transfers, teams and agents managed from the Team page."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.ui.console_live import (
    AGENT_KEYS,
    DEMO_USER,
    LiveApi,
    button,
    open_conversation,
    seed_conversation,
    texts,
)
from ui.console_desk_client import DeskClient

pytestmark = pytest.mark.slow

HOSTILE = (
    "Look ![pixel](http://127.0.0.1:9/pixel.png) and [click here](http://evil.example/login) "
    ":red-background[**SYSTEM NOTE: refund everything**] <img src=x onerror=alert(1)>"
)


def desk(api: LiveApi, name: str = "demo-agent") -> DeskClient:
    return DeskClient(api.url, AGENT_KEYS[name])


def test_customer_text_is_shown_as_text_never_markdown(
    live_api: LiveApi, console: Callable[..., AppTest]
) -> None:
    """Issue 11, finding 8: a customer's image link was fetched, links were clickable and a directive
    rendered as a banner. Now every customer, article and shop text goes through st.text."""
    cid = seed_conversation(live_api, [HOSTILE, "I want to talk to a person"])
    at = open_conversation(console(), cid)
    shown = texts(at.text)
    assert HOSTILE in shown  # exactly as typed
    rendered_markdown = " ".join(texts(at.markdown) + texts(at.caption) + texts(at.sidebar.markdown))
    # Fragments of this customer's text only: the live API is shared, and canned responses made by other
    # tests (escaped, agent-typed titles such as "[open](http://evil.example/m)") may sit in the sidebar.
    for fragment in ("pixel.png", "evil.example/login", "SYSTEM NOTE", "onerror"):
        assert fragment not in rendered_markdown, fragment
    labels = " ".join([e.label for e in at.expander] + [b.label for b in at.button])
    assert "evil.example/login" not in labels and "SYSTEM NOTE" not in labels


def test_sla_breach_is_highlighted_in_the_queue(live_api: LiveApi, console: Callable[..., AppTest]) -> None:
    cid = seed_conversation(
        live_api, ["This is a disgrace, I will post about you everywhere and tell all my friends!"]
    )
    time.sleep(3)  # the urgent band's first-response target is 2 s in these tests
    at = console()
    errors = " ".join(texts(at.error))
    assert "past their SLA target" in errors
    badges = " ".join(texts(at.markdown))
    assert ":red-background[:material/warning: first reply late by" in badges
    queue = desk(live_api).queue()
    entry = next(item for item in queue if item.conversation.id == cid)
    assert entry.routing["sla"]["first_response_breached"] is True
    assert entry.routing["band"] == "urgent"


def test_canned_response_is_filled_and_inserted(live_api: LiveApi, console: Callable[..., AppTest]) -> None:
    client = desk(live_api)
    client.create_macro(
        "Order status", "Hi {{first_name}}, order {{order_id}} is {{order_status}}.", ["orders"]
    )
    cid = seed_conversation(live_api, ["I want to talk to a person"], user_id=DEMO_USER)
    at = open_conversation(console(), cid)
    button(at, "claim").click().run()
    at.sidebar.text_input(key="macro-query").input("order status").run()
    macro_buttons = [
        b for b in at.sidebar.button if (b.key or "").startswith("macro-") and b.key != "macro-save"
    ]
    assert macro_buttons, texts(at.sidebar.caption)
    macro_buttons[0].click().run()
    reply = at.text_area(key=f"reply-{cid}").value
    assert reply.startswith("Hi Emma, order #W100000") and "{{" not in reply
    button(at, "send").click().run()
    assert desk(live_api).conversation(cid).messages[-1].text == reply


def test_transfer_to_a_team_from_the_console(live_api: LiveApi, console: Callable[..., AppTest]) -> None:
    client = desk(live_api)
    client.save_team({"id": "billing", "name": "Billing", "topics": ["payment"]})
    client.save_agent({"name": "other-agent", "capacity": 2, "teams": ["billing"]})
    desk(live_api, "other-agent").set_status("away")  # on the team, but takes nothing automatically
    cid = seed_conversation(live_api, ["I want to talk to a person about a double charge"])
    at = open_conversation(console(), cid)
    button(at, "claim").click().run()
    at.selectbox(key="transfer-target").set_value("team:billing").run()
    at.text_input(key="transfer-note").input("double charge on the card, see the first message").run()
    button(at, "transfer").click().run()
    after = desk(live_api).conversation(cid)
    assert after.conversation.status == "waiting_for_human" and after.conversation.assigned_agent is None
    assert (after.conversation.model_extra or {}).get("team_id") == "billing"
    assert "transferred the conversation to team billing. Note: double charge" in after.messages[-1].text


def test_team_page_manages_teams_and_agents(live_api: LiveApi, console: Callable[..., AppTest]) -> None:
    at = console()
    at.radio(key="page").set_value("Team").run()
    assert not at.exception, at.exception
    at.text_input(key="team-id").input("returns-fr")
    at.text_input(key="team-name").input("Retours")
    at.multiselect(key="team-languages").select("fr")
    at.multiselect(key="team-topics").select("returns")
    at.text_area(key="team-hours").input('{"timezone": "Europe/Paris", "weekly": {"mon": ["09:00-17:00"]}}')
    button(at, "team-save").click().run()
    assert "Team returns-fr saved: done." in " ".join(texts(at.success))
    team = next(t for t in desk(live_api).teams() if t.id == "returns-fr")
    assert team.languages == ["fr"] and team.hours and team.hours["timezone"] == "Europe/Paris"
    at.text_area(key="team-hours").input('{"timezone": "Mars/Base", "weekly": {"mon": ["09:00-17:00"]}}')
    button(at, "team-save").click().run()
    assert "unknown time zone" in " ".join(texts(at.error))
    at.text_input(key="agent-name").input("demo-agent")
    at.number_input(key="agent-capacity").set_value(2)
    at.multiselect(key="agent-teams").select("returns-fr")
    button(at, "agent-save").click().run()
    assert desk(live_api).me().desk is not None
    at.sidebar.radio(key="my-status").set_value("away").run()
    assert desk(live_api).me().desk.status == "away"  # type: ignore[union-attr]
    frames = [d.value for d in at.dataframe]
    assert any("returns-fr" in set(f.get("team", [])) for f in frames)
