"""The fixed demo customers of the sample shop: in every generated shop, with the same ids, e-mails, zips
and orders (docs, demos and tests name them).

The customers and their orders are data, in `demo.yaml` (package data); the DEMO_* names below are how code,
docs and tests refer to them (tests/assistant/shop/test_demo.py checks that both agree)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict

from assistant.shop.catalogue import find_variant
from assistant.shop.sample_orders import order_item, sample_order
from assistant.shop.schema import Order, Product, User

DEMO_FILE = "demo.yaml"

# Emma Laurent, Portland OR: one pending, one delivered and one processed order, a card and a gift card.
DEMO_USER_ID = "emma_laurent_1001"
DEMO_USER_EMAIL = "emma.laurent@example.com"
DEMO_USER_FIRST_NAME = "Emma"
DEMO_USER_LAST_NAME = "Laurent"
DEMO_USER_ZIP = "97205"
DEMO_PENDING_ORDER_ID = "#W1000001"  # Trail Backpack (green, 30L) + Enamel Camping Mug (white, 350ml)
DEMO_DELIVERED_ORDER_ID = "#W1000002"  # Insulated Water Bottle (blue, 750ml) + Wool Throw Blanket
DEMO_PROCESSED_ORDER_ID = "#W1000003"  # Cast Iron Skillet (12-inch)
DEMO_CREDIT_CARD_ID = "credit_card_1000001"
DEMO_GIFT_CARD_ID = "gift_card_1000002"
# Lucas de Vries, Amsterdam NL: a second customer who also owns a water bottle order (isolation tests).
DEMO_SECOND_USER_ID = "lucas_devries_1002"
DEMO_SECOND_USER_EMAIL = "lucas.devries@example.com"
DEMO_SECOND_USER_ZIP = "1012 AB"
DEMO_SECOND_DELIVERED_ORDER_ID = "#W1000004"  # Insulated Water Bottle (black, 1L) + Desk Lamp
DEMO_SECOND_PENDING_ORDER_ID = "#W1000005"  # Linen Duvet Cover
DEMO_SECOND_PAYPAL_ID = "paypal_1000003"
DEMO_USER_IDS = (DEMO_USER_ID, DEMO_SECOND_USER_ID)
DEMO_ORDER_IDS = (
    DEMO_PENDING_ORDER_ID,
    DEMO_DELIVERED_ORDER_ID,
    DEMO_PROCESSED_ORDER_ID,
    DEMO_SECOND_DELIVERED_ORDER_ID,
    DEMO_SECOND_PENDING_ORDER_ID,
)


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")  # a misspelt key in demo.yaml is refused


class _DemoItem(_Data):
    product: str  # a catalogue product's name
    options: dict[str, str]  # the options its variant must have


class _DemoOrder(_Data):
    order_id: str
    user_id: str
    status: str
    payment_method_id: str
    tracking_id: str | None
    items: tuple[_DemoItem, ...]


class _DemoData(_Data):
    customers: tuple[User, ...]
    orders: tuple[_DemoOrder, ...]


@cache
def _demo_data() -> _DemoData:
    """`demo.yaml` (package data), read and checked once."""
    text = resources.files("assistant.shop").joinpath(DEMO_FILE).read_text("utf-8")
    return _DemoData.model_validate(yaml.safe_load(text))


def demo_users() -> list[User]:
    """Emma Laurent and Lucas de Vries, with their payment methods and order lists (new objects each call)."""
    orders = _demo_data().orders
    return [
        user.model_copy(
            deep=True, update={"orders": [o.order_id for o in orders if o.user_id == user.user_id]}
        )
        for user in _demo_data().customers
    ]


def demo_customers(products: dict[str, Product]) -> tuple[list[User], list[Order]]:
    """The demo customers and their orders, the items taken from `products` (the shop's catalogue)."""
    users = demo_users()
    address_of = {user.user_id: user.address for user in users}
    orders = [
        sample_order(
            order.order_id,
            order.user_id,
            address_of[order.user_id],
            [order_item(*find_variant(products, item.product, item.options)) for item in order.items],
            order.status,
            order.payment_method_id,
            order.tracking_id,
        )
        for order in _demo_data().orders
    ]
    return users, orders
