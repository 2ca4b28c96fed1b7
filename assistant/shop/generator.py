"""The sample shop "Maple & Moss" (home, kitchen and outdoor goods): a deterministic, fictional data set.

`generate_shop(seed, users, orders)` returns a ShopData in the τ² retail shape, with ids in τ²'s formats.
The catalogue (products, variants, their ids and prices) is the same for every seed, so docs can name
items; the customers and their orders depend on the seed. A few fixed demo customers (the DEMO_*
constants below) exist in every generated shop, with the same ids, e-mails, zips and orders.

Nothing here is copied from τ²: product types, names, options, prices and people are written here.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

from assistant.shop.schema import (
    Address,
    Fulfillment,
    Order,
    OrderItem,
    PaymentMethod,
    PaymentTransaction,
    Product,
    ShopData,
    User,
    UserName,
    Variant,
)

SHOP_NAME = "Maple & Moss"
# The catalogue does not depend on the seed: item ids and prices stay stable across generated shops.
CATALOGUE_SEED = 20240917
MAX_USERS = 50_000
MAX_ORDERS = 200_000

# --- the fixed demo customers (docs, demos and tests rely on these) -----------------------------------
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

ORDER_STATUSES = ("pending", "processed", "delivered", "cancelled")
_STATUS_WEIGHTS = (40, 15, 35, 10)
CANCEL_REASONS = ("no longer needed", "ordered by mistake")


@dataclass(frozen=True)
class ProductType:
    """One product type of the catalogue: option axes, a base price and how much options move it."""

    name: str
    options: dict[str, tuple[str, ...]]
    base_price: float
    variants: int  # how many option combinations the shop stocks
    # Combinations that must be stocked (and available): demo orders and docs name them.
    featured: tuple[dict[str, str], ...] = field(default_factory=tuple)


CATALOGUE: tuple[ProductType, ...] = (
    ProductType(
        "Trail Backpack",
        {
            "color": ("green", "black", "grey", "rust"),
            "capacity": ("20L", "30L", "45L"),
            "material": ("nylon", "recycled polyester"),
        },
        89.0,
        9,
        ({"color": "green", "capacity": "30L", "material": "nylon"},),
    ),
    ProductType(
        "Enamel Camping Mug",
        {"color": ("white", "forest green", "navy", "speckled blue"), "capacity": ("350ml", "500ml")},
        14.5,
        6,
        ({"color": "white", "capacity": "350ml"},),
    ),
    ProductType(
        "Linen Duvet Cover",
        {"color": ("natural", "sage", "terracotta", "white"), "size": ("single", "double", "king")},
        129.0,
        8,
        ({"color": "sage", "size": "double"},),
    ),
    ProductType(
        "Wool Throw Blanket",
        {"color": ("oatmeal", "charcoal", "mustard", "moss"), "pattern": ("herringbone", "plain", "check")},
        74.0,
        7,
        ({"color": "oatmeal", "pattern": "herringbone"},),
    ),
    ProductType(
        "Insulated Water Bottle",
        {"color": ("blue", "black", "white", "red", "green"), "capacity": ("500ml", "750ml", "1L")},
        29.0,
        9,
        ({"color": "blue", "capacity": "750ml"}, {"color": "black", "capacity": "1L"}),
    ),
    ProductType(
        "Cast Iron Skillet",
        {"size": ("8-inch", "10-inch", "12-inch"), "finish": ("pre-seasoned", "enamelled")},
        45.0,
        5,
        ({"size": "12-inch", "finish": "pre-seasoned"},),
    ),
    ProductType(
        "Rain Jacket",
        {
            "color": ("yellow", "navy", "olive", "black"),
            "size": ("XS", "S", "M", "L", "XL"),
            "fit": ("regular", "relaxed"),
        },
        119.0,
        10,
    ),
    ProductType(
        "Hiking Boots",
        {
            "size": ("38", "39", "40", "41", "42", "43", "44", "45"),
            "color": ("brown", "grey"),
            "waterproof": ("yes", "no"),
        },
        139.0,
        10,
    ),
    ProductType(
        "Desk Lamp",
        {
            "color": ("brass", "matte black", "white"),
            "bulb": ("LED", "halogen"),
            "base": ("clamp", "weighted"),
        },
        59.0,
        6,
        ({"color": "brass", "bulb": "LED", "base": "weighted"},),
    ),
    ProductType(
        "Camping Lantern",
        {
            "color": ("orange", "black"),
            "power": ("rechargeable", "battery", "solar"),
            "brightness": ("200 lumens", "500 lumens"),
        },
        34.0,
        6,
    ),
    ProductType(
        "Ceramic Planter",
        {"color": ("cream", "sage", "charcoal"), "diameter": ("12cm", "18cm", "24cm")},
        24.0,
        7,
    ),
    ProductType(
        "Bamboo Cutting Board",
        {"size": ("small", "medium", "large"), "juice groove": ("yes", "no")},
        27.0,
        5,
    ),
    ProductType(
        "Chef's Knife",
        {
            "blade length": ("15cm", "20cm", "23cm"),
            "steel": ("stainless", "carbon"),
            "handle": ("walnut", "olive wood", "black resin"),
        },
        79.0,
        7,
    ),
    ProductType(
        "French Press",
        {"capacity": ("350ml", "600ml", "1L"), "material": ("glass", "stainless steel")},
        32.0,
        5,
    ),
    ProductType(
        "Sleeping Bag",
        {
            "temperature rating": ("-5C", "0C", "5C"),
            "fill": ("down", "synthetic"),
            "length": ("regular", "long"),
        },
        149.0,
        7,
    ),
    ProductType(
        "Two-Person Tent",
        {"color": ("green", "orange"), "season": ("3-season", "4-season"), "weight": ("light", "standard")},
        249.0,
        5,
    ),
    ProductType(
        "Cotton Bath Towel Set",
        {"color": ("white", "sand", "slate", "eucalyptus"), "pieces": ("2", "4", "6")},
        39.0,
        7,
    ),
    ProductType(
        "Scented Soy Candle",
        {"scent": ("cedar", "fig", "sea salt", "lavender"), "size": ("small", "large")},
        19.0,
        6,
    ),
    ProductType(
        "Folding Camp Chair",
        {"color": ("blue", "green", "black"), "frame": ("aluminium", "steel")},
        49.0,
        5,
    ),
    ProductType(
        "Merino Hiking Socks",
        {"size": ("S", "M", "L"), "cushion": ("light", "medium", "heavy"), "color": ("grey", "navy", "rust")},
        18.0,
        8,
    ),
    ProductType(
        "Picnic Blanket",
        {
            "pattern": ("gingham", "stripes", "solid"),
            "size": ("standard", "large"),
            "backing": ("waterproof", "none"),
        },
        44.0,
        6,
    ),
    ProductType(
        "Dutch Oven",
        {"capacity": ("3.5L", "5.5L", "7L"), "color": ("cherry red", "sea blue", "matte black", "cream")},
        159.0,
        8,
    ),
    ProductType(
        "Stoneware Dinner Set",
        {"color": ("speckled white", "moss green", "slate"), "pieces": ("12", "16", "24")},
        119.0,
        6,
    ),
    ProductType(
        "Hammock",
        {
            "color": ("sand", "forest", "sky"),
            "capacity": ("single", "double"),
            "material": ("cotton", "nylon"),
        },
        64.0,
        6,
    ),
    ProductType(
        "Trekking Poles",
        {
            "material": ("aluminium", "carbon"),
            "lock": ("flip lock", "twist lock"),
            "length": ("adjustable", "fixed"),
        },
        69.0,
        5,
    ),
)

FIRST_NAMES = (
    "Olivia",
    "Liam",
    "Ava",
    "Noah",
    "Mia",
    "Ethan",
    "Sofia",
    "Mason",
    "Isla",
    "Lucas",
    "Amara",
    "Mateo",
    "Chloe",
    "Arjun",
    "Hana",
    "Diego",
    "Zoe",
    "Kenji",
    "Leila",
    "Omar",
    "Grace",
    "Felix",
    "Nora",
    "Ravi",
    "Elena",
    "Samuel",
    "Yara",
    "Theo",
    "Priya",
    "Jonas",
    "Camille",
    "Malik",
    "Ingrid",
    "Tomas",
    "Aisha",
    "Hugo",
    "Mei",
    "Oscar",
    "Lina",
    "Daniel",
    "Fatou",
    "Bram",
    "Sanne",
    "Julien",
    "Anouk",
    "Rosa",
    "Ibrahim",
)
LAST_NAMES = (
    "Walker",
    "Nguyen",
    "Okafor",
    "Schmidt",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Tanaka",
    "Silva",
    "Murphy",
    "Fischer",
    "Jensen",
    "Moreau",
    "Bakker",
    "Patel",
    "Garcia",
    "Kim",
    "Dubois",
    "Novak",
    "Reyes",
    "Khan",
    "Larsen",
    "Costa",
    "Mensah",
    "Olsen",
    "Brennan",
    "Petrov",
    "Lindqvist",
    "Alvarez",
    "Sato",
    "Visser",
    "Mulder",
    "Bernard",
    "Hughes",
    "Cruz",
    "Ito",
    "Romero",
    "Adeyemi",
    "Baptiste",
    "Eriksen",
)
# (city, state or region, country, zip prefix); most customers are in the USA, a few in France and NL.
US_CITIES = (
    ("Portland", "OR", "97"),
    ("Seattle", "WA", "98"),
    ("Denver", "CO", "80"),
    ("Austin", "TX", "78"),
    ("Boston", "MA", "02"),
    ("Chicago", "IL", "60"),
    ("Minneapolis", "MN", "55"),
    ("Asheville", "NC", "28"),
    ("Burlington", "VT", "05"),
    ("Boise", "ID", "83"),
    ("Madison", "WI", "53"),
    ("Santa Fe", "NM", "87"),
)
FR_CITIES = (
    ("Paris", "IDF", "75"),
    ("Lyon", "ARA", "69"),
    ("Bordeaux", "NAQ", "33"),
    ("Nantes", "PDL", "44"),
)
NL_CITIES = (("Amsterdam", "NH", "10"), ("Utrecht", "UT", "35"), ("Rotterdam", "ZH", "30"))
US_STREETS = (
    "Maple Street",
    "Cedar Lane",
    "Lakeview Drive",
    "Pine Avenue",
    "Willow Road",
    "Hillcrest Way",
    "Riverside Drive",
    "Oak Court",
    "Meadow Lane",
    "Birch Street",
)
FR_STREETS = ("Rue des Lilas", "Avenue Victor Hugo", "Rue du Moulin", "Boulevard Voltaire", "Rue de la Paix")
NL_STREETS = ("Prinsengracht", "Keizersgracht", "Vondelstraat", "Oudegracht", "Witte de Withstraat")
CARD_BRANDS = ("visa", "mastercard", "amex")


class _Ids:
    """Unique random ids in τ²'s formats, drawn from one seeded generator."""

    def __init__(self, rng: random.Random, taken: set[str] | None = None) -> None:
        self.rng = rng
        self.taken: set[str] = set(taken or ())

    def digits(self, prefix: str, count: int) -> str:
        while True:
            candidate = prefix + str(self.rng.randrange(10 ** (count - 1), 10**count))
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate


