"""The shop's data model, in the shape of the τ²-bench retail database (so import/export is an identity).

Plain pydantic models: the order tools' rules work on these, and the SQL store loads and saves them.
Optional attributes that actions add to an order (cancel_reason, exchange_items, ...) are kept as
declared optional fields; unknown extra keys are preserved too, so nothing in an imported file is lost.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")

    def to_tau2(self) -> dict[str, Any]:
        """The τ² JSON shape: optional attributes that were never set are left out, not written as null."""
        return self.model_dump(mode="json", exclude_unset=True)


class Variant(_Model):
    item_id: str
    options: dict[str, str]
    available: bool
    price: float


class Product(_Model):
    name: str
    product_id: str
    variants: dict[str, Variant]


class UserName(_Model):
    first_name: str
    last_name: str


class Address(_Model):
    address1: str
    address2: str
    city: str
    country: str
    state: str
    zip: str


class PaymentMethod(_Model):
    source: Literal["credit_card", "paypal", "gift_card"] | str
    id: str
    brand: str | None = None
    last_four: str | None = None
    balance: float | None = None


class User(_Model):
    user_id: str
    name: UserName
    address: Address
    email: str
    payment_methods: dict[str, PaymentMethod]
    orders: list[str] = Field(default_factory=list)


class OrderItem(_Model):
    name: str
    product_id: str
    item_id: str
    price: float
    options: dict[str, str]


class Fulfillment(_Model):
    tracking_id: list[str]
    item_ids: list[str]


class PaymentTransaction(_Model):
    transaction_type: Literal["payment", "refund"] | str
    amount: float
    payment_method_id: str


class Order(_Model):
    order_id: str
    user_id: str
    address: Address
    items: list[OrderItem]
    status: str
    fulfillments: list[Fulfillment] = Field(default_factory=list)
    payment_history: list[PaymentTransaction] = Field(default_factory=list)
    cancel_reason: str | None = None
    exchange_items: list[str] | None = None
    exchange_new_items: list[str] | None = None
    exchange_payment_method_id: str | None = None
    exchange_price_difference: float | None = None
    return_items: list[str] | None = None
    return_payment_method_id: str | None = None


class ShopData(_Model):
    """A whole shop, exactly as τ²'s db.json holds it."""

    products: dict[str, Product]
    users: dict[str, User]
    orders: dict[str, Order]
