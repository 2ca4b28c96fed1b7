"""Conversation scoring: the shop state a case names, read from a real store, and the `conversations.*` /
`effort.*` metrics on hand-built records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.shop.demo import DEMO_PENDING_ORDER_ID, DEMO_USER_ID
from assistant.shop.generator import generate_shop
from assistant.shop.store import ShopStore
from eval.conversations import conversation_metrics, shop_state


def test_shop_state_reads_only_the_rows_a_case_names(tmp_path: Path) -> None:
    store = ShopStore(f"sqlite:///{tmp_path / 'shop.db'}")
    store.migrate()
    store.import_data(generate_shop(seed=7, users=2, orders=5))
    state = shop_state(
        store, {"orders": {DEMO_PENDING_ORDER_ID: {"status": "pending"}, "#W0000000": {}}, "users": {}}
    )
    assert list(state) == ["orders", "users"] and state["users"] == {}
    assert list(state["orders"]) == [DEMO_PENDING_ORDER_ID]  # an order that does not exist is left out
    order = state["orders"][DEMO_PENDING_ORDER_ID]
    assert order["status"] == "pending" and order["user_id"] == DEMO_USER_ID


def _record(**values: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "passed": True,
        "tool_precision": 1.0,
        "tool_recall": 1.0,
        "tool_exact": 1.0,
        "final_state_ok": True,
        "fact_recall": 1.0,
        "leaks": [],
        "expected_takeover": False,
        "takeover": False,
        "takeover_turn_delta": None,
        "resolved": True,
        "turns_to_resolution": 2,
        "repeated_questions": [],
        "first_response_ms": 50.0,
    }
    return record | values


def test_conversation_metrics() -> None:
    records = [
        _record(),
        _record(passed=False, leaks=["another customer's lamp"], resolved=False, turns_to_resolution=None),
        _record(expected_takeover=True, takeover=True, takeover_turn_delta=1, resolved=False),
        _record(takeover=True, resolved=False, turns_to_resolution=None, repeated_questions=["q", "q"]),
    ]
    metrics = conversation_metrics(records)
    assert metrics["conversations.count"] == 4.0 and metrics["conversations.pass_rate"] == 0.75
    assert metrics["conversations.leak_rate"] == 0.25
    assert metrics["conversations.takeover_precision"] == 0.5
    assert metrics["conversations.takeover_recall"] == 1.0
    assert metrics["conversations.takeover_turn_delta_mean"] == 1.0
    assert metrics["effort.resolution_without_human"] == 1 / 3  # of the three that needed no person
    assert metrics["effort.turns_to_resolution"] == 2.0
    assert metrics["effort.repeated_questions_per_conversation"] == 0.5
    assert metrics["effort.handoff_rate"] == 0.5
    assert conversation_metrics([]) == {}
