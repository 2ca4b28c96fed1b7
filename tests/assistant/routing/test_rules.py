"""The pure routing rules: topic, journey stage, order value, priority rules, bands, ageing, fair share,
team choice. Each allowed and refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.routing.choose import choose_team
from assistant.routing.classify import classify_topic, journey_stage, mentioned_order_ids, order_value
from assistant.routing.models import Stage
from assistant.routing.priority import (
    PriorityInputs,
    RuleError,
    band_of,
    compute_priority,
    fair_share,
    parse_rules,
    rank_key,
    score_at,
)

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)


def order(order_id: str, status: str, paid: float) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "status": status,
        "payment_history": [{"transaction_type": "payment", "amount": paid}],
    }


@pytest.mark.parametrize(
    ("texts", "topic"),
    [
        (["I want to return these boots and get a refund"], "returns"),
        (["Je voudrais un remboursement pour ce colis"], "returns"),
        (["Waar is mijn pakket? De bezorging is te laat"], "delivery"),
        (["where is my order? it has not arrived"], "delivery"),
        (["I was charged twice on my card"], "payment"),
        (["I need to reset my password"], "account"),
        (["hello, I have a question"], "general"),
    ],
)
def test_topic_from_the_customer_words(texts: list[str], topic: str) -> None:
    assert classify_topic(texts) == topic


def test_tools_break_ties_but_words_win() -> None:
    assert classify_topic(["can you help me"], ["return_delivered_order_items"]) == "returns"
    assert classify_topic(["my card was charged"], ["get_order_details"]) == "payment"


def test_journey_stage_rules() -> None:
    orders = [order("#W1000001", "pending", 80.0), order("#W1000002", "delivered", 640.0)]
    assert journey_stage("profanity", orders) == Stage.COMPLAINT  # an upset customer first
    assert journey_stage("explicit_request", []) == Stage.PRE_PURCHASE
    assert journey_stage("explicit_request", orders) == Stage.AFTER_DELIVERY  # the latest order
    assert (
        journey_stage("explicit_request", orders, ["#W1000001"]) == Stage.IN_TRANSIT
    )  # the one talked about
    assert journey_stage(None, [order("#W1", "cancelled", 10.0)]) == Stage.PRE_PURCHASE


def test_order_value_and_mentioned_ids() -> None:
    orders = [order("#W1000001", "pending", 80.0), order("#W1000002", "delivered", 640.0)]
    assert mentioned_order_ids(["about w1000001 and #W1000002", "#W1000001 again"]) == [
        "#W1000001",
        "#W1000002",
    ]
    assert order_value(orders, ["#W1000001"]) == 80.0
    assert order_value(orders) == 640.0
    assert order_value([]) == 0.0


RULES = [
    {"kind": "order_value_above", "value": 500, "boost": 0.15},
    {"kind": "repeat_contact", "value": 7, "boost": 0.2},
    {"kind": "stage", "value": "complaint", "boost": 0.1},
]


def test_rules_raise_priority_only_when_they_match() -> None:
    rules = parse_rules(RULES)
    plain = compute_priority(PriorityInputs(severity=0.5), rules)
    assert plain.value == 0.5 and plain.band == "normal" and len(plain.reasons) == 1
    rich = compute_priority(PriorityInputs(severity=0.5, order_value=640.0), rules)
    assert rich.value == pytest.approx(0.65) and rich.band == "high"
    assert any("order value above 500" in r for r in rich.reasons)
    again = compute_priority(PriorityInputs(severity=0.5, repeat_contact_days=3.0), rules)
    assert again.value == pytest.approx(0.7)
    stale = compute_priority(PriorityInputs(severity=0.5, repeat_contact_days=9.0), rules)
    assert stale.value == 0.5  # the earlier contact was too long ago
    angry = compute_priority(PriorityInputs(severity=0.8, stage="complaint", order_value=900.0), rules)
    assert angry.value == pytest.approx(1.05) and angry.band == "urgent"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([{"kind": "vip", "value": 1, "boost": 0.1}], "unknown kind"),
        ([{"kind": "order_value_above", "value": "lots", "boost": 0.1}], "needs a number"),
        ([{"kind": "order_value_above", "value": -5, "boost": 0.1}], "must not be negative"),
        ([{"kind": "topic", "value": "", "boost": 0.1}], "needs a name"),
        ([{"kind": "topic", "value": "returns", "boost": 3}], "outside -1..1"),
        (["order_value_above"], "must be an object"),
    ],
)
def test_bad_rules_are_refused(raw: list[Any], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(raw)


def test_bands() -> None:
    assert [band_of(v) for v in (1.2, 0.8, 0.65, 0.5, 0.2)] == ["urgent", "urgent", "high", "normal", "low"]


def test_ageing_lets_an_old_low_priority_conversation_overtake() -> None:
    ageing = 0.02
    old_low = rank_key(0.3, T0, ageing_per_minute=ageing)
    new_high = rank_key(0.8, T0 + timedelta(minutes=10), ageing_per_minute=ageing)
    assert new_high > old_low  # 10 minutes of ageing (0.2) do not make up 0.5
    later_high = rank_key(0.8, T0 + timedelta(minutes=30), ageing_per_minute=ageing)
    assert old_low > later_high  # 30 minutes (0.6) do: nobody starves
    now = T0 + timedelta(minutes=30)
    assert score_at(old_low, now, ageing) == pytest.approx(0.3 + 0.6)
    assert score_at(later_high, now, ageing) == pytest.approx(0.8)


def test_fair_share_penalises_then_holds_one_origin() -> None:
    assert fair_share(0, per_conversation=0.5, cap=3, origin_kind="IP").penalty == 0
    second = fair_share(1, per_conversation=0.5, cap=3, origin_kind="IP")
    assert second.penalty == 0.5 and not second.held
    over = fair_share(3, per_conversation=0.5, cap=3, origin_kind="IP")
    assert over.held and "cap 3" in (over.reason or "")
    held = rank_key(1.0, T0, ageing_per_minute=0.02, held=True)
    assert held < rank_key(0.0, T0 + timedelta(days=30), ageing_per_minute=0.02)
    with pytest.raises(ValueError):
        fair_share(-1, per_conversation=0.5, cap=3, origin_kind="IP")


def team(team_id: str, **skills: Any) -> SimpleNamespace:
    return SimpleNamespace(
        id=team_id,
        languages=skills.get("languages", []),
        topics=skills.get("topics", []),
        stages=skills.get("stages", []),
        hours=skills.get("hours"),
    )


def test_team_choice_prefers_specific_open_teams_and_relaxes_in_order() -> None:
    teams = [
        team("general"),
        team("returns-fr", languages=["fr"], topics=["returns"]),
        team("returns-en", languages=["en"], topics=["returns"]),
        team(
            "night",
            languages=["en"],
            topics=["returns"],
            hours={"timezone": "UTC", "weekly": {"mon": ["00:00-01:00"]}},
        ),
    ]
    pick = choose_team(teams, topic="returns", language="fr", stage="after_delivery", now=T0)
    assert pick.team_id == "returns-fr"
    pick = choose_team(teams, topic="returns", language="en", stage="after_delivery", now=T0)
    assert pick.team_id == "returns-en"  # "night" fits as well but is closed at 10:00
    pick = choose_team(teams, topic="delivery", language="nl", stage="in_transit", now=T0)
    assert pick.team_id == "general"
    only_french = [team("fr", languages=["fr"])]
    relaxed = choose_team(only_french, topic="general", language="nl", stage="pre_purchase", now=T0)
    assert relaxed.team_id == "fr" and "no team fits on" in relaxed.reason
    assert choose_team([], topic="general", language="en", stage="pre_purchase", now=T0).team_id is None
