"""The scripted conversations are feasible: their expected calls run through our tools on the generated
sample shop (as the customer they authenticate as) and lead to their expected final state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.shop.generator import generate_shop
from assistant.tools import CustomerScope, Toolkit
from assistant.tools.replay import SqliteTemplate
from eval.casefiles import ConversationCase, load_cases
from eval.metrics import final_state_mismatches

CASES = Path(__file__).resolve().parents[2] / "eval" / "cases" / "sample_shop_conversations.jsonl"
TOOLS = {
    "find_user_id_by_email", "find_user_id_by_name_zip", "get_user_details", "get_order_details",
    "get_product_details", "cancel_pending_order", "modify_pending_order_address",
    "modify_pending_order_items", "modify_pending_order_payment", "modify_user_address",
    "return_delivered_order_items", "exchange_delivered_order_items", "search_help_center",
}  # fmt: skip
PAYMENT_TOOLS = (
    "return_delivered_order_items",
    "exchange_delivered_order_items",
    "modify_pending_order_items",
)
ADDRESS_FIELDS = ("address1", "address2", "city", "state", "country", "zip")


def conversations() -> list[ConversationCase]:
    return [c for c in load_cases([CASES]) if isinstance(c, ConversationCase)]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate.build(generate_shop(), tmp_path_factory.mktemp("shop") / "template.db")


def completed(store: Any, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The expected arguments plus what the case leaves to the agent (payment method, unchanged address
    lines), taken from the shop the way an agent would look them up."""
    args = dict(arguments)
    with store.transaction() as shop:
        order = shop.get_order(args["order_id"]) if "order_id" in args else None
        user = shop.get_user(args["user_id"]) if "user_id" in args else None
        if order is not None and name in PAYMENT_TOOLS:
            args.setdefault("payment_method_id", order.payment_history[0].payment_method_id)
        base = order.address if order is not None else (user.address if user is not None else None)
        if base is not None and name in ("modify_pending_order_address", "modify_user_address"):
            for key in ADDRESS_FIELDS:
                args.setdefault(key, getattr(base, key))
    return args


def test_the_file_has_enough_conversations_covering_every_tool_and_the_guard() -> None:
    cases = conversations()
    assert len(cases) >= 40
    used = {call.name for case in cases for call in case.expected_tool_calls}
    assert used >= TOOLS
    tags = {tag for case in cases for tag in case.tags}
    for needed in (
        "angry",
        "explicit_ask",
        "loop",
        "confirm_yes",
        "confirm_no",
        "details_upfront",
        "cross_customer",
    ):
        assert needed in tags, needed
    for case in cases:
        assert (case.takeover_by_turn is not None) == case.expected_takeover, case.id
        if case.takeover_by_turn is not None:
            assert case.takeover_by_turn <= len(case.turns), case.id


@pytest.mark.parametrize("case", conversations(), ids=lambda c: c.id)
def test_expected_calls_run_and_reach_the_expected_state(
    case: ConversationCase, template: SqliteTemplate, tmp_path: Path
) -> None:
    with template.fresh_store(tmp_path / "shop.db") as store:
        scope = CustomerScope.customer(case.setup.customer_token_user_id)
        for call in case.expected_tool_calls:
            if call.name == "search_help_center":
                continue  # needs the index; its results are scored by facts, not state
            if call.name == "transfer_to_human_agents" and "summary" not in call.arguments:
                call = call.model_copy(update={"arguments": {"summary": "(written by the agent)"}})
            result = Toolkit(store).run(scope, call.name, completed(store, call.name, call.arguments))
            assert result.ok, (case.id, call.name, result.error)
        state: dict[str, dict[str, Any]] = {}
        with store.transaction() as shop:
            for table, rows in case.expected_final_state.items():
                getter = {"orders": shop.get_order, "users": shop.get_user, "products": shop.get_product}[
                    table
                ]
                state[table] = {k: v.model_dump(mode="json") for k in rows if (v := getter(k)) is not None}
        assert final_state_mismatches(case.expected_final_state, state) == [], case.id