def _price(rng: random.Random, base: float) -> float:
    return round(base * rng.uniform(0.85, 1.3), 2)


def build_catalogue() -> dict[str, Product]:
    """The Maple & Moss catalogue (same for every seed)."""
    rng = random.Random(CATALOGUE_SEED)
    ids = _Ids(rng)
    products: dict[str, Product] = {}
    for product_type in CATALOGUE:
        axes = list(product_type.options)
        combos = [
            dict(zip(axes, values, strict=True))
            for values in itertools.product(*product_type.options.values())
        ]
        featured = [dict(combo) for combo in product_type.featured]
        others = [combo for combo in combos if combo not in featured]
        rng.shuffle(others)
        chosen = featured + others[: max(0, product_type.variants - len(featured))]
        product_id = ids.digits("", 10)
        variants: dict[str, Variant] = {}
        for index, options in enumerate(chosen):
            item_id = ids.digits("", 10)
            # Featured variants stay in stock; of the others about one in six is sold out.
            available = index < len(featured) or rng.random() > 0.17
            variants[item_id] = Variant(
                item_id=item_id,
                options=options,
                available=available,
                price=_price(rng, product_type.base_price),
            )
        products[product_id] = Product(name=product_type.name, product_id=product_id, variants=variants)
    return products


def find_variant(products: dict[str, Product], name: str, options: dict[str, str]) -> tuple[Product, Variant]:
    """The catalogue variant of product `name` whose options include `options`."""
    for product in products.values():
        if product.name != name:
            continue
        for variant in product.variants.values():
            if all(variant.options.get(key) == value for key, value in options.items()):
                return product, variant
    raise KeyError(f"no variant of {name!r} with options {options}")


