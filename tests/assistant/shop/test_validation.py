"""Whether shop data can be stored: readable parse errors, consistent keys and ids, known order owners."""

from __future__ import annotations

import pytest

from assistant.shop.demo import DEMO_PENDING_ORDER_ID, DEMO_USER_ID
from assistant.shop.schema import ShopData
from assistant.shop.validation import (
    ShopDataError,
    check_consistency,
    check_order_owners,
    validate_shop_data,
)
from tests.assistant.shop.conftest import copy_shop


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "expected a JSON object"),
        ({"products": {}, "users": {}}, "missing top-level key"),
        ({"products": {}, "users": {}, "orders": {"#W1": {"order_id": "#W1"}}}, r"orders\.#W1\.user_id"),
        (
            {
                "products": {"1": {"name": "x", "product_id": "1", "variants": {"2": {"price": "cheap"}}}},
                "users": {},
                "orders": {},
            },
            "products.1.variants.2",
        ),
    ],
)
def test_validate_shop_data_names_the_problem(raw: object, message: str) -> None:
    with pytest.raises(ShopDataError, match=message):
        validate_shop_data(raw)


def test_more_than_five_problems_are_counted_not_listed() -> None:
    users = {f"u{i}": {"user_id": f"u{i}"} for i in range(3)}  # each misses name, address, e-mail, methods
    with pytest.raises(ShopDataError, match=r"\(and \d+ more\)") as refused:
        validate_shop_data({"products": {}, "users": users, "orders": {}})
    assert str(refused.value).count(";") == 4  # five problems named


def test_consistent_data_passes(small_shop: ShopData) -> None:
    check_consistency(small_shop)
    check_order_owners(small_shop)


def test_a_key_that_is_not_the_id_is_refused(small_shop: ShopData) -> None:
    data = copy_shop(small_shop)
    data.orders["#W0000000"] = data.orders.pop(DEMO_PENDING_ORDER_ID)
    with pytest.raises(ShopDataError, match="order key '#W0000000' differs from its order_id"):
        check_consistency(data)


def test_an_item_id_in_two_products_is_refused(small_shop: ShopData) -> None:
    data = copy_shop(small_shop)
    first, second = list(data.products.values())[:2]
    item_id, variant = next(iter(first.variants.items()))
    second.variants[item_id] = variant
    with pytest.raises(ShopDataError, match=f"item id {item_id} appears in products"):
        check_consistency(data)


def test_an_order_of_a_user_not_in_the_data_is_refused(small_shop: ShopData) -> None:
    data = copy_shop(small_shop)
    del data.users[DEMO_USER_ID]
    with pytest.raises(ShopDataError, match=f"user '{DEMO_USER_ID}' is not in the data"):
        check_order_owners(data)
