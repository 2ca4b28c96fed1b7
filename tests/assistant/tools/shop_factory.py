"""A tiny hand-written shop for the rule tests: two products, two customers, orders in every status."""

from __future__ import annotations

from assistant.shop.schema import (
    Address,
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

HOME = Address(address1="1 Main St", address2="", city="Springfield", country="USA", state="IL", zip="62701")
NEW_ADDRESS = Address(
    address1="9 Elm St", address2="Apt 2", city="Shelbyville", country="USA", state="IL", zip="62565"
)

SHIRT = Product(
    name="T-Shirt",
    product_id="1000000001",
    variants={
        "2000000001": Variant(
            item_id="2000000001", options={"size": "M", "color": "blue"}, available=True, price=20.0
        ),
        "2000000002": Variant(
            item_id="2000000002", options={"size": "L", "color": "blue"}, available=True, price=25.5
        ),
        "2000000003": Variant(
            item_id="2000000003", options={"size": "S", "color": "red"}, available=False, price=18.0
        ),
        "2000000004": Variant(
            item_id="2000000004", options={"size": "S", "color": "black"}, available=True, price=15.25
        ),
    },
)
SHOE = Product(
    name="Running Shoes",
    product_id="1000000002",
    variants={
        "3000000001": Variant(item_id="3000000001", options={"size": "9"}, available=True, price=100.0),
        "3000000002": Variant(item_id="3000000002", options={"size": "10"}, available=True, price=110.0),
    },
)
PRODUCTS = {SHIRT.product_id: SHIRT, SHOE.product_id: SHOE}


def _item(product: Product, item_id: str) -> OrderItem:
    variant = product.variants[item_id]
    return OrderItem(
        name=product.name,
        product_id=product.product_id,
        item_id=item_id,
        price=variant.price,
        options=dict(variant.options),
    )


def make_user(user_id: str = "jane_doe_1", gift_balance: float = 30.0) -> User:
    return User(
        user_id=user_id,
        name=UserName(first_name="Jane", last_name="Doe"),
        address=HOME,
        email=f"{user_id}@example.com",
        payment_methods={
            "credit_card_1": PaymentMethod(
                source="credit_card", id="credit_card_1", brand="visa", last_four="1111"
            ),
            "paypal_1": PaymentMethod(source="paypal", id="paypal_1"),
            "gift_card_1": PaymentMethod(source="gift_card", id="gift_card_1", balance=gift_balance),
        },
        orders=[],
    )


def make_order(
    order_id: str = "#W0000001",
    status: str = "pending",
    user_id: str = "jane_doe_1",
    paid_with: str = "credit_card_1",
    item_ids: tuple[str, ...] = ("2000000001", "2000000001", "3000000001"),
) -> Order:
    items = [_item(SHIRT if i.startswith("2") else SHOE, i) for i in item_ids]
    total = round(sum(i.price for i in items), 2)
    return Order(
        order_id=order_id,
        user_id=user_id,
        address=HOME,
        items=items,
        status=status,
        fulfillments=[],
        payment_history=[
            PaymentTransaction(transaction_type="payment", amount=total, payment_method_id=paid_with)
        ],
    )


def make_shop() -> ShopData:
    """Jane (jane_doe_1) owns one order per status; John (john_roe_2) owns one pending order."""
    jane = make_user("jane_doe_1")
    john = make_user("john_roe_2", gift_balance=5.0)
    john.name = UserName(first_name="John", last_name="Roe")
    john.address = NEW_ADDRESS
    orders = {
        o.order_id: o
        for o in (
            make_order("#W0000001", "pending"),
            make_order("#W0000002", "delivered"),
            make_order("#W0000003", "processed"),
            make_order("#W0000004", "pending", paid_with="gift_card_1", item_ids=("2000000001",)),
            make_order("#W0000005", "pending", user_id="john_roe_2", item_ids=("3000000001",)),
        )
    }
    jane.orders = ["#W0000001", "#W0000002", "#W0000003", "#W0000004"]
    john.orders = ["#W0000005"]
    return ShopData(products=dict(PRODUCTS), users={jane.user_id: jane, john.user_id: john}, orders=orders)
