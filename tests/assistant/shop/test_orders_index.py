"""The orders collection with real MiniLM embeddings and a real embedded Chroma: per-customer search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.shop.generator import (
    DEMO_DELIVERED_ORDER_ID,
    DEMO_SECOND_DELIVERED_ORDER_ID,
    DEMO_SECOND_USER_ID,
    DEMO_USER_ID,
)
from assistant.shop.orders_index import OrdersIndex, order_text
from assistant.shop.schema import ShopData
from knowledge.settings import Settings

pytestmark = pytest.mark.slow  # loads the sentence-transformers model


@pytest.fixture(scope="module")
def index_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("orders-index"), _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def orders_index(index_settings: Settings, small_shop: ShopData) -> Iterator[OrdersIndex]:
    index = OrdersIndex(index_settings)
    assert index.index_orders(small_shop.orders.values()) == len(small_shop.orders)
    yield index


def test_order_text_names_items_options_and_status(small_shop: ShopData) -> None:
    text = order_text(small_shop.orders[DEMO_DELIVERED_ORDER_ID])
    assert text.startswith(f"Order {DEMO_DELIVERED_ORDER_ID}: Insulated Water Bottle (blue, 750ml), ")
    assert "status delivered" in text


def test_finds_the_blue_water_bottle_order_of_its_owner(orders_index: OrdersIndex) -> None:
    hits = orders_index.search_orders(DEMO_USER_ID, "my blue water bottle order")
    assert hits[0].order_id == DEMO_DELIVERED_ORDER_ID
    assert hits[0].status == "delivered"
    assert all(hit.user_id == DEMO_USER_ID for hit in hits)
    assert hits[0].score >= hits[-1].score


def test_never_returns_another_customers_order(orders_index: OrdersIndex, small_shop: ShopData) -> None:
    hits = orders_index.search_orders(DEMO_SECOND_USER_ID, "my blue water bottle order", k=10)
    assert [hit.order_id for hit in hits][0] == DEMO_SECOND_DELIVERED_ORDER_ID
    assert {hit.order_id for hit in hits} <= set(small_shop.users[DEMO_SECOND_USER_ID].orders)
    for user in list(small_shop.users.values())[:15]:
        for hit in orders_index.search_orders(user.user_id, "water bottle backpack skillet", k=10):
            assert hit.user_id == user.user_id
            assert hit.order_id in user.orders


def test_unknown_user_finds_nothing(orders_index: OrdersIndex) -> None:
    assert orders_index.search_orders("nobody_at_all_0000", "my blue water bottle order") == []


@pytest.mark.parametrize("user_id", ["", "   "])
def test_user_id_is_mandatory(orders_index: OrdersIndex, user_id: str) -> None:
    with pytest.raises(ValueError, match="user_id"):
        orders_index.search_orders(user_id, "water bottle")


@pytest.mark.parametrize(("query", "k"), [("", 3), ("x" * 5000, 3), ("bottle", 0), ("bottle", 1000)])
def test_bad_query_or_k_is_refused(orders_index: OrdersIndex, query: str, k: int) -> None:
    with pytest.raises(ValueError):
        orders_index.search_orders(DEMO_USER_ID, query, k=k)


def test_reindexing_unchanged_orders_embeds_nothing(orders_index: OrdersIndex, small_shop: ShopData) -> None:
    assert orders_index.index_orders(small_shop.orders.values()) == 0
    changed = small_shop.orders[DEMO_DELIVERED_ORDER_ID].model_copy(update={"status": "return requested"})
    assert orders_index.index_orders([changed]) == 1
    hits = orders_index.search_orders(DEMO_USER_ID, "my blue water bottle order", k=1)
    assert hits[0].status == "return requested"
    assert orders_index.index_orders([small_shop.orders[DEMO_DELIVERED_ORDER_ID]]) == 1  # back again
    assert orders_index.count() == len(small_shop.orders)


def test_prune_removes_orders_no_longer_in_the_shop(index_settings: Settings, small_shop: ShopData) -> None:
    index = OrdersIndex(index_settings, collection_name="orders_prune_test")
    orders = list(small_shop.orders.values())
    index.index_orders(orders)
    assert index.index_orders(orders[:10], prune=True) == 0
    assert index.count() == 10
    index.reset()
    assert index.count() == 0
    assert index.search_orders(DEMO_USER_ID, "bottle") == []


def test_empty_collection_name_is_a_clear_error(index_settings: Settings) -> None:
    from knowledge.index import KnowledgeIndexError

    with pytest.raises(KnowledgeIndexError, match="invalid collection name"):
        OrdersIndex(index_settings, collection_name="x").index_orders([])