def _address(rng: random.Random) -> Address:
    roll = rng.random()
    number = rng.randrange(1, 999)
    if roll < 0.06:
        city, region, prefix = rng.choice(FR_CITIES)
        return Address(
            address1=f"{number} {rng.choice(FR_STREETS)}",
            address2=rng.choice(("", f"Apt {rng.randrange(1, 40)}")),
            city=city,
            country="France",
            state=region,
            zip=f"{prefix}{rng.randrange(0, 1000):03d}",
        )
    if roll < 0.11:
        city, region, prefix = rng.choice(NL_CITIES)
        letters = "".join(rng.choice("ABCDEGHJKLMNPRSTVWXZ") for _ in range(2))
        return Address(
            address1=f"{rng.choice(NL_STREETS)} {number}",
            address2="",
            city=city,
            country="Netherlands",
            state=region,
            zip=f"{prefix}{rng.randrange(10, 100)} {letters}",
        )
    city, state, prefix = rng.choice(US_CITIES)
    return Address(
        address1=f"{number} {rng.choice(US_STREETS)}",
        address2=rng.choice(("", f"Suite {rng.randrange(100, 999)}")),
        city=city,
        country="USA",
        state=state,
        zip=f"{prefix}{rng.randrange(0, 1000):03d}",
    )


