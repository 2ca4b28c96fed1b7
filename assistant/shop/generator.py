"""The sample shop "Maple & Moss" (home, kitchen and outdoor goods): a deterministic, fictional data set.

`generate_shop(seed, users, orders)` returns a ShopData in the τ² retail shape, with ids in τ²'s formats.
The catalogue (`catalogue.py`, data in `catalogue.yaml`) is the same for every seed, so docs can name items;
the customers and their orders depend on the seed. The fixed demo customers (`demo.py`, re-exported here)
exist in every generated shop, with the same ids, e-mails, zips and orders.
"""

from __future__ import annotations

import random

from assistant.shop.catalogue import IdDrawer, Places, build_catalogue, catalogue, find_variant
from assistant.shop.demo import (
    DEMO_CREDIT_CARD_ID,
    DEMO_DELIVERED_ORDER_ID,
    DEMO_GIFT_CARD_ID,
    DEMO_ORDER_IDS,
    DEMO_PENDING_ORDER_ID,
    DEMO_PROCESSED_ORDER_ID,
    DEMO_SECOND_DELIVERED_ORDER_ID,
    DEMO_SECOND_PAYPAL_ID,
    DEMO_SECOND_PENDING_ORDER_ID,
    DEMO_SECOND_USER_EMAIL,
    DEMO_SECOND_USER_ID,
    DEMO_SECOND_USER_ZIP,
    DEMO_USER_EMAIL,
    DEMO_USER_FIRST_NAME,
    DEMO_USER_ID,
    DEMO_USER_IDS,
    DEMO_USER_LAST_NAME,
    DEMO_USER_ZIP,
    demo_customers,
)
from assistant.shop.sample_orders import SHIPPED_STATUSES, order_item, sample_order
from assistant.shop.schema import Address, Order, PaymentMethod, ShopData, User, UserName

# Callers import the demo customers and the catalogue helpers from here (`assistant.shop.generator`).
__all__ = [
    "CANCEL_REASONS",
    "DEMO_CREDIT_CARD_ID",
    "DEMO_DELIVERED_ORDER_ID",
    "DEMO_GIFT_CARD_ID",
    "DEMO_ORDER_IDS",
    "DEMO_PENDING_ORDER_ID",
    "DEMO_PROCESSED_ORDER_ID",
    "DEMO_SECOND_DELIVERED_ORDER_ID",
    "DEMO_SECOND_PAYPAL_ID",
    "DEMO_SECOND_PENDING_ORDER_ID",
    "DEMO_SECOND_USER_EMAIL",
    "DEMO_SECOND_USER_ID",
    "DEMO_SECOND_USER_ZIP",
    "DEMO_USER_EMAIL",
    "DEMO_USER_FIRST_NAME",
    "DEMO_USER_ID",
    "DEMO_USER_IDS",
    "DEMO_USER_LAST_NAME",
    "DEMO_USER_ZIP",
    "MAX_ORDERS",
    "MAX_USERS",
    "ORDER_STATUSES",
    "SHOP_NAME",
    "build_catalogue",
    "find_variant",
    "generate_shop",
]

SHOP_NAME = "Maple & Moss"
MAX_USERS = 50_000
MAX_ORDERS = 200_000

ORDER_STATUSES = ("pending", "processed", "delivered", "cancelled")
_STATUS_WEIGHTS = (40, 15, 35, 10)
CANCEL_REASONS = ("no longer needed", "ordered by mistake")
# Shares of customers (and ship-to addresses) abroad: 6 % in France, 5 % in the Netherlands, the rest USA.
_FRANCE_BELOW = 0.06
_NETHERLANDS_BELOW = 0.11
_DUTCH_ZIP_LETTERS = "ABCDEGHJKLMNPRSTVWXZ"


def _address(rng: random.Random) -> Address:
    """A seeded address: mostly in the USA, a few in France and the Netherlands, each in its own format."""
    places: dict[str, Places] = catalogue().places
    roll = rng.random()
    number = rng.randrange(1, 999)
    if roll < _FRANCE_BELOW:
        country, (city, region, prefix) = "France", rng.choice(places["france"].cities)
        address1 = f"{number} {rng.choice(places['france'].streets)}"
        address2 = rng.choice(("", f"Apt {rng.randrange(1, 40)}"))
        zip_code = f"{prefix}{rng.randrange(0, 1000):03d}"
    elif roll < _NETHERLANDS_BELOW:
        country, (city, region, prefix) = "Netherlands", rng.choice(places["netherlands"].cities)
        letters = "".join(rng.choice(_DUTCH_ZIP_LETTERS) for _ in range(2))
        address1, address2 = f"{rng.choice(places['netherlands'].streets)} {number}", ""
        zip_code = f"{prefix}{rng.randrange(10, 100)} {letters}"
    else:
        country, (city, region, prefix) = "USA", rng.choice(places["usa"].cities)
        address1 = f"{number} {rng.choice(places['usa'].streets)}"
        address2 = rng.choice(("", f"Suite {rng.randrange(100, 999)}"))
        zip_code = f"{prefix}{rng.randrange(0, 1000):03d}"
    return Address(
        address1=address1, address2=address2, city=city, country=country, state=region, zip=zip_code
    )


