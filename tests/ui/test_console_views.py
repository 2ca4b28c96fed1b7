"""Pure formatting rules of the console (no Streamlit, no HTTP)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from ui import console_views as views
from ui.console_client import (
    ConversationInfo,
    QueueItem,
    SuggestedReply,
    TranscriptMessage,
    _conversation_detail,
)


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0s"),
        (45.9, "45s"),
        (60, "1m 00s"),
        (245, "4m 05s"),
        (3600, "1h 00m"),
        (3900, "1h 05m"),
        (86400 + 3 * 3600 + 59, "1d 3h"),
        (None, "—"),
        (-5, "—"),
        (math.nan, "—"),
    ],
)
def test_format_wait(seconds: float | None, expected: str) -> None:
    assert views.format_wait(seconds) == expected


@pytest.mark.parametrize(
    ("score", "color", "word"),
    [
        (-0.9, "red", "very negative"),
        (-0.6, "red", "very negative"),
        (-0.3, "orange", "negative"),
        (0.0, "gray", "neutral"),
        (0.2, "gray", "neutral"),
        (0.7, "green", "positive"),
        (None, "gray", "unknown"),
    ],
)
def test_sentiment_badge(score: float | None, color: str, word: str) -> None:
    badge = views.sentiment_badge(score)
    assert badge.color == color and badge.label.startswith(word)
    assert badge.markdown.startswith(f":{color}-background[")


def test_trigger_labels_are_words() -> None:
    assert views.trigger_label("explicit_request") == "Asked for a person"
    assert views.trigger_label("something_new") == "Something new"
    assert views.trigger_label(None) == "—"


def _conversation(**kw: object) -> ConversationInfo:
    base: dict[str, object] = {"id": "c1", "status": "waiting_for_human", "channel": "widget"}
    return ConversationInfo.model_validate({**base, **kw})


def test_queue_rows_keep_the_api_order_with_takeover_fallbacks() -> None:
    """The router orders the queue (priority, ageing, fair share, held last): the console keeps its order."""
    items = [
        QueueItem(
            conversation=_conversation(
                id="angry", takeover={"trigger": "profanity", "reason": "swore", "sentiment": -0.8}
            ),
            priority=0.9,
            wait_seconds=10,
            routing={"band": "urgent", "held": False},
        ),
        QueueItem(conversation=_conversation(id="older"), priority=0.5, wait_seconds=900),
        QueueItem(
            conversation=_conversation(id="held"), priority=1.5, wait_seconds=600, routing={"held": True}
        ),
    ]
    rows = views.queue_rows(items)
    assert [r.conversation_id for r in rows] == ["angry", "older", "held"]
    angry = rows[0]
    assert (angry.trigger, angry.reason, angry.sentiment.color, angry.wait) == (
        "Swearing",
        "swore",
        "red",
        "10s",
    )
    assert angry.routing["band"] == "urgent" and rows[2].routing["held"] is True
    assert rows[1].title == "Anonymous customer"


def test_customer_name() -> None:
    assert views.customer_name({"name": {"first_name": "Emma", "last_name": "Laurent"}}) == "Emma Laurent"
    assert views.customer_name({"name": {}}, "u1") == "u1"
    assert views.customer_name(None) == "Anonymous customer"


@pytest.mark.parametrize(
    ("status", "owner", "me", "claim", "send", "hand_back", "close", "banner"),
    [
        ("waiting_for_human", None, "me", True, False, False, True, "Waiting"),
        ("human", "me", "me", False, True, True, True, "You own"),
        ("human", "other", "me", False, False, False, False, "Owned by other"),
        # Until the console knows who it is, it must not write into anybody's conversation.
        ("human", "other", None, False, False, False, False, "Owned by other"),
        ("bot", None, "me", True, False, False, True, "The bot"),
        ("closed", "me", "me", False, False, False, False, "closed"),
    ],
)
def test_ownership(
    status: str,
    owner: str | None,
    me: str | None,
    claim: bool,
    send: bool,
    hand_back: bool,
    close: bool,
    banner: str,
) -> None:
    state = views.ownership(status, owner, me)
    assert (state.can_claim, state.can_send, state.can_hand_back, state.can_close) == (
        claim,
        send,
        hand_back,
        close,
    )
    assert banner in state.banner


def test_transcript_rows_roles_tools_citations_and_guard() -> None:
    at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    messages = [
        TranscriptMessage(
            role="customer",
            text="I want a person",
            created_at=at,
            guard={"takeover": True, "trigger": "explicit_request", "reason": "asked"},
        ),
        TranscriptMessage(
            role="bot",
            text="Returns take 14 days [1]",
            created_at=at,
            citations=[
                {"ref": 1, "title": "Returns [policy]", "url": "https://help.example/returns"},
                {"ref": 2, "title": "Evil", "url": "javascript:alert(1)"},
            ],
            tool_calls=[
                {
                    "name": "search_help_center",
                    "arguments": {"query": "returns"},
                    "ok": True,
                    "output": {"hits": []},
                    "kind": "read",
                },
                {
                    "name": "cancel_pending_order",
                    "arguments": {"order_id": "#W1"},
                    "ok": False,
                    "error": "order is delivered",
                    "kind": "write",
                },
            ],
        ),
        TranscriptMessage(role="agent", text="Hi", author="sam"),
        TranscriptMessage(role="agent", text="Hi again", author="me"),
        TranscriptMessage(role="system", text="sam joined the conversation."),
    ]
    rows = views.transcript_rows(messages, me="me")
    assert [r.name for r in rows] == ["Customer", "Bot", "sam", "You", "System"]
    assert rows[0].guard_note == "Handed over: Asked for a person — asked" and rows[0].time == "03:04:05"
    good, evil = rows[1].citations
    # Plain text: an article's title and URL are never Markdown (st.text shows them as they are)
    assert good.text == "[1] Returns [policy] — https://help.example/returns"
    assert "javascript:" not in evil.text  # an unsafe URL is dropped, not shown as a link or text
    search, cancel = rows[1].tool_calls
    assert search.title == "search_help_center (read) · ok" and '"query": "returns"' in search.arguments
    assert cancel.title == "cancel_pending_order (write) · failed" and "order is delivered" in cancel.result


def test_pretty_json_truncates_huge_results() -> None:
    text = views.pretty_json({"x": "a" * 10_000}, limit=100)
    assert len(text) < 200 and text.endswith("(truncated)")


def test_suggestion_helpers() -> None:
    write = SuggestedReply.model_validate(
        {
            "id": 7,
            "draft_index": 0,
            "draft_text": "Shall I cancel?",
            "proposed_actions": [
                {
                    "name": "cancel_pending_order",
                    "arguments": {"order_id": "#W1", "reason": "no longer needed"},
                }
            ],
        }
    )
    plain = SuggestedReply.model_validate(
        {
            "id": 8,
            "draft_index": 1,
            "draft_text": "See [1]",
            "citations": [{"ref": 1, "title": "Returns", "url": "https://h/r"}],
            "tool_results": [{"name": "get_order_details", "ok": True}],
        }
    )
    assert views.needs_confirmation(write) and not views.needs_confirmation(plain)
    action = write.proposed_actions[0]
    assert views.action_sentence(action.name, action.arguments) == (
        "cancel pending order: order_id=#W1, reason=no longer needed"
    )
    assert views.source_lines(plain) == ["[1] Returns — https://h/r", "tool get_order_details"]


def test_latest_batch_hides_drafts_for_older_messages() -> None:
    drafts = [
        SuggestedReply(id=i, draft_index=idx, draft_text=str(i))
        for i, idx in [(1, 0), (2, 1), (3, 2), (4, 0), (5, 1)]
    ]
    assert [d.id for d in views.latest_batch(drafts)] == [4, 5]
    assert views.latest_batch([]) == []


def test_profile_and_orders() -> None:
    customer = {
        "user_id": "u1",
        "name": {"first_name": "A", "last_name": "B"},
        "email": "a@b.c",
        "address": {"address1": "1 Road", "city": "Town", "zip": "123"},
        "payment_methods": {"gift_card_1": {}, "credit_card_2": {}},
    }
    lines = dict(views.profile_lines(customer))
    assert lines["Name"] == "A B" and lines["Address"] == "1 Road, Town, 123"
    assert lines["Payment methods"] == "credit_card_2, gift_card_1"
    assert views.profile_lines(None) == []
    rows = views.order_rows(
        [
            {
                "order_id": "#W1",
                "status": "pending",
                "items": [{"name": "Mug"}],
                "payment_history": [
                    {"transaction_type": "payment", "amount": 10.5},
                    {"transaction_type": "refund", "amount": 3},
                ],
            }
        ]
    )
    assert rows == [{"order": "#W1", "status": "pending", "items": "Mug", "paid": 10.5}]


def test_insight_helpers_accept_both_shapes_and_skip_bad_points() -> None:
    assert views.reason_counts({"explicit_request": 2, "profanity": 3}) == {
        "Swearing": 3,
        "Asked for a person": 2,
    }
    assert views.reason_counts([{"trigger": "profanity", "count": 1}]) == {"Swearing": 1}
    series = views.sentiment_series(
        [
            {"day": "2025-01-02", "mean_sentiment": -0.5, "messages": 3},
            {"day": "2025-01-01", "sentiment": 0.1},
            {"day": "bad", "mean_sentiment": "x"},
            {"mean_sentiment": 0.3},
        ]
    )
    assert [p["day"] for p in series] == ["2025-01-01", "2025-01-02"]
    assert views.percent(0.456) == "46%" and views.percent(None) == "—"


def test_conversation_detail_accepts_nested_and_flat_shapes() -> None:
    nested = _conversation_detail(
        {
            "conversation": {"id": "c", "status": "human"},
            "messages": [{"role": "customer", "text": "hi"}],
            "customer": None,
            "orders": [],
            "suggestions": [],
        }
    )
    flat = _conversation_detail(
        {"id": "c", "status": "human", "transcript": [{"role": "customer", "text": "hi"}]}
    )
    assert nested.conversation.id == flat.conversation.id == "c"
    assert nested.messages[0].text == flat.messages[0].text == "hi"