def _payment_methods(rng: random.Random, ids: _Ids) -> dict[str, PaymentMethod]:
    sources = rng.sample(("credit_card", "paypal", "gift_card"), k=rng.choice((1, 1, 2, 2, 3)))
    methods: dict[str, PaymentMethod] = {}
    for source in sources:
        method_id = ids.digits(f"{source}_", 7)
        if source == "credit_card":
            methods[method_id] = PaymentMethod(
                source=source,
                id=method_id,
                brand=rng.choice(CARD_BRANDS),
                last_four=f"{rng.randrange(10000):04d}",
            )
        elif source == "gift_card":
            methods[method_id] = PaymentMethod(
                source=source, id=method_id, balance=float(rng.randrange(0, 300))
            )
        else:
            methods[method_id] = PaymentMethod(source=source, id=method_id)
    return methods


def _item(product: Product, variant: Variant) -> OrderItem:
    return OrderItem(
        name=product.name,
        product_id=product.product_id,
        item_id=variant.item_id,
        price=variant.price,
        options=dict(variant.options),
    )


def _order(
    order_id: str,
    user: User,
    address: Address,
    items: list[OrderItem],
    status: str,
    payment_method_id: str,
    tracking_id: str | None,
    cancel_reason: str | None = None,
) -> Order:
    total = round(sum(item.price for item in items), 2)
    payments = [
        PaymentTransaction(transaction_type="payment", amount=total, payment_method_id=payment_method_id)
    ]
    if status == "cancelled":
        # A cancelled order was refunded in full to the method that paid for it.
        payments.append(
            PaymentTransaction(transaction_type="refund", amount=total, payment_method_id=payment_method_id)
        )
    fulfillments = []
    if status in ("processed", "delivered") and tracking_id is not None:
        fulfillments.append(Fulfillment(tracking_id=[tracking_id], item_ids=[item.item_id for item in items]))
    order = Order(
        order_id=order_id,
        user_id=user.user_id,
        address=address,
        items=items,
        status=status,
        fulfillments=fulfillments,
        payment_history=payments,
    )
    if cancel_reason is not None:
        order.cancel_reason = cancel_reason  # assignment marks it set, so to_tau2() writes it
    return order


