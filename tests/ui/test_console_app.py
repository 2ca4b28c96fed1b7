"""The agent console against a REAL Parley API (`parley serve` on a free port, sample shop and help
centre, conversations seeded through the customer API), driven with streamlit.testing.AppTest. Every effect
is checked through the API. The server is shared by the console test modules (tests/ui/console_live.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import free_port
from tests.ui.console_live import (
    AGENT_KEYS,
    DEMO_USER,
    LiveApi,
    button,
    open_conversation,
    seed_conversation,
    texts,
)
from ui import console_desk_views as desk_views
from ui.console_client import (
    AgentApiClient,
    ApiUnavailable,
    AuthError,
    NotFound,
    OwnershipConflict,
)

pytestmark = pytest.mark.slow


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
    assert any("· widget" in t for t in texts(at.text))  # customer name and channel: plain text


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
    assert any("#W1000001" in t for t in texts(at.sidebar.text))  # the change, as plain text
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
    assert any("search\\_help\\_center" in label for label in labels), labels
    shown = " ".join(texts(at.text))
    assert "Sources:" in shown
    assert "https://help.mapleandmoss.example/articles/how-to-return" in shown  # as text, not a link
    markdown = " ".join(texts(at.markdown))
    assert "**Customer**" in markdown and "**Bot**" in markdown
    assert "agent_transfer" not in markdown  # triggers are shown in words
    frames = [d.value for d in at.sidebar.dataframe]
    profile = next(f for f in frames if "field" in f.columns)
    assert dict(zip(profile["field"], profile["value"], strict=True))["Name"] == "Emma Laurent"
    orders = next(f for f in frames if "order" in f.columns)
    assert set(orders["order"]) == {"#W1000001", "#W1000002", "#W1000003"}
    codes = " ".join(str(c.value) for c in at.code)
    assert '"query": "How do I return an item?"' in codes  # the tool call's arguments


def test_insights_page_shows_the_api_numbers(live_api: LiveApi, console: Callable[..., AppTest]) -> None:
    seed_conversation(live_api, ["I want to talk to a person"])
    at = console()
    at.radio(key="page").set_value("Insights").run()
    assert not at.exception, at.exception
    overall = live_api.agent().insights().overall
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == dict(desk_views.overall_metrics(overall))
    assert metrics["Handoff rate"] == f"{100 * overall['handoff_rate']:.0f}%"
    charts = [e for e in at.main if "chart" in type(e).__name__.lower() or "vega" in str(e.type)]
    assert len(charts) >= 4  # ASA, handoff/bot resolution, CES, SLA breaches by day (+ reasons, sentiment)
    at.radio(key="insights-by").set_value("agent").run()
    table = at.dataframe[0].value
    assert "agent" in table.columns and table["conversations"].sum() == overall["conversations"]
    downloads = [e for e in at.main if "download" in str(e.type).lower()]
    assert len(downloads) == 2


def test_the_console_asks_for_a_key_before_showing_anything(
    live_api: LiveApi, console: Callable[..., AppTest]
) -> None:
    seed_conversation(live_api, ["I want to talk to a person"])
    at = console(sign_in=False)
    assert not [b for b in at.button if (b.key or "").startswith("open-")]  # no queue, nothing else
    assert [t.key for t in at.text_input] == ["sign-in-key"]
    assert at.text_input[0].proto.type == at.text_input[0].proto.PASSWORD  # typed, not shown
    assert "agent_key" not in at.session_state and "client" not in at.session_state
    at.text_input(key="sign-in-key").input("not-a-real-key")
    at.button(key="sign-in").click().run()
    assert "rejected the agent key" in " ".join(texts(at.error))
    assert not [b for b in at.button if (b.key or "").startswith("open-")]
    at.text_input(key="sign-in-key").input(AGENT_KEYS["demo-agent"])
    at.button(key="sign-in").click().run()
    assert [b for b in at.button if (b.key or "").startswith("open-")]
    assert at.session_state["me"] == "demo-agent"
    assert not at.session_state["sign-in-key"]  # the typed key is not kept in the widget either
    at.button(key="sign-out").click().run()  # the key leaves with the session
    assert "client" not in at.session_state
    assert [t.key for t in at.text_input] == ["sign-in-key"]


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
