"""Every rule of every WRITE action, allowed and refused; a refused plan never touches its inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assistant.shop.schema import Order, PaymentTransaction
from assistant.tools import policies as p
from assistant.tools.policies import PolicyViolation
from tests.assistant.tools.shop_factory import NEW_ADDRESS, PRODUCTS, make_order, make_user


def refused(plan: Callable[..., Any], *inputs: Any, match: str, **kwargs: Any) -> None:
    """The plan raises PolicyViolation with `match` in its message and leaves every input as it was."""
    before = [x.model_dump() if hasattr(x, "model_dump") else x for x in inputs]
    with pytest.raises(PolicyViolation, match=match):
        plan(*inputs, **kwargs)
    after = [x.model_dump() if hasattr(x, "model_dump") else x for x in inputs]
    assert after == before


# --- cancel -------------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", sorted(p.CANCEL_REASONS))
def test_cancel_pending_order_refunds_card_and_sets_reason(reason: str) -> None:
    order, user = make_order(), make_user()
    new_order, new_user = p.plan_cancel(order, user, reason)
    assert new_order.status == "cancelled" and new_order.cancel_reason == reason
    assert new_order.payment_history[-1] == PaymentTransaction(
        transaction_type="refund", amount=140.0, payment_method_id="credit_card_1"
    )
    assert new_user == user  # a card refund takes days; no balance here
    assert order.status == "pending" and len(order.payment_history) == 1  # input untouched


def test_cancel_refunds_gift_card_balance_immediately() -> None:
    order, user = make_order(paid_with="gift_card_1", item_ids=("2000000002",)), make_user(gift_balance=4.5)
    _, new_user = p.plan_cancel(order, user, "ordered by mistake")
    assert new_user.payment_methods["gift_card_1"].balance == 30.0


def test_cancel_refunds_net_per_method_after_a_payment_change() -> None:
    order, user = make_order(item_ids=("2000000001",)), make_user(gift_balance=50.0)
    changed, user = p.plan_modify_payment(order, user, "gift_card_1")
    assert user.payment_methods["gift_card_1"].balance == 30.0
    cancelled, user = p.plan_cancel(changed, user, "no longer needed")
    # The card was already refunded by the payment change; only the gift card gets money back.
    assert cancelled.payment_history[3:] == [
        PaymentTransaction(transaction_type="refund", amount=20.0, payment_method_id="gift_card_1")
    ]
    assert user.payment_methods["gift_card_1"].balance == 50.0


@pytest.mark.parametrize("status", ["processed", "delivered", "cancelled", "pending (item modified)"])
def test_cancel_refuses_non_pending_order(status: str) -> None:
    refused(p.plan_cancel, make_order(status=status), make_user(), "no longer needed", match="Non-pending")


@pytest.mark.parametrize("reason", ["changed my mind", "", "No longer needed"])
def test_cancel_refuses_other_reasons(reason: str) -> None:
    refused(p.plan_cancel, make_order(), make_user(), reason, match="Invalid reason")


# --- modify address -----------------------------------------------------------------------------


def test_modify_pending_order_address() -> None:
    order = make_order()
    new_order = p.plan_modify_address(order, NEW_ADDRESS)
    assert new_order.address == NEW_ADDRESS and new_order.status == "pending"
    assert order.address != NEW_ADDRESS


@pytest.mark.parametrize("status", ["processed", "delivered", "pending (item modified)", "cancelled"])
def test_modify_address_refuses_non_pending(status: str) -> None:
    refused(p.plan_modify_address, make_order(status=status), NEW_ADDRESS, match="Non-pending")


def test_modify_user_address_changes_default_address_only() -> None:
    user = make_user()
    new_user = p.plan_modify_user_address(user, NEW_ADDRESS)
    assert new_user.address == NEW_ADDRESS
    assert new_user.model_dump(exclude={"address"}) == user.model_dump(exclude={"address"})
    assert user.address != NEW_ADDRESS


# --- modify items -------------------------------------------------------------------------------


def test_modify_items_charges_difference_and_updates_each_item_with_its_own_variant() -> None:
    order, user = make_order(), make_user()
    new_order, _ = p.plan_modify_items(
        order,
        user,
        PRODUCTS,
        p.ItemChange(["2000000001", "3000000001"], ["2000000002", "3000000002"], "credit_card_1"),
    )
    assert new_order.status == "pending (item modified)"
    assert [(i.item_id, i.price, i.options) for i in new_order.items] == [
        ("2000000002", 25.5, {"size": "L", "color": "blue"}),
        ("2000000001", 20.0, {"size": "M", "color": "blue"}),
        ("3000000002", 110.0, {"size": "10"}),
    ]
    assert new_order.payment_history[-1] == PaymentTransaction(
        transaction_type="payment", amount=15.5, payment_method_id="credit_card_1"
    )


def test_modify_items_handles_duplicates_by_count() -> None:
    order, user = make_order(), make_user()
    new_order, _ = p.plan_modify_items(
        order,
        user,
        PRODUCTS,
        p.ItemChange(["2000000001", "2000000001"], ["2000000002", "2000000004"], "paypal_1"),
    )
    assert [i.item_id for i in new_order.items] == ["2000000002", "2000000004", "3000000001"]
    # 25.5 + 15.25 - 2 * 20 = 0.75, paid by PayPal
    assert new_order.payment_history[-1].model_dump() == {
        "transaction_type": "payment",
        "amount": 0.75,
        "payment_method_id": "paypal_1",
    }


def test_modify_items_refund_goes_to_gift_card_balance() -> None:
    order, user = make_order(), make_user(gift_balance=1.0)
    new_order, new_user = p.plan_modify_items(
        order, user, PRODUCTS, p.ItemChange(["2000000001"], ["2000000004"], "gift_card_1")
    )
    assert new_order.payment_history[-1].model_dump() == {
        "transaction_type": "refund",
        "amount": 4.75,
        "payment_method_id": "gift_card_1",
    }
    assert new_user.payment_methods["gift_card_1"].balance == 5.75
    assert user.payment_methods["gift_card_1"].balance == 1.0


def test_modify_items_gift_card_pays_difference_when_balance_covers_it() -> None:
    order, user = make_order(), make_user(gift_balance=5.5)
    _, new_user = p.plan_modify_items(
        order, user, PRODUCTS, p.ItemChange(["2000000001"], ["2000000002"], "gift_card_1")
    )
    assert new_user.payment_methods["gift_card_1"].balance == 0.0


def test_modify_items_refuses_gift_card_without_enough_balance() -> None:
    refused(
        p.plan_modify_items,
        make_order(),
        make_user(gift_balance=5.49),
        PRODUCTS,
        p.ItemChange(["2000000001"], ["2000000002"], "gift_card_1"),
        match="Insufficient gift card balance",
    )


@pytest.mark.parametrize("status", ["pending (item modified)", "processed", "delivered"])
def test_modify_items_needs_status_exactly_pending(status: str) -> None:
    refused(
        p.plan_modify_items,
        make_order(status=status),
        make_user(),
        PRODUCTS,
        p.ItemChange(["2000000001"], ["2000000002"], "credit_card_1"),
        match="Non-pending",
    )


@pytest.mark.parametrize(
    ("item_ids", "new_item_ids", "match"),
    [
        (["2000000009"], ["2000000002"], "not found in order"),
        (["3000000001", "3000000001"], ["3000000002", "3000000002"], "appears 1 time"),
        ([], [], "No item ids"),
        (["2000000001"], ["2000000002", "2000000004"], "number of new items"),
        (["2000000001"], ["2000000001"], "should be different"),
        (["2000000001"], ["3000000002"], "not a variant of the same product"),
        (["2000000001"], ["2000000003"], "not available"),
    ],
)
def test_modify_items_refuses_bad_item_lists(
    item_ids: list[str], new_item_ids: list[str], match: str
) -> None:
    refused(
        p.plan_modify_items,
        make_order(),
        make_user(),
        PRODUCTS,
        p.ItemChange(item_ids, new_item_ids, "credit_card_1"),
        match=match,
    )


def test_modify_items_refuses_a_payment_method_of_someone_else() -> None:
    refused(
        p.plan_modify_items,
        make_order(),
        make_user(),
        PRODUCTS,
        p.ItemChange(["2000000001"], ["2000000002"], "credit_card_9"),
        match="Payment method credit_card_9 not found",
    )


# --- modify payment -----------------------------------------------------------------------------


def test_modify_payment_to_gift_card_charges_it_and_refunds_the_card() -> None:
    order, user = make_order(item_ids=("2000000001",)), make_user(gift_balance=20.0)
    new_order, new_user = p.plan_modify_payment(order, user, "gift_card_1")
    assert new_order.status == "pending"
    assert [t.model_dump() for t in new_order.payment_history[1:]] == [
        {"transaction_type": "payment", "amount": 20.0, "payment_method_id": "gift_card_1"},
        {"transaction_type": "refund", "amount": 20.0, "payment_method_id": "credit_card_1"},
    ]
    assert new_user.payment_methods["gift_card_1"].balance == 0.0


def test_modify_payment_from_gift_card_refunds_its_balance() -> None:
    order, user = make_order(paid_with="gift_card_1", item_ids=("2000000001",)), make_user(gift_balance=1.0)
    _, new_user = p.plan_modify_payment(order, user, "paypal_1")
    assert new_user.payment_methods["gift_card_1"].balance == 21.0


def test_modify_payment_refuses_insufficient_gift_card() -> None:
    refused(
        p.plan_modify_payment,
        make_order(),
        make_user(gift_balance=139.99),
        "gift_card_1",
        match="Insufficient",
    )


def test_modify_payment_refuses_same_method() -> None:
    refused(p.plan_modify_payment, make_order(), make_user(), "credit_card_1", match="should be different")


def test_modify_payment_refuses_unknown_method() -> None:
    refused(p.plan_modify_payment, make_order(), make_user(), "paypal_9", match="not found")


def test_modify_payment_refuses_a_second_change() -> None:
    order, user = p.plan_modify_payment(make_order(), make_user(), "paypal_1")
    refused(p.plan_modify_payment, order, user, "credit_card_1", match="exactly one payment")


@pytest.mark.parametrize("status", ["processed", "delivered", "pending (item modified)"])
def test_modify_payment_refuses_non_pending(status: str) -> None:
    refused(p.plan_modify_payment, make_order(status=status), make_user(), "paypal_1", match="Non-pending")


# --- return -------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["credit_card_1", "gift_card_1"])
def test_return_to_original_method_or_gift_card(method: str) -> None:
    order = make_order(status="delivered")
    new_order = p.plan_return(order, make_user(), ["3000000001", "2000000001"], method)
    assert new_order.status == "return requested"
    assert new_order.return_items == ["2000000001", "3000000001"]
    assert new_order.return_payment_method_id == method
    assert order.status == "delivered" and order.return_items is None


def test_return_refuses_other_non_gift_card_method() -> None:
    refused(
        p.plan_return,
        make_order(status="delivered"),
        make_user(),
        ["2000000001"],
        "paypal_1",
        match="original",
    )


def test_return_refuses_unknown_method() -> None:
    refused(
        p.plan_return,
        make_order(status="delivered"),
        make_user(),
        ["2000000001"],
        "gift_card_9",
        match="not found",
    )


@pytest.mark.parametrize("status", ["pending", "processed", "return requested", "exchange requested"])
def test_return_refuses_non_delivered(status: str) -> None:
    refused(
        p.plan_return,
        make_order(status=status),
        make_user(),
        ["2000000001"],
        "credit_card_1",
        match="Non-delivered",
    )


@pytest.mark.parametrize(
    ("item_ids", "match"),
    [(["3000000002"], "not found"), ([], "No item ids"), (["3000000001"] * 2, "appears 1 time")],
)
def test_return_refuses_items_not_in_order(item_ids: list[str], match: str) -> None:
    refused(
        p.plan_return, make_order(status="delivered"), make_user(), item_ids, "credit_card_1", match=match
    )


# --- exchange -----------------------------------------------------------------------------------


def test_exchange_records_sorted_items_and_price_difference() -> None:
    order = make_order(status="delivered")
    new_order = p.plan_exchange(
        order,
        make_user(),
        PRODUCTS,
        p.ItemChange(["3000000001", "2000000001"], ["3000000002", "2000000004"], "paypal_1"),
    )
    assert new_order.status == "exchange requested"
    assert new_order.exchange_items == ["2000000001", "3000000001"]
    assert new_order.exchange_new_items == ["2000000004", "3000000002"]
    assert new_order.exchange_payment_method_id == "paypal_1"
    assert new_order.exchange_price_difference == 5.25  # +10 - 4.75
    assert new_order.items == order.items and new_order.payment_history == order.payment_history


def test_exchange_gift_card_must_cover_a_positive_difference_but_is_not_charged_yet() -> None:
    user = make_user(gift_balance=10.0)
    new_order = p.plan_exchange(
        make_order(status="delivered"),
        user,
        PRODUCTS,
        p.ItemChange(["3000000001"], ["3000000002"], "gift_card_1"),
    )
    assert new_order.exchange_price_difference == 10.0
    refused(
        p.plan_exchange,
        make_order(status="delivered"),
        make_user(gift_balance=9.99),
        PRODUCTS,
        p.ItemChange(["3000000001"], ["3000000002"], "gift_card_1"),
        match="Insufficient gift card balance",
    )


@pytest.mark.parametrize("status", ["pending", "processed", "cancelled", "return requested"])
def test_exchange_refuses_non_delivered(status: str) -> None:
    refused(
        p.plan_exchange,
        make_order(status=status),
        make_user(),
        PRODUCTS,
        p.ItemChange(["2000000001"], ["2000000002"], "credit_card_1"),
        match="Non-delivered",
    )


@pytest.mark.parametrize(
    ("item_ids", "new_item_ids", "match"),
    [
        (["2000000009"], ["2000000002"], "not found in order"),
        (["2000000001"], ["3000000001"], "not a variant of the same product"),
        (["2000000001"], ["2000000003"], "not available"),
        (["2000000001"], ["2000000001"], "should be different"),
        (["2000000001", "3000000001"], ["2000000002"], "number of new items"),
    ],
)
def test_exchange_refuses_bad_item_lists(item_ids: list[str], new_item_ids: list[str], match: str) -> None:
    refused(
        p.plan_exchange,
        make_order(status="delivered"),
        make_user(),
        PRODUCTS,
        p.ItemChange(item_ids, new_item_ids, "credit_card_1"),
        match=match,
    )


def test_exchange_refuses_unknown_payment_method() -> None:
    refused(
        p.plan_exchange,
        make_order(status="delivered"),
        make_user(),
        PRODUCTS,
        p.ItemChange(["2000000001"], ["2000000002"], "paypal_7"),
        match="not found",
    )


# --- small helpers ------------------------------------------------------------------------------


def test_net_paid_by_method_and_cents() -> None:
    order: Order = make_order(item_ids=("2000000001",))
    order.payment_history.append(
        PaymentTransaction(transaction_type="refund", amount=0.1, payment_method_id="credit_card_1")
    )
    assert p.net_paid_by_method(order) == {"credit_card_1": 19.9}
    assert p.to_cents(0.1 + 0.2) == 0.3


def test_claim_order_items_claims_each_copy_once() -> None:
    assert p.claim_order_items(make_order(), ["2000000001", "3000000001", "2000000001"]) == [0, 2, 1]
