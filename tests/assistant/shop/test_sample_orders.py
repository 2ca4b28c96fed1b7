"""How a sample order is written: totals, refunds of cancelled orders, fulfilments once shipped."""

from __future__ import annotations

import pytest

from assistant.shop.catalogue import build_catalogue, find_variant
from assistant.shop.sample_orders import order_item, sample_order
from assistant.shop.schema import Address, OrderItem

ADDRESS = Address(address1="1 Oak Court", address2="", city="Boise", country="USA", state="ID", zip="83001")


@pytest.fixture(scope="module")
def items() -> list[OrderItem]:
    products = build_catalogue()
    return [
        order_item(*find_variant(products, "Desk Lamp", {"color": "brass"})),
        order_item(*find_variant(products, "Cast Iron Skillet", {"size": "12-inch"})),
    ]


def test_order_item_copies_the_variant_as_sold() -> None:
    product, variant = find_variant(build_catalogue(), "Desk Lamp", {"color": "brass"})
    item = order_item(product, variant)
    assert (item.name, item.product_id, item.item_id, item.price) == (
        "Desk Lamp",
        product.product_id,
        variant.item_id,
        variant.price,
    )
    item.options["color"] = "changed"
    assert variant.options["color"] == "brass"  # the order keeps its own copy


def test_a_pending_order_is_paid_and_not_shipped(items: list[OrderItem]) -> None:
    order = sample_order("#W0000001", "u_1", ADDRESS, items, "pending", "paypal_1", None)
    total = round(sum(item.price for item in items), 2)
    assert [(p.transaction_type, p.amount) for p in order.payment_history] == [("payment", total)]
    assert order.fulfillments == [] and "cancel_reason" not in order.to_tau2()


def test_a_cancelled_order_is_refunded_in_full_with_its_reason(items: list[OrderItem]) -> None:
    order = sample_order(
        "#W0000002", "u_1", ADDRESS, items, "cancelled", "gift_card_1", None, "no longer needed"
    )
    assert [p.transaction_type for p in order.payment_history] == ["payment", "refund"]
    assert {p.amount for p in order.payment_history} == {round(sum(i.price for i in items), 2)}
    assert order.to_tau2()["cancel_reason"] == "no longer needed"


@pytest.mark.parametrize("status", ["processed", "delivered"])
def test_a_shipped_order_has_one_fulfilment_of_all_items(items: list[OrderItem], status: str) -> None:
    order = sample_order("#W0000003", "u_1", ADDRESS, items, status, "paypal_1", "123456789012")
    assert [(f.tracking_id, f.item_ids) for f in order.fulfillments] == [
        (["123456789012"], [item.item_id for item in items])
    ]
    assert sample_order("#W0000004", "u_1", ADDRESS, items, status, "paypal_1", None).fulfillments == []
