"""ShopStore on real SQLite and PostgreSQL: import / export identity, transactions, all-or-nothing imports."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from assistant.shop.demo import (
    DEMO_GIFT_CARD_ID,
    DEMO_PENDING_ORDER_ID,
    DEMO_USER_ID,
)
from assistant.shop.schema import ShopData
from assistant.shop.store import ShopDataError, ShopStore, validate_shop_data
from tests.assistant.shop.conftest import LOSSLESS_SHOP, copy_shop


def test_export_equals_import(store: ShopStore, small_shop: ShopData) -> None:
    assert store.export_data().to_tau2() == small_shop.to_tau2()


def test_migrate_is_idempotent(store: ShopStore, small_shop: ShopData) -> None:
    store.migrate()
    with store.transaction() as shop:
        assert len(shop.list_orders()) == len(small_shop.orders)


def test_exception_inside_transaction_rolls_everything_back(store: ShopStore, small_shop: ShopData) -> None:
    before = store.export_data().to_tau2()
    with pytest.raises(RuntimeError, match="tool failed"), store.transaction() as shop:
        user = shop.get_user(DEMO_USER_ID)
        assert user is not None
        user.payment_methods[DEMO_GIFT_CARD_ID].balance = 0.0
        shop.save_user(user)
        order = shop.get_order(DEMO_PENDING_ORDER_ID)
        assert order is not None
        order.status = "cancelled"
        order.cancel_reason = "no longer needed"
        shop.save_order(order)
        raise RuntimeError("tool failed half-way")
    assert store.export_data().to_tau2() == before


def test_failed_import_leaves_previous_data(store: ShopStore, small_shop: ShopData) -> None:
    before = store.export_data().to_tau2()
    broken = copy_shop(small_shop)
    broken.orders[DEMO_PENDING_ORDER_ID].user_id = "ghost_user_0001"
    with pytest.raises(ShopDataError, match="ghost_user_0001"):
        store.import_data(broken)  # fails after the old rows were deleted inside the transaction
    assert store.export_data().to_tau2() == before


def test_import_append_replaces_same_ids_and_keeps_others(store: ShopStore, small_shop: ShopData) -> None:
    extra = copy_shop(small_shop)
    extra.users = {DEMO_USER_ID: extra.users[DEMO_USER_ID]}
    extra.users[DEMO_USER_ID].email = "emma.new@example.com"
    extra.orders = {}
    extra.products = {}
    store.import_data(extra, replace=False)
    with store.transaction() as shop:
        assert shop.find_user_ids_by_email("emma.new@example.com") == [DEMO_USER_ID]
        assert len(shop.list_users()) == len(small_shop.users)
        assert len(shop.list_orders()) == len(small_shop.orders)


def test_unknown_keys_and_explicit_nulls_survive(database_url: str) -> None:
    shop_store = ShopStore(database_url)
    shop_store.migrate()
    shop_store.import_data(validate_shop_data(copy.deepcopy(LOSSLESS_SHOP)))
    assert json.loads(json.dumps(shop_store.export_data().to_tau2())) == LOSSLESS_SHOP


def test_orders_without_optional_lists_round_trip(database_url: str, small_shop: ShopData) -> None:
    raw = copy_shop(small_shop).to_tau2()
    del raw["orders"][DEMO_PENDING_ORDER_ID]["fulfillments"]  # absent, not empty: must stay absent
    shop_store = ShopStore(database_url)
    shop_store.migrate()
    shop_store.import_data(validate_shop_data(raw))
    assert shop_store.export_data().to_tau2() == raw


def test_inconsistent_keys_are_refused(tmp_path: Path, small_shop: ShopData) -> None:
    shop_store = ShopStore(f"sqlite:///{tmp_path / 'k.db'}")
    shop_store.migrate()
    raw = copy_shop(small_shop).to_tau2()
    raw["users"]["someone_else_0001"] = raw["users"].pop(DEMO_USER_ID)
    with pytest.raises(ShopDataError, match="someone_else_0001"):
        shop_store.import_data(validate_shop_data(raw))
    with shop_store.transaction() as shop:
        assert shop.counts()["shop_users"] == 0
