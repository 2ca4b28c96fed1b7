"""ShopSession on real SQLite and PostgreSQL: lookups, gets, upserts that keep positions and order lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.shop.demo import (
    DEMO_DELIVERED_ORDER_ID,
    DEMO_GIFT_CARD_ID,
    DEMO_PENDING_ORDER_ID,
    DEMO_PROCESSED_ORDER_ID,
    DEMO_SECOND_USER_ID,
    DEMO_USER_EMAIL,
    DEMO_USER_FIRST_NAME,
    DEMO_USER_ID,
    DEMO_USER_LAST_NAME,
    DEMO_USER_ZIP,
)
from assistant.shop.models import UserRow
from assistant.shop.schema import Order, PaymentTransaction, ShopData, User
from assistant.shop.store import ShopDataError, ShopStore


def test_find_user_by_email_ignores_case_and_spaces(store: ShopStore) -> None:
    with store.transaction() as shop:
        assert shop.find_user_ids_by_email(DEMO_USER_EMAIL) == [DEMO_USER_ID]
        assert shop.find_user_ids_by_email("  " + DEMO_USER_EMAIL.upper() + " ") == [DEMO_USER_ID]
        assert shop.find_user_ids_by_email("emma.laurent@example.org") == []
        assert shop.find_user_ids_by_email("") == []
        # Exact match only: a prefix or a LIKE wildcard must not find anyone.
        assert shop.find_user_ids_by_email("emma.laurent@") == []
        assert shop.find_user_ids_by_email("%@example.com") == []


def test_find_user_by_name_and_zip_ignores_case(store: ShopStore) -> None:
    with store.transaction() as shop:
        assert shop.find_user_ids_by_name_zip(DEMO_USER_FIRST_NAME, DEMO_USER_LAST_NAME, DEMO_USER_ZIP) == [
            DEMO_USER_ID
        ]
        assert shop.find_user_ids_by_name_zip("EMMA", "laurent", f" {DEMO_USER_ZIP} ") == [DEMO_USER_ID]
        assert shop.find_user_ids_by_name_zip("Emma", "Laurent", "00000") == []
        assert shop.find_user_ids_by_name_zip("Emma", "Martin", DEMO_USER_ZIP) == []
        # A Dutch zip has letters: typed in lower case it still matches.
        assert shop.find_user_ids_by_name_zip("lucas", "DE VRIES", "1012 ab") == [DEMO_SECOND_USER_ID]
        assert shop.find_user_ids_by_name_zip("", "", "") == []


def test_orders_of_user_in_the_users_order(store: ShopStore) -> None:
    with store.transaction() as shop:
        orders = shop.orders_of_user(DEMO_USER_ID)
        assert [o.order_id for o in orders] == [
            DEMO_PENDING_ORDER_ID,
            DEMO_DELIVERED_ORDER_ID,
            DEMO_PROCESSED_ORDER_ID,
        ]
        assert [o.status for o in orders] == ["pending", "delivered", "processed"]
        assert all(o.user_id == DEMO_USER_ID for o in orders)
        assert shop.orders_of_user("nobody_0000") == []


def test_gets_return_models_or_none(store: ShopStore, small_shop: ShopData) -> None:
    order = small_shop.orders[DEMO_DELIVERED_ORDER_ID]
    item = order.items[0]
    with store.transaction() as shop:
        assert shop.get_order(DEMO_DELIVERED_ORDER_ID) == order
        assert shop.get_user(DEMO_USER_ID) == small_shop.users[DEMO_USER_ID]
        product = shop.get_product_by_item_id(item.item_id)
        assert product is not None and product.product_id == item.product_id
        assert product == shop.get_product(item.product_id) == small_shop.products[item.product_id]
        assert [p.product_id for p in shop.list_products()] == list(small_shop.products)
        assert shop.get_order("#W0000000") is None
        assert shop.get_user("nobody_0000") is None
        assert shop.get_product("0") is None
        assert shop.get_product_by_item_id("0") is None


def test_save_order_keeps_action_fields_and_item_order(store: ShopStore) -> None:
    with store.transaction() as shop:
        order = shop.get_order(DEMO_DELIVERED_ORDER_ID)
        assert order is not None
        first, second = order.items
        order.items = [second, first]  # the order of items is data
        order.status = "exchange requested"
        order.exchange_items = [first.item_id]
        order.exchange_new_items = [first.item_id]
        order.exchange_payment_method_id = DEMO_GIFT_CARD_ID
        order.exchange_price_difference = -3.07
        order.payment_history.append(
            PaymentTransaction(
                transaction_type="refund", amount=0.1 + 0.2, payment_method_id=DEMO_GIFT_CARD_ID
            )
        )
        shop.save_order(order)
        expected = order.to_tau2()
    with store.transaction() as shop:
        saved = shop.get_order(DEMO_DELIVERED_ORDER_ID)
        assert saved is not None
        assert saved.to_tau2() == expected
        assert saved.items[0].item_id == second.item_id
        assert saved.payment_history[-1].amount == 0.1 + 0.2  # 0.30000000000000004, bit for bit
        assert "return_items" not in saved.to_tau2()  # never set, so not written as null


def test_save_user_updates_gift_card_balance(store: ShopStore) -> None:
    with store.transaction() as shop:
        user = shop.get_user(DEMO_USER_ID)
        assert user is not None
        user.payment_methods[DEMO_GIFT_CARD_ID].balance = 12.34
        user.address.address2 = "Apt 9"
        shop.save_user(user)
    with store.transaction() as shop:
        saved = shop.get_user(DEMO_USER_ID)
        assert saved is not None
        assert saved.payment_methods[DEMO_GIFT_CARD_ID].balance == 12.34
        assert saved.address.address2 == "Apt 9"
        assert list(saved.payment_methods) == list(user.payment_methods)


def test_save_new_order_is_added_to_its_user(store: ShopStore) -> None:
    with store.transaction() as shop:
        template = shop.get_order(DEMO_PROCESSED_ORDER_ID)
        assert template is not None
        new_order = template.model_copy(
            update={"order_id": "#W7777777", "status": "pending", "fulfillments": []}
        )
        shop.save_order(new_order)
    with store.transaction() as shop:
        user = shop.get_user(DEMO_USER_ID)
        assert user is not None and user.orders[-1] == "#W7777777"
        assert [o.order_id for o in shop.orders_of_user(DEMO_USER_ID)][-1] == "#W7777777"


def test_save_order_of_unknown_user_is_refused(store: ShopStore, small_shop: ShopData) -> None:
    orphan = small_shop.orders[DEMO_PENDING_ORDER_ID].model_copy(
        update={"order_id": "#W7777778", "user_id": "ghost_user_0001"}
    )
    with pytest.raises(ShopDataError, match="ghost_user_0001"), store.transaction() as shop:
        shop.save_order(orphan)


def test_user_model_type_is_returned(store: ShopStore) -> None:
    with store.transaction() as shop:
        assert isinstance(shop.get_user(DEMO_USER_ID), User)
        assert all(isinstance(o, Order) for o in shop.orders_of_user(DEMO_USER_ID))


def test_email_index_is_used_by_lower_lookup(tmp_path: Path) -> None:
    """The lookup compares lower(email), which the functional index covers (no full scan on SQLite)."""
    shop_store = ShopStore(f"sqlite:///{tmp_path / 'plan.db'}")
    shop_store.migrate()
    from sqlalchemy import func

    with shop_store.transaction() as shop:
        statement = select(UserRow.user_id).where(func.lower(UserRow.email) == "a@example.com")
        compiled = statement.compile(compile_kwargs={"literal_binds": True})
        plan = " ".join(
            str(row) for row in shop.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
        )
    assert "ix_shop_users_email_lower" in plan