def _payment_methods(rng: random.Random, ids: IdDrawer) -> dict[str, PaymentMethod]:
    sources = rng.sample(("credit_card", "paypal", "gift_card"), k=rng.choice((1, 1, 2, 2, 3)))
    methods: dict[str, PaymentMethod] = {}
    for source in sources:
        method_id = ids.digits(f"{source}_", 7)
        if source == "credit_card":
            brand, last_four = rng.choice(catalogue().card_brands), f"{rng.randrange(10000):04d}"
            method = PaymentMethod(source=source, id=method_id, brand=brand, last_four=last_four)
        elif source == "gift_card":
            method = PaymentMethod(source=source, id=method_id, balance=float(rng.randrange(0, 300)))
        else:
            method = PaymentMethod(source=source, id=method_id)
        methods[method_id] = method
    return methods


def _check_sizes(users: int, orders: int) -> None:
    if not len(DEMO_USER_IDS) <= users <= MAX_USERS:
        raise ValueError(f"users must be between {len(DEMO_USER_IDS)} and {MAX_USERS}, got {users}")
    if not len(DEMO_ORDER_IDS) <= orders <= MAX_ORDERS:
        raise ValueError(f"orders must be between {len(DEMO_ORDER_IDS)} and {MAX_ORDERS}, got {orders}")


def _customers(rng: random.Random, ids: IdDrawer, demo: list[User], count: int) -> dict[str, User]:
    """The demo customers, then seeded ones with unique ids and e-mails until there are `count`."""
    names = catalogue()
    all_users: dict[str, User] = {user.user_id: user for user in demo}
    emails = {user.email for user in demo}
    while len(all_users) < count:
        first, last = rng.choice(names.first_names), rng.choice(names.last_names)
        user_id = ids.digits(f"{first.lower()}_{last.lower()}_", 4)
        number = user_id.rsplit("_", 1)[1]
        email = f"{first.lower()}.{last.lower()}{number}@example.com"
        if email in emails:
            continue
        emails.add(email)
        all_users[user_id] = User(
            user_id=user_id,
            name=UserName(first_name=first, last_name=last),
            address=_address(rng),
            email=email,
            payment_methods=_payment_methods(rng, ids),
            orders=[],
        )
    return all_users


def generate_shop(seed: int = 7, users: int = 300, orders: int = 600) -> ShopData:
    """A deterministic Maple & Moss shop: `users` customers (demo customers included) with `orders` orders.

    The same arguments always give the identical ShopData.
    """
    _check_sizes(users, orders)
    products = build_catalogue()
    rng = random.Random(seed)
    demo_users, demo_orders = demo_customers(products)
    taken = set(DEMO_USER_IDS) | set(DEMO_ORDER_IDS)
    for user in demo_users:
        taken.update(user.payment_methods)
    for order in demo_orders:
        taken.update(tracking for fulfillment in order.fulfillments for tracking in fulfillment.tracking_id)
    ids = IdDrawer(rng, taken)
    all_users = _customers(rng, ids, demo_users, users)

    all_orders: dict[str, Order] = {order.order_id: order for order in demo_orders}
    variants = [(product, variant) for product in products.values() for variant in product.variants.values()]
    customers = [user for user in all_users.values() if user.user_id not in DEMO_USER_IDS] or list(
        all_users.values()
    )
    while len(all_orders) < orders:
        user = rng.choice(customers)
        order_id = ids.digits("#W", 7)
        status = rng.choices(ORDER_STATUSES, weights=_STATUS_WEIGHTS)[0]
        picked = rng.sample(variants, k=rng.choice((1, 1, 2, 2, 3, 4)))
        # Some orders ship elsewhere (a gift, an office), like real shops.
        address = user.address if rng.random() > 0.15 else _address(rng)
        method_id = rng.choice(list(user.payment_methods))
        tracking = ids.digits("", 12) if status in SHIPPED_STATUSES else None
        reason = rng.choice(CANCEL_REASONS) if status == "cancelled" else None
        items = [order_item(product, variant) for product, variant in picked]
        all_orders[order_id] = sample_order(
            order_id, user.user_id, address, items, status, method_id, tracking, reason
        )
        user.orders.append(order_id)

    return ShopData(products=products, users=all_users, orders=all_orders)
