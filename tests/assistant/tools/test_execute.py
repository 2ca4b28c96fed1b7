"""Toolkit.run on a real SQLite shop: scoping, argument checks, one transaction per call, τ² outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.shop.store import ShopStore
from assistant.tools import CustomerScope, ToolKind, Toolkit
from assistant.tools.base import (
    NOT_AUTHENTICATED,
    OTHER_CUSTOMER,
    ToolArgs,
    ToolContext,
    ToolError,
    ToolSpec,
)
from assistant.tools.replay import SqliteTemplate
from tests.assistant.tools.shop_factory import NEW_ADDRESS, make_shop

JANE, JOHN = "jane_doe_1", "john_roe_2"
JANE_PENDING, JANE_DELIVERED, JANE_PROCESSED, JANE_GIFT_PAID, JOHN_PENDING = (
    "#W0000001",
    "#W0000002",
    "#W0000003",
    "#W0000004",
    "#W0000005",
)
ADDRESS_ARGS = NEW_ADDRESS.model_dump()

# One valid call per WRITE tool (on Jane's data), used for the scoping and no-write checks.
WRITE_CALLS: dict[str, dict[str, Any]] = {
    "cancel_pending_order": {"order_id": JANE_PENDING, "reason": "no longer needed"},
    "modify_pending_order_address": {"order_id": JANE_PENDING, **ADDRESS_ARGS},
    "modify_pending_order_items": {
        "order_id": JANE_PENDING,
        "item_ids": ["2000000001"],
        "new_item_ids": ["2000000002"],
        "payment_method_id": "paypal_1",
    },
    "modify_pending_order_payment": {"order_id": JANE_PENDING, "payment_method_id": "paypal_1"},
    "modify_user_address": {"user_id": JANE, **ADDRESS_ARGS},
    "return_delivered_order_items": {
        "order_id": JANE_DELIVERED,
        "item_ids": ["2000000001"],
        "payment_method_id": "credit_card_1",
    },
    "exchange_delivered_order_items": {
        "order_id": JANE_DELIVERED,
        "item_ids": ["3000000001"],
        "new_item_ids": ["3000000002"],
        "payment_method_id": "credit_card_1",
    },
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate.build(make_shop(), tmp_path_factory.mktemp("shop") / "template.db")


@pytest.fixture
def store(template: SqliteTemplate, tmp_path: Path) -> Iterator[ShopStore]:
    with template.fresh_store(tmp_path / "shop.db") as fresh:
        yield fresh


def snapshot(store: ShopStore) -> dict[str, Any]:
    return store.export_data().to_tau2()


def jane() -> CustomerScope:
    return CustomerScope.customer(JANE)


# --- the registry -------------------------------------------------------------------------------


def test_registry_has_the_tau2_tools_tagged_read_or_write() -> None:
    specs = Toolkit(None).specs
    writes = {n for n, s in specs.items() if s.kind is ToolKind.WRITE}
    assert writes == set(WRITE_CALLS)
    assert set(specs) - writes == {
        "find_user_id_by_email",
        "find_user_id_by_name_zip",
        "get_user_details",
        "get_order_details",
        "get_product_details",
        "get_item_details",
        "list_all_product_types",
        "calculate",
        "transfer_to_human_agents",
        "search_help_center",
    }
    assert all(spec.description for spec in specs.values())


# --- identity and scoping -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "arguments"),
    [("get_user_details", {"user_id": JANE}), ("get_order_details", {"order_id": JANE_PENDING})]
    + list(WRITE_CALLS.items()),
)
def test_account_tools_refuse_before_authentication(
    store: ShopStore, name: str, arguments: dict[str, Any]
) -> None:
    before = snapshot(store)
    result = Toolkit(store).run(CustomerScope.customer(), name, arguments)
    assert not result.ok and result.error == NOT_AUTHENTICATED
    assert "authenticate first" in result.content.lower()
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("get_product_details", {"product_id": "1000000001"}, "T-Shirt"),
        ("get_item_details", {"item_id": "2000000002"}, {"size": "L", "color": "blue"}),
        ("list_all_product_types", {}, {"Running Shoes": "1000000002", "T-Shirt": "1000000001"}),
        ("calculate", {"expression": "(25.5 - 20) * 2"}, "11.0"),
        ("transfer_to_human_agents", {"summary": "wants a person"}, "Transfer successful"),
    ],
)
def test_open_tools_work_before_authentication(
    store: ShopStore, name: str, arguments: dict[str, Any], expected: Any
) -> None:
    result = Toolkit(store).run(CustomerScope.customer(), name, arguments)
    assert result.ok, result.error
    output = result.output
    got = (
        output.get("name")
        if name == "get_product_details"
        else output.get("options")
        if name == "get_item_details"
        else output
    )
    assert got == expected


def test_lookup_by_email_authenticates_the_customer_scope(store: ShopStore) -> None:
    scope = CustomerScope.customer()
    result = Toolkit(store).run(scope, "find_user_id_by_email", {"email": " JANE_DOE_1@example.com "})
    assert result.ok and result.output == JANE
    assert scope.user_id == JANE
    assert Toolkit(store).run(scope, "get_order_details", {"order_id": JANE_PENDING}).ok


def test_lookup_by_name_zip_authenticates_and_unknown_user_does_not(store: ShopStore) -> None:
    scope = CustomerScope.customer()
    missing = Toolkit(store).run(
        scope, "find_user_id_by_name_zip", {"first_name": "Jane", "last_name": "Doe", "zip": "00000"}
    )
    assert (missing.ok, missing.error, scope.user_id) == (False, "User not found", None)
    found = Toolkit(store).run(
        scope, "find_user_id_by_name_zip", {"first_name": "jane", "last_name": "DOE", "zip": "62701"}
    )
    assert found.output == JANE and scope.user_id == JANE


def test_agent_layer_may_authenticate_itself(store: ShopStore) -> None:
    scope = CustomerScope.customer()
    result = Toolkit(store).run(
        scope,
        "find_user_id_by_email",
        {"email": "jane_doe_1@example.com"},
        authenticate_on_lookup=False,
    )
    assert result.ok and scope.user_id is None
    scope.authenticate(result.output)
    assert scope.is_authenticated


def test_a_second_customer_cannot_take_over_the_conversation(store: ShopStore) -> None:
    scope = jane()
    result = Toolkit(store).run(scope, "find_user_id_by_email", {"email": "john_roe_2@example.com"})
    assert not result.ok and result.error == OTHER_CUSTOMER and result.output is None
    assert scope.user_id == JANE
    with pytest.raises(ToolError):
        scope.authenticate(JOHN)


def test_other_customers_order_looks_exactly_like_a_missing_one(store: ShopStore) -> None:
    others = Toolkit(store).run(jane(), "get_order_details", {"order_id": JOHN_PENDING})
    missing = Toolkit(store).run(jane(), "get_order_details", {"order_id": "#W9999999"})
    assert not others.ok and others.error == missing.error == "Order not found"
    assert others.model_dump(exclude={"name"}) == missing.model_dump(exclude={"name"})


def test_other_customers_user_looks_exactly_like_a_missing_one(store: ShopStore) -> None:
    others = Toolkit(store).run(jane(), "get_user_details", {"user_id": JOHN})
    missing = Toolkit(store).run(jane(), "get_user_details", {"user_id": "nobody_0"})
    assert others.error == missing.error == "User not found"


@pytest.mark.parametrize("name", sorted(WRITE_CALLS))
def test_writes_on_another_customers_data_are_refused_as_not_found(store: ShopStore, name: str) -> None:
    arguments = dict(WRITE_CALLS[name])
    if "order_id" in arguments:
        arguments["order_id"] = JOHN_PENDING
        expected = "Order not found"
    else:
        arguments["user_id"] = JOHN
        expected = "User not found"
    before = snapshot(store)
    result = Toolkit(store).run(jane(), name, arguments)
    assert not result.ok and result.error == expected
    assert snapshot(store) == before


def test_trusted_operator_bypasses_scoping(store: ShopStore) -> None:
    operator = CustomerScope.operator()
    assert Toolkit(store).run(operator, "get_order_details", {"order_id": JOHN_PENDING}).ok
    assert Toolkit(store).run(operator, "get_user_details", {"user_id": JOHN}).ok
    assert Toolkit(store).run(operator, "find_user_id_by_email", {"email": "jane_doe_1@example.com"}).ok
    assert operator.user_id is None  # a lookup does not bind the operator to a customer


# --- writes end to end ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(WRITE_CALLS))
def test_each_write_tool_persists_exactly_what_it_returns(store: ShopStore, name: str) -> None:
    before = snapshot(store)
    result = Toolkit(store).run(jane(), name, WRITE_CALLS[name])
    assert result.ok, result.error
    after = snapshot(store)
    if name == "modify_user_address":
        assert after["users"][JANE] == result.output and result.output["address"] == ADDRESS_ARGS
        changed_orders = []
    else:
        order_id = WRITE_CALLS[name]["order_id"]
        assert after["orders"][order_id] == result.output
        changed_orders = [order_id]
    assert [k for k in before["orders"] if before["orders"][k] != after["orders"][k]] == changed_orders
    assert after["products"] == before["products"]


def test_cancel_of_gift_card_order_refunds_the_balance_in_the_store(store: ShopStore) -> None:
    result = Toolkit(store).run(
        jane(), "cancel_pending_order", {"order_id": JANE_GIFT_PAID, "reason": "ordered by mistake"}
    )
    assert result.ok
    after = snapshot(store)
    assert after["orders"][JANE_GIFT_PAID]["status"] == "cancelled"
    assert after["orders"][JANE_GIFT_PAID]["cancel_reason"] == "ordered by mistake"
    assert after["orders"][JANE_GIFT_PAID]["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": 20.0,
        "payment_method_id": "gift_card_1",
    }
    assert after["users"][JANE]["payment_methods"]["gift_card_1"]["balance"] == 50.0


def test_modify_items_is_allowed_once_then_order_can_neither_change_nor_cancel(store: ShopStore) -> None:
    assert (
        Toolkit(store).run(jane(), "modify_pending_order_items", WRITE_CALLS["modify_pending_order_items"]).ok
    )
    order = snapshot(store)["orders"][JANE_PENDING]
    assert order["status"] == "pending (item modified)"
    assert order["payment_history"][-1] == {
        "transaction_type": "payment",
        "amount": 5.5,
        "payment_method_id": "paypal_1",
    }
    for name in ("modify_pending_order_items", "cancel_pending_order", "modify_pending_order_address"):
        again = Toolkit(store).run(jane(), name, WRITE_CALLS[name])
        assert not again.ok and "Non-pending" in (again.error or "")


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("cancel_pending_order", {"order_id": JANE_PROCESSED, "reason": "no longer needed"}, "Non-pending"),
        ("cancel_pending_order", {"order_id": JANE_PENDING, "reason": "too slow"}, "Invalid reason"),
        ("modify_pending_order_address", {"order_id": JANE_DELIVERED, **ADDRESS_ARGS}, "Non-pending"),
        (
            "modify_pending_order_payment",
            {"order_id": JANE_PENDING, "payment_method_id": "gift_card_1"},
            "Insufficient",
        ),
        (
            "modify_pending_order_payment",
            {"order_id": JANE_PENDING, "payment_method_id": "credit_card_1"},
            "different",
        ),
        (
            "modify_pending_order_items",
            {**WRITE_CALLS["modify_pending_order_items"], "new_item_ids": ["3000000002"]},
            "same product",
        ),
        (
            "modify_pending_order_items",
            {**WRITE_CALLS["modify_pending_order_items"], "new_item_ids": ["2000000003"]},
            "not available",
        ),
        (
            "return_delivered_order_items",
            {**WRITE_CALLS["return_delivered_order_items"], "payment_method_id": "paypal_1"},
            "original",
        ),
        (
            "return_delivered_order_items",
            {**WRITE_CALLS["return_delivered_order_items"], "order_id": JANE_PENDING},
            "Non-delivered",
        ),
        (
            "exchange_delivered_order_items",
            {**WRITE_CALLS["exchange_delivered_order_items"], "new_item_ids": ["3000000001"]},
            "should be different",
        ),
        (
            "exchange_delivered_order_items",
            {**WRITE_CALLS["exchange_delivered_order_items"], "item_ids": ["2000000009"]},
            "not found",
        ),
    ],
)
def test_refused_writes_leave_the_store_untouched(
    store: ShopStore, name: str, arguments: dict[str, Any], message: str
) -> None:
    before = snapshot(store)
    result = Toolkit(store).run(jane(), name, arguments)
    assert not result.ok and message in (result.error or "")
    assert result.content.startswith("Error: ")
    assert snapshot(store) == before


def test_a_tool_failing_after_writing_is_rolled_back(store: ShopStore) -> None:
    """The one-transaction-per-call guarantee itself: a write followed by an error leaves no trace."""

    def half_write(ctx: ToolContext, args: ToolArgs) -> None:
        order = ctx.order(JANE_PENDING)
        order.status = "cancelled"
        ctx.shop.save_order(order)
        raise ToolError("broken rule after the write")

    spec = ToolSpec("half_write", ToolKind.WRITE, "test", ToolArgs, half_write)
    before = snapshot(store)
    result = Toolkit(store, specs=[spec]).run(jane(), "half_write", {})
    assert (result.ok, result.error) == (False, "broken rule after the write")
    assert snapshot(store) == before


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("drop_tables", {}, "Unknown tool 'drop_tables'"),
        ("get_order_details", {}, "order_id: Field required"),
        (
            "get_order_details",
            {"order_id": JANE_PENDING, "debug": True},
            "debug: Extra inputs are not permitted",
        ),
        ("get_order_details", {"order_id": 12}, "order_id: Input should be a valid string"),
        ("get_order_details", {"order_id": "#W" + "1" * 500}, "at most 100 characters"),
        ("get_order_details", ["#W0000001"], "must be a JSON object"),
        (
            "return_delivered_order_items",
            {"order_id": JANE_DELIVERED, "item_ids": "2000000001", "payment_method_id": "credit_card_1"},
            "item_ids",
        ),
        (
            "return_delivered_order_items",
            {"order_id": JANE_DELIVERED, "item_ids": ["1"] * 51, "payment_method_id": "credit_card_1"},
            "at most 50 items",
        ),
        ("find_user_id_by_email", {"email": ""}, "at least 1 character"),
        ("calculate", {"expression": "__import__('os').system('true')"}, "only numbers"),
        ("calculate", {"expression": "2 ** 100000"}, "only numbers"),
        ("calculate", {"expression": "1 / 0"}, "division by zero"),
        ("calculate", {"expression": ""}, "empty"),
        ("calculate", {"expression": "1" * 301}, "at most 300 characters"),
    ],
)
def test_bad_input_gives_a_clear_error_never_a_crash(
    store: ShopStore, name: str, arguments: Any, message: str
) -> None:
    result = Toolkit(store).run(jane(), name, arguments)
    assert not result.ok
    assert message in (result.error or ""), result.error


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2623.69 - 1126.04", "1497.65"),
        ("652.61 + 473.43", "1126.04"),
        ("-(3 - 5) / 4", "0.5"),
        ("10 / 3", "3.33"),
        ("(" * 40 + "1" + ")" * 40, "1.0"),
    ],
)
def test_calculate_rounds_like_tau2(store: ShopStore, expression: str, expected: str) -> None:
    assert (
        Toolkit(store).run(CustomerScope.customer(), "calculate", {"expression": expression}).output
        == expected
    )


# --- outputs --------------------------------------------------------------------------------------


def test_list_all_product_types_content_is_tau2s_sorted_json(store: ShopStore) -> None:
    result = Toolkit(store).run(CustomerScope.customer(), "list_all_product_types", {})
    assert result.content == json.dumps(
        {"T-Shirt": "1000000001", "Running Shoes": "1000000002"}, sort_keys=True
    )


def test_transfer_is_recognisable_as_a_handover(store: ShopStore) -> None:
    result = Toolkit(store).run(CustomerScope.customer(), "transfer_to_human_agents", {"summary": "angry"})
    assert result.ok and result.handover and result.content == "Transfer successful"
    assert not Toolkit(store).run(jane(), "get_order_details", {"order_id": JANE_PENDING}).handover


def test_unknown_ids_give_tau2_errors(store: ShopStore) -> None:
    scope = jane()
    assert (
        Toolkit(store).run(scope, "get_product_details", {"product_id": "2000000001"}).error
        == "Product not found"
    )
    assert Toolkit(store).run(scope, "get_item_details", {"item_id": "1000000001"}).error == "Item not found"
    assert (
        Toolkit(store).run(scope, "find_user_id_by_email", {"email": "x@example.com"}).content
        == "Error: User not found"
    )


def test_search_help_center_without_an_index_says_so(store: ShopStore) -> None:
    result = Toolkit(store).run(CustomerScope.customer(), "search_help_center", {"query": "refund"})
    assert not result.ok and "unavailable" in (result.error or "")
