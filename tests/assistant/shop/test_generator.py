"""The Maple & Moss generator: deterministic, internally consistent, τ²-shaped ids, fixed demo customers."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import pytest

from assistant.shop import demo, generator
from assistant.shop.generator import ORDER_STATUSES, generate_shop
from assistant.shop.schema import ShopData
from assistant.shop.tau2_io import write_tau2


@pytest.fixture(scope="module")
def shop() -> ShopData:
    return generate_shop()


def test_same_seed_same_shop(shop: ShopData) -> None:
    assert generate_shop(seed=7).to_tau2() == shop.to_tau2()


def test_other_seed_other_customers_same_catalogue(shop: ShopData) -> None:
    other = generate_shop(seed=8)
    assert other.to_tau2()["products"] == shop.to_tau2()["products"]
    assert set(other.orders) != set(shop.orders)


def test_sizes(shop: ShopData) -> None:
    assert len(shop.users) == 300
    assert len(shop.orders) == 600
    assert 20 <= len(shop.products) <= 30
    small = generate_shop(seed=3, users=len(demo.DEMO_USER_IDS), orders=len(demo.DEMO_ORDER_IDS))
    assert set(small.users) == set(demo.DEMO_USER_IDS)
    assert set(small.orders) == set(demo.DEMO_ORDER_IDS)


@pytest.mark.parametrize(("users", "orders"), [(1, 600), (300, 2), (-5, 10), (10**9, 600), (300, 10**9)])
def test_out_of_range_sizes_are_refused(users: int, orders: int) -> None:
    with pytest.raises(ValueError, match="must be between"):
        generate_shop(users=users, orders=orders)


def test_catalogue_has_variants_prices_and_sold_out_items(shop: ShopData) -> None:
    names = {p.name for p in shop.products.values()}
    assert {"Trail Backpack", "Insulated Water Bottle", "Cast Iron Skillet", "Linen Duvet Cover"} <= names
    variants = [v for p in shop.products.values() for v in p.variants.values()]
    assert all(len(p.variants) >= 3 for p in shop.products.values())
    assert all(v.price > 0 and round(v.price, 2) == v.price for v in variants)
    assert any(not v.available for v in variants) and any(v.available for v in variants)
    for product in shop.products.values():
        assert len({tuple(sorted(v.options.items())) for v in product.variants.values()}) == len(
            product.variants
        )


def test_ids_have_tau2_formats_and_are_unique(shop: ShopData) -> None:
    product_ids = list(shop.products)
    item_ids = [i for p in shop.products.values() for i in p.variants]
    assert all(re.fullmatch(r"\d{10}", i) for i in product_ids + item_ids)
    assert len(set(product_ids + item_ids)) == len(product_ids) + len(item_ids)
    assert all(re.fullmatch(r"#W\d{7}", o) for o in shop.orders)
    assert all(re.fullmatch(r"[a-z]+_[a-z]+_\d{4}", u) for u in shop.users)
    method_ids = [m for u in shop.users.values() for m in u.payment_methods]
    assert all(re.fullmatch(r"(credit_card|gift_card|paypal)_\d{7}", m) for m in method_ids)
    assert len(set(method_ids)) == len(method_ids)
    emails = [u.email for u in shop.users.values()]
    assert len(set(emails)) == len(emails) and all(e.endswith("@example.com") for e in emails)
    tracking = [t for o in shop.orders.values() for f in o.fulfillments for t in f.tracking_id]
    assert len(set(tracking)) == len(tracking)


def test_payment_methods(shop: ShopData) -> None:
    methods = [m for u in shop.users.values() for m in u.payment_methods.values()]
    assert {m.source for m in methods} == {"credit_card", "paypal", "gift_card"}
    for method in methods:
        assert method.id.startswith(method.source + "_")
        if method.source == "credit_card":
            assert method.brand and method.last_four and re.fullmatch(r"\d{4}", method.last_four)
        if method.source == "gift_card":
            assert method.balance is not None and method.balance >= 0


def test_orders_are_consistent(shop: ShopData) -> None:
    assert set(Counter(o.status for o in shop.orders.values())) == set(ORDER_STATUSES)
    for order in shop.orders.values():
        user = shop.users[order.user_id]  # every order's user exists
        assert order.order_id in user.orders
        assert order.items
        for item in order.items:
            variant = shop.products[item.product_id].variants[item.item_id]
            assert (item.price, item.options, item.name) == (
                variant.price,
                variant.options,
                shop.products[item.product_id].name,
            )
        total = round(sum(item.price for item in order.items), 2)
        payments = [p for p in order.payment_history if p.transaction_type == "payment"]
        assert [p.amount for p in payments] == [total]
        assert all(p.payment_method_id in user.payment_methods for p in order.payment_history)
        refunds = [p for p in order.payment_history if p.transaction_type == "refund"]
        if order.status == "cancelled":
            assert [r.amount for r in refunds] == [total] and order.cancel_reason in generator.CANCEL_REASONS
        else:
            assert refunds == [] and order.cancel_reason is None
        if order.status in ("processed", "delivered"):
            assert [f.item_ids for f in order.fulfillments] == [[i.item_id for i in order.items]]
            assert all(re.fullmatch(r"\d{12}", t) for f in order.fulfillments for t in f.tracking_id)
        else:
            assert order.fulfillments == []
    listed = [o for u in shop.users.values() for o in u.orders]
    assert sorted(listed) == sorted(shop.orders)


def test_some_customers_live_in_france_and_the_netherlands(shop: ShopData) -> None:
    countries = Counter(u.address.country for u in shop.users.values())
    assert countries["France"] >= 3 and countries["Netherlands"] >= 3 and countries["USA"] > 200


def test_demo_customer(shop: ShopData) -> None:
    emma = shop.users[demo.DEMO_USER_ID]
    assert emma.email == demo.DEMO_USER_EMAIL and emma.address.zip == demo.DEMO_USER_ZIP
    statuses = {shop.orders[o].status: o for o in emma.orders}
    assert statuses == {
        "pending": demo.DEMO_PENDING_ORDER_ID,
        "delivered": demo.DEMO_DELIVERED_ORDER_ID,
        "processed": demo.DEMO_PROCESSED_ORDER_ID,
    }
    bottle = shop.orders[demo.DEMO_DELIVERED_ORDER_ID].items[0]
    assert bottle.name == "Insulated Water Bottle" and bottle.options == {
        "color": "blue",
        "capacity": "750ml",
    }
    assert generate_shop(seed=99, users=20, orders=30).users[demo.DEMO_USER_ID] == emma


def test_cancelled_reason_is_written_in_tau2_json(shop: ShopData) -> None:
    cancelled = next(o for o in shop.orders.values() if o.status == "cancelled")
    assert cancelled.to_tau2()["cancel_reason"] in generator.CANCEL_REASONS
    pending = shop.orders[demo.DEMO_PENDING_ORDER_ID].to_tau2()
    assert "cancel_reason" not in pending


# The db.json that `parley generate-shop` writes for the default arguments (seed 7, 300 users, 600 orders)
# and for a smaller other seed, byte for byte: moving the catalogue or the code must not change a byte.
PINNED_DB_SHA256 = {
    (7, 300, 600): "39f08b0d0a3a62b74ef80d317d79c0207fa35185470df16b6e4e98a0dc86d18d",
    (8, 40, 90): "56c311ca6449a340d6cf78391ee116f0417eee30d8856d3f3bc13744dbdeed9b",
}


@pytest.mark.parametrize(("seed", "users", "orders"), sorted(PINNED_DB_SHA256))
def test_generated_db_is_byte_identical(seed: int, users: int, orders: int, tmp_path: Path) -> None:
    path = tmp_path / "db.json"
    write_tau2(generate_shop(seed=seed, users=users, orders=orders), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == PINNED_DB_SHA256[(seed, users, orders)]
