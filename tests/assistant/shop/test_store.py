"""ShopStore / ShopSession on real SQLite and PostgreSQL: queries, upserts, rollback, lossless rows."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from assistant.shop.generator import (
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
from assistant.shop.store import ShopDataError, ShopStore, validate_shop_data


def _copy(data: ShopData) -> ShopData:
    return ShopData.model_validate(data.to_tau2())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database_url: str, small_shop: ShopData) -> Iterator[ShopStore]:
    shop_store = ShopStore(database_url)
    shop_store.migrate()
    shop_store.import_data(_copy(small_shop))
    yield shop_store


def test_export_equals_import(store: ShopStore, small_shop: ShopData) -> None:
    assert store.export_data().to_tau2() == small_shop.to_tau2()


def test_migrate_is_idempotent(store: ShopStore, small_shop: ShopData) -> None:
    store.migrate()
    with store.transaction() as shop:
        assert len(shop.list_orders()) == len(small_shop.orders)


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
    broken = _copy(small_shop)
    broken.orders[DEMO_PENDING_ORDER_ID].user_id = "ghost_user_0001"
    with pytest.raises(ShopDataError, match="ghost_user_0001"):
        store.import_data(broken)  # fails after the old rows were deleted inside the transaction
    assert store.export_data().to_tau2() == before


def test_import_append_replaces_same_ids_and_keeps_others(store: ShopStore, small_shop: ShopData) -> None:
    extra = _copy(small_shop)
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
    raw = {
        "products": {
            "1000000001": {
                "name": "Mug",
                "product_id": "1000000001",
                "variants": {
                    "2000000001": {
                        "item_id": "2000000001",
                        "options": {"color": "red"},
                        "available": False,
                        "price": 9.99,
                        "warehouse": {"aisle": 4},
                    }
                },
                "tags": ["kitchen"],
            }
        },
        "users": {
            "ann_lee_1234": {
                "user_id": "ann_lee_1234",
                "name": {"first_name": "Ann", "last_name": "Lee", "middle": "Q"},
                "address": {
                    "address1": "1 A St",
                    "address2": "",
                    "city": "X",
                    "country": "USA",
                    "state": "CA",
                    "zip": "90001",
                    "note": "ring twice",
                },
                "email": "ann@example.com",
                "payment_methods": {
                    "gift_card_1234567": {"source": "gift_card", "id": "gift_card_1234567", "balance": 0.07},
                    "credit_card_7654321": {
                        "source": "credit_card",
                        "id": "credit_card_7654321",
                        "brand": None,
                        "last_four": "0001",
                    },
                },
                "orders": ["#W1234567"],
                "vip": True,
            }
        },
        "orders": {
            "#W1234567": {
                "order_id": "#W1234567",
                "user_id": "ann_lee_1234",
                "address": {
                    "address1": "1 A St",
                    "address2": "",
                    "city": "X",
                    "country": "USA",
                    "state": "CA",
                    "zip": "90001",
                },
                "items": [
                    {
                        "name": "Mug",
                        "product_id": "1000000001",
                        "item_id": "2000000001",
                        "price": 9.99,
                        "options": {"color": "red"},
                        "gift_wrap": True,
                    },
                    {
                        "name": "Mug",
                        "product_id": "1000000001",
                        "item_id": "2000000001",
                        "price": 9.99,
                        "options": {"color": "red"},
                    },
                ],
                "status": "return requested",
                "fulfillments": [{"tracking_id": ["1", "2"], "item_ids": ["2000000001"], "carrier": "DHL"}],
                "payment_history": [
                    {
                        "transaction_type": "payment",
                        "amount": 19.98,
                        "payment_method_id": "gift_card_1234567",
                    },
                ],
                "return_items": ["2000000001"],
                "return_payment_method_id": "gift_card_1234567",
                "cancel_reason": None,
                "loyalty_points": 12,
            }
        },
    }
    shop_store = ShopStore(database_url)
    shop_store.migrate()
    shop_store.import_data(validate_shop_data(raw))
    assert json.loads(json.dumps(shop_store.export_data().to_tau2())) == raw


def test_orders_without_optional_lists_round_trip(database_url: str, small_shop: ShopData) -> None:
    raw = _copy(small_shop).to_tau2()
    del raw["orders"][DEMO_PENDING_ORDER_ID]["fulfillments"]  # absent, not empty: must stay absent
    shop_store = ShopStore(database_url)
    shop_store.migrate()
    shop_store.import_data(validate_shop_data(raw))
    assert shop_store.export_data().to_tau2() == raw


def test_inconsistent_keys_are_refused(tmp_path: Path, small_shop: ShopData) -> None:
    shop_store = ShopStore(f"sqlite:///{tmp_path / 'k.db'}")
    shop_store.migrate()
    raw = _copy(small_shop).to_tau2()
    raw["users"]["someone_else_0001"] = raw["users"].pop(DEMO_USER_ID)
    with pytest.raises(ShopDataError, match="someone_else_0001"):
        shop_store.import_data(validate_shop_data(raw))
    with shop_store.transaction() as shop:
        assert shop.counts()["shop_users"] == 0


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


def test_migration_matches_models(database_url: str) -> None:
    """The hand-written Alembic revision creates exactly what the models declare (shop tables)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from assistant.db import Base, make_engine

    ShopStore(database_url).migrate()
    with make_engine(database_url).connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLite cannot reflect expression indexes; says so in a warning
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    shop_diffs = [diff for diff in diffs if "shop_" in repr(diff)]
    assert shop_diffs == []


def test_user_model_type_is_returned(store: ShopStore) -> None:
    with store.transaction() as shop:
        assert isinstance(shop.get_user(DEMO_USER_ID), User)
        assert all(isinstance(o, Order) for o in shop.orders_of_user(DEMO_USER_ID))
