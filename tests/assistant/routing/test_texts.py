"""What customers read (en/fr/nl), canned responses, and per-conversation effort."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from assistant.routing import notices
from assistant.routing.context import InvalidError
from assistant.routing.effort import channel_switches, conversation_effort, recontact
from assistant.routing.feedback import check_score
from assistant.routing.macros import Macro, MacroSpec, render, search, variables_for
from assistant.store.conversations import Conversation, Message
from assistant.store.models import ConversationStatus, MessageRole
from tests.assistant.fakes import guard_decision

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


def test_every_language_has_every_text() -> None:
    table = notices.texts()
    assert set(table) == {"en", "fr", "nl"}
    assert set(table["fr"]) == set(table["en"]) == set(table["nl"])
    for language in table:
        assert len(table[language]["weekdays"]) == 7


@pytest.mark.parametrize(
    ("seconds", "en", "fr"),
    [
        (20, "less than a minute", "moins d'une minute"),
        (61, "about 2 minutes", "environ 2 minutes"),
        (60, "about 1 minute", "environ 1 minute"),
        (3 * 3600, "about 3 hours", "environ 3 heures"),
    ],
)
def test_wait_phrases(seconds: float, en: str, fr: str) -> None:
    assert notices.wait_phrase("en", seconds) == en
    assert notices.wait_phrase("fr", seconds) == fr


def test_when_phrases_in_the_team_zone() -> None:
    now = datetime(2025, 1, 17, 18, 0, tzinfo=UTC)  # Friday 19:00 in Paris
    monday = datetime(2025, 1, 20, 8, 0, tzinfo=UTC)
    assert notices.when_phrase("en", monday, now, "Europe/Paris") == "on Monday at 09:00 (Europe/Paris time)"
    assert notices.when_phrase("fr", monday, now, "Europe/Paris") == "lundi à 09:00 (heure de Europe/Paris)"
    tomorrow = datetime(2025, 1, 18, 8, 0, tzinfo=UTC)
    assert notices.when_phrase("nl", tomorrow, now, "Europe/Paris").startswith("morgen om 09:00")
    assert (
        notices.text("de", "queue_update_unknown", position=2) == "You are number 2 in line."
    )  # English fallback


def test_ces_scores() -> None:
    assert check_score(1) == 1 and check_score(7) == 7 and check_score(None) is None
    for bad in (0, 8, -1, True, 3.5, "5"):
        with pytest.raises(InvalidError):
            check_score(bad)  # type: ignore[arg-type]
    assert "easy" in notices.ces_question("en").question
    assert notices.ces_question("nl").skip == "Overslaan"


CUSTOMER = {"name": {"first_name": "Emma", "last_name": "Laurent"}, "email": "emma@example.com"}
ORDERS = [{"order_id": "#W1000001", "status": "pending"}, {"order_id": "#W1000002", "status": "delivered"}]


def test_macros_fill_known_variables_and_report_the_rest() -> None:
    values = variables_for(CUSTOMER, ORDERS, "sam", "Maple & Moss", order_id="#W1000001")
    text, missing = render(
        "Hi {{first_name}}, order {{ order_id }} is {{order_status}}. {{agent_name}}", values
    )
    assert text == "Hi Emma, order #W1000001 is pending. sam" and missing == []
    anonymous = variables_for(None, [], "sam", "Maple & Moss")
    text, missing = render("Hi {{customer_name}}, about {{order_id}}", anonymous)
    assert text == "Hi [customer_name], about [order_id]" and missing == ["customer_name", "order_id"]
    with pytest.raises(ValueError, match="unknown variables"):
        MacroSpec(title="x", body="Hello {{password}}")


def test_macro_search_by_words_and_language() -> None:
    macros = [
        Macro(id=1, title="Refund timing", body="Refunds take 5-7 days.", tags=["refund"], language="en"),
        Macro(
            id=2,
            title="Délai de remboursement",
            body="Le remboursement prend 5 à 7 jours.",
            tags=["refund"],
            language="fr",
        ),
        Macro(
            id=3, title="Where is my parcel", body="Your order {{order_id}} ships soon.", tags=["delivery"]
        ),
    ]
    assert [m.id for m in search(macros, "refund", "fr")] == [2, 1]
    assert [m.id for m in search(macros, "parcel ships")] == [3]
    assert search(macros, "gift card") == []
    assert len(search(macros, "")) == 3


def conversation(cid: str, at: datetime, channel: str = "widget", **extra: Any) -> Conversation:
    values: dict[str, Any] = dict(
        id=cid,
        channel=channel,
        status=ConversationStatus.CLOSED,
        user_id="u1",
        language="en",
        assigned_agent=None,
        takeover=None,
        priority=0.0,
        waiting_since=None,
        created_at=at,
        updated_at=at,
    )
    values.update(extra)
    return Conversation(**values)


def message(seq: int, role: str, at: datetime, **extra: Any) -> Message:
    return Message(seq=seq, role=MessageRole(role), text="x", created_at=at, **extra)


def test_effort_counts_what_the_customer_went_through() -> None:
    first = conversation("a", T0, closed_at=T0 + timedelta(minutes=20), handovers=1)
    messages = [
        message(1, "customer", T0),
        message(2, "bot", T0 + timedelta(seconds=5)),
        message(3, "customer", T0 + timedelta(minutes=1), guard=guard_decision(repeats=1.0)),
        message(4, "agent", T0 + timedelta(minutes=5)),
    ]
    history = [conversation("email-1", T0 - timedelta(days=2), channel="email")]
    later = [(conversation("b", T0 + timedelta(days=3)), "returns")]
    effort = conversation_effort(
        first, messages, topic="returns", history=history, later=later, now=T0 + timedelta(days=10)
    )
    assert effort.customer_turns == 2 and effort.repeated_questions == 1
    assert effort.channel_switches == 1 and effort.handovers == 1
    assert effort.time_to_resolution_s == 1200 and effort.recontact_within_7_days is True


def test_recontact_rules() -> None:
    base = conversation("a", T0, closed_at=T0)
    other_topic = [(conversation("b", T0 + timedelta(days=1)), "payment")]
    assert recontact(base, "returns", T0, other_topic, T0 + timedelta(days=8)) is False
    assert (
        recontact(
            base,
            "returns",
            T0,
            [(conversation("c", T0 + timedelta(days=9)), "returns")],
            T0 + timedelta(days=10),
        )
        is False
    )  # too late to count
    assert recontact(base, "returns", T0, [], T0 + timedelta(days=2)) is None  # too early to tell
    assert recontact(base, None, T0, other_topic, T0 + timedelta(days=8)) is True  # unknown topic: same issue
    assert channel_switches(base, []) == 0
