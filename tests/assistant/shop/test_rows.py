"""Models to rows and back without a database: every value, unknown key, explicit null and absent field
survives, lists keep their order, and keys that disagree with ids are refused."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from assistant.shop import rows
from assistant.shop.schema import ShopData
from assistant.shop.validation import ShopDataError, validate_shop_data
from tests.assistant.shop.conftest import LOSSLESS_SHOP


def _shuffled(table_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as a database may return them: in any order (the position column restores it)."""
    out = list(table_rows)
    random.Random(3).shuffle(out)
    return out


def _round_trip(data: ShopData) -> dict[str, Any]:
    products = {}
    for position, product in enumerate(data.products.values()):
        row, variants = rows.product_rows(product, position)
        products[product.product_id] = rows.product_from_rows(row, _shuffled(variants))
    users = {}
    for position, user in enumerate(data.users.values()):
        row, methods = rows.user_rows(user, position)
        users[user.user_id] = rows.user_from_rows(row, _shuffled(methods))
    orders = {}
    for position, order in enumerate(data.orders.values()):
        row, items, fulfillments, payments = rows.order_rows(order, position)
        shuffled = _shuffled(items), fulfillments, _shuffled(payments)
        orders[order.order_id] = rows.order_from_rows(row, *shuffled)
    return ShopData(products=products, users=users, orders=orders).to_tau2()


def test_the_hand_written_shop_survives_rows() -> None:
    assert _round_trip(validate_shop_data(copy.deepcopy(LOSSLESS_SHOP))) == LOSSLESS_SHOP


def test_the_sample_shop_survives_rows(small_shop: ShopData) -> None:
    assert _round_trip(small_shop) == small_shop.to_tau2()


def test_extra_records_what_columns_cannot_hold() -> None:
    data = validate_shop_data(copy.deepcopy(LOSSLESS_SHOP))
    user_row, method_rows = rows.user_rows(data.users["ann_lee_1234"], 0)
    assert user_row["extra"] == {
        ".": {"vip": True},
        "name": {"middle": "Q"},
        "address": {"note": "ring twice"},
    }
    credit_card = next(row for row in method_rows if row["source"] == "credit_card")
    assert credit_card["extra"]["null"] == ["brand"]  # an explicit null, not a missing brand
    order_row, *_ = rows.order_rows(data.orders["#W1234567"], 5)
    assert order_row["position"] == 5 and order_row["extra"]["null"] == ["cancel_reason"]


def test_keys_that_are_not_ids_are_refused() -> None:
    data = validate_shop_data(copy.deepcopy(LOSSLESS_SHOP))
    product = data.products["1000000001"]
    product.variants["9999999999"] = product.variants["2000000001"]
    with pytest.raises(ShopDataError, match="variant key '9999999999' differs from its item_id"):
        rows.product_rows(product, 0)
    user = data.users["ann_lee_1234"]
    user.payment_methods["paypal_1"] = user.payment_methods["gift_card_1234567"]
    with pytest.raises(ShopDataError, match="payment method key 'paypal_1' differs from its id"):
        rows.user_rows(user, 0)
