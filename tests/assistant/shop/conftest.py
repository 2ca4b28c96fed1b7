"""Shared fixtures of the shop tests: one generated sample shop per session (it is deterministic), the
store on SQLite and PostgreSQL, and a hand-written shop with every kind of value a lossless store keeps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.shop.generator import generate_shop
from assistant.shop.schema import ShopData
from assistant.shop.store import ShopStore

ANN_ADDRESS = {
    "address1": "1 A St",
    "address2": "",
    "city": "X",
    "country": "USA",
    "state": "CA",
    "zip": "90001",
}
# Unknown keys at every level, an explicit null, absent optional fields, two equal items: all must survive.
LOSSLESS_SHOP: dict[str, Any] = {
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
            "address": {**ANN_ADDRESS, "note": "ring twice"},
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
            "address": dict(ANN_ADDRESS),
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


def copy_shop(data: ShopData) -> ShopData:
    return ShopData.model_validate(data.to_tau2())


@pytest.fixture(scope="session")
def small_shop() -> ShopData:
    """A small Maple & Moss shop (demo customers included); tests copy it before changing anything."""
    return generate_shop(seed=11, users=40, orders=90)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database_url: str, small_shop: ShopData) -> Iterator[ShopStore]:
    shop_store = ShopStore(database_url)
    shop_store.migrate()
    shop_store.import_data(copy_shop(small_shop))
    yield shop_store
