"""The fixed demo customers of the sample shop: in every generated shop, with the same ids, e-mails, zips
and orders (docs, demos and tests name them)."""

from __future__ import annotations

from assistant.shop.catalogue import find_variant
from assistant.shop.sample_orders import order_item, sample_order
from assistant.shop.schema import Address, Order, PaymentMethod, Product, User, UserName

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

# (order id, customer, status, paid with, tracking id, items as (product name, options it must have))
_DEMO_ORDERS: tuple[tuple[str, str, str, str, str | None, tuple[tuple[str, dict[str, str]], ...]], ...] = (
    (
        DEMO_PENDING_ORDER_ID,
        DEMO_USER_ID,
        "pending",
        DEMO_CREDIT_CARD_ID,
        None,
        (
            ("Trail Backpack", {"color": "green", "capacity": "30L"}),
            ("Enamel Camping Mug", {"color": "white", "capacity": "350ml"}),
        ),
    ),
    (
        DEMO_DELIVERED_ORDER_ID,
        DEMO_USER_ID,
        "delivered",
        DEMO_GIFT_CARD_ID,
        "100000000001",
        (
            ("Insulated Water Bottle", {"color": "blue", "capacity": "750ml"}),
            ("Wool Throw Blanket", {"color": "oatmeal"}),
        ),
    ),
    (
        DEMO_PROCESSED_ORDER_ID,
        DEMO_USER_ID,
        "processed",
        DEMO_CREDIT_CARD_ID,
        "100000000002",
        (("Cast Iron Skillet", {"size": "12-inch"}),),
    ),
    (
        DEMO_SECOND_DELIVERED_ORDER_ID,
        DEMO_SECOND_USER_ID,
        "delivered",
        DEMO_SECOND_PAYPAL_ID,
        "100000000003",
        (
            ("Insulated Water Bottle", {"color": "black", "capacity": "1L"}),
            ("Desk Lamp", {"color": "brass"}),
        ),
    ),
    (
        DEMO_SECOND_PENDING_ORDER_ID,
        DEMO_SECOND_USER_ID,
        "pending",
        DEMO_SECOND_PAYPAL_ID,
        None,
        (("Linen Duvet Cover", {"color": "sage", "size": "double"}),),
    ),
)


def _orders_of(user_id: str) -> list[str]:
    return [order[0] for order in _DEMO_ORDERS if order[1] == user_id]


def demo_users() -> list[User]:
    """Emma Laurent and Lucas de Vries, with their payment methods and order lists."""
    emma = User(
        user_id=DEMO_USER_ID,
        name=UserName(first_name=DEMO_USER_FIRST_NAME, last_name=DEMO_USER_LAST_NAME),
        address=Address(
            address1="418 Maple Street",
            address2="Apt 3",
            city="Portland",
            country="USA",
            state="OR",
            zip=DEMO_USER_ZIP,
        ),
        email=DEMO_USER_EMAIL,
        payment_methods={
            DEMO_CREDIT_CARD_ID: PaymentMethod(
                source="credit_card", id=DEMO_CREDIT_CARD_ID, brand="visa", last_four="4242"
            ),
            DEMO_GIFT_CARD_ID: PaymentMethod(source="gift_card", id=DEMO_GIFT_CARD_ID, balance=150.0),
        },
        orders=_orders_of(DEMO_USER_ID),
    )
    lucas = User(
        user_id=DEMO_SECOND_USER_ID,
        name=UserName(first_name="Lucas", last_name="de Vries"),
        address=Address(
            address1="Prinsengracht 263",
            address2="",
            city="Amsterdam",
            country="Netherlands",
            state="NH",
            zip=DEMO_SECOND_USER_ZIP,
        ),
        email=DEMO_SECOND_USER_EMAIL,
        payment_methods={DEMO_SECOND_PAYPAL_ID: PaymentMethod(source="paypal", id=DEMO_SECOND_PAYPAL_ID)},
        orders=_orders_of(DEMO_SECOND_USER_ID),
    )
    return [emma, lucas]


def demo_customers(products: dict[str, Product]) -> tuple[list[User], list[Order]]:
    """The demo customers and their orders, the items taken from `products` (the shop's catalogue)."""
    users = demo_users()
    address_of = {user.user_id: user.address for user in users}
    orders = [
        sample_order(
            order_id,
            user_id,
            address_of[user_id],
            [order_item(*find_variant(products, name, options)) for name, options in items],
            status,
            method_id,
            tracking_id,
        )
        for order_id, user_id, status, method_id, tracking_id, items in _DEMO_ORDERS
    ]
    return users, orders