def _demo_customers(products: dict[str, Product]) -> tuple[list[User], list[Order]]:
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
        orders=[DEMO_PENDING_ORDER_ID, DEMO_DELIVERED_ORDER_ID, DEMO_PROCESSED_ORDER_ID],
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
        orders=[DEMO_SECOND_DELIVERED_ORDER_ID, DEMO_SECOND_PENDING_ORDER_ID],
    )

    def items(*wanted: tuple[str, dict[str, str]]) -> list[OrderItem]:
        return [_item(*find_variant(products, name, options)) for name, options in wanted]

    orders = [
        _order(
            DEMO_PENDING_ORDER_ID,
            emma,
            emma.address,
            items(
                ("Trail Backpack", {"color": "green", "capacity": "30L"}),
                ("Enamel Camping Mug", {"color": "white", "capacity": "350ml"}),
            ),
            "pending",
            DEMO_CREDIT_CARD_ID,
            None,
        ),
        _order(
            DEMO_DELIVERED_ORDER_ID,
            emma,
            emma.address,
            items(
                ("Insulated Water Bottle", {"color": "blue", "capacity": "750ml"}),
                ("Wool Throw Blanket", {"color": "oatmeal"}),
            ),
            "delivered",
            DEMO_GIFT_CARD_ID,
            "100000000001",
        ),
        _order(
            DEMO_PROCESSED_ORDER_ID,
            emma,
            emma.address,
            items(("Cast Iron Skillet", {"size": "12-inch"})),
            "processed",
            DEMO_CREDIT_CARD_ID,
            "100000000002",
        ),
        _order(
            DEMO_SECOND_DELIVERED_ORDER_ID,
            lucas,
            lucas.address,
            items(
                ("Insulated Water Bottle", {"color": "black", "capacity": "1L"}),
                ("Desk Lamp", {"color": "brass"}),
            ),
            "delivered",
            DEMO_SECOND_PAYPAL_ID,
            "100000000003",
        ),
        _order(
            DEMO_SECOND_PENDING_ORDER_ID,
            lucas,
            lucas.address,
            items(("Linen Duvet Cover", {"color": "sage", "size": "double"})),
            "pending",
            DEMO_SECOND_PAYPAL_ID,
            None,
        ),
    ]
    return [emma, lucas], orders


def generate_shop(seed: int = 7, users: int = 300, orders: int = 600) -> ShopData:
    """A deterministic Maple & Moss shop: `users` customers (demo customers included) with `orders` orders.

    The same arguments always give the identical ShopData.
    """
    demo_users_count = len(DEMO_USER_IDS)
    demo_orders_count = len(DEMO_ORDER_IDS)
    if not demo_users_count <= users <= MAX_USERS:
        raise ValueError(f"users must be between {demo_users_count} and {MAX_USERS}, got {users}")
    if not demo_orders_count <= orders <= MAX_ORDERS:
        raise ValueError(f"orders must be between {demo_orders_count} and {MAX_ORDERS}, got {orders}")

    products = build_catalogue()
    rng = random.Random(seed)
    demo_users, demo_orders = _demo_customers(products)
    taken = set(DEMO_USER_IDS) | set(DEMO_ORDER_IDS)
    for user in demo_users:
        taken.update(user.payment_methods)
    for order in demo_orders:
        taken.update(tracking for fulfillment in order.fulfillments for tracking in fulfillment.tracking_id)
    ids = _Ids(rng, taken)

    all_users: dict[str, User] = {user.user_id: user for user in demo_users}
    emails = {user.email for user in demo_users}
    while len(all_users) < users:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
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
        tracking = ids.digits("", 12) if status in ("processed", "delivered") else None
        reason = rng.choice(CANCEL_REASONS) if status == "cancelled" else None
        order = _order(
            order_id, user, address, [_item(p, v) for p, v in picked], status, method_id, tracking, reason
        )
        all_orders[order_id] = order
        user.orders.append(order_id)

    return ShopData(products=products, users=all_users, orders=all_orders)
