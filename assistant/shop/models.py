"""SQL tables of the shop (products, users, orders), all on the one `assistant.db.Base`.

What the tools query has real columns and indexes (users by e-mail and by name + zip, orders by user,
variants by item id); small nested values that are only ever read whole (variant options, tracking ids)
are JSON. Lists keep their order through a `position` column. Every table has an `extra` JSON column for
keys the τ² shape does not declare, so an import followed by an export loses nothing.

Money is `Double` (IEEE double, like Python's float and the τ² JSON numbers): 50.88 comes back as 50.88.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import JSON, Boolean, Double, ForeignKey, Index, Integer, String, Table, func
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base

# Short string columns: ids, names, statuses. Long enough for anything in τ² with room to spare.
ID_LEN = 64
TEXT_LEN = 255


class AddressColumns:
    """The six address fields, shared by users and orders (an order keeps the address it ships to)."""

    address1: Mapped[str] = mapped_column(String(TEXT_LEN))
    address2: Mapped[str] = mapped_column(String(TEXT_LEN))
    city: Mapped[str] = mapped_column(String(TEXT_LEN))
    country: Mapped[str] = mapped_column(String(TEXT_LEN))
    state: Mapped[str] = mapped_column(String(TEXT_LEN))
    zip: Mapped[str] = mapped_column(String(ID_LEN))


class ProductRow(Base):
    __tablename__ = "shop_products"

    product_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(TEXT_LEN))
    position: Mapped[int] = mapped_column(Integer)  # order in the imported file, kept on export
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class VariantRow(Base):
    __tablename__ = "shop_variants"

    item_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    product_id: Mapped[str] = mapped_column(
        ForeignKey("shop_products.product_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    available: Mapped[bool] = mapped_column(Boolean)
    price: Mapped[float] = mapped_column(Double)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class UserRow(AddressColumns, Base):
    __tablename__ = "shop_users"

    user_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(TEXT_LEN))
    last_name: Mapped[str] = mapped_column(String(TEXT_LEN))
    email: Mapped[str] = mapped_column(String(TEXT_LEN))
    # τ²'s user.orders list as given (its order is the user's own history order).
    order_ids: Mapped[list[str]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


# Customers authenticate by e-mail or by name + zip, typed in any case: index what the lookups compare.
Index("ix_shop_users_email_lower", func.lower(UserRow.email))
Index("ix_shop_users_name_zip", func.lower(UserRow.last_name), func.lower(UserRow.zip))


class PaymentMethodRow(Base):
    __tablename__ = "shop_payment_methods"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("shop_users.user_id", ondelete="CASCADE"), primary_key=True
    )
    payment_method_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(ID_LEN))
    brand: Mapped[str | None] = mapped_column(String(ID_LEN), nullable=True)
    last_four: Mapped[str | None] = mapped_column(String(16), nullable=True)
    balance: Mapped[float | None] = mapped_column(Double, nullable=True)  # gift cards only
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class OrderRow(AddressColumns, Base):
    __tablename__ = "shop_orders"

    order_id: Mapped[str] = mapped_column(String(ID_LEN), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("shop_users.user_id"), index=True)
    status: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    position: Mapped[int] = mapped_column(Integer)
    # Attributes that cancel / exchange / return actions add; NULL when the action never happened.
    cancel_reason: Mapped[str | None] = mapped_column(String(TEXT_LEN), nullable=True)
    exchange_items: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    exchange_new_items: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    exchange_payment_method_id: Mapped[str | None] = mapped_column(String(ID_LEN), nullable=True)
    exchange_price_difference: Mapped[float | None] = mapped_column(Double, nullable=True)
    return_items: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    return_payment_method_id: Mapped[str | None] = mapped_column(String(ID_LEN), nullable=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class OrderChildColumns:
    """The columns every list inside an order has: its own key, the order, and the place in the list."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("shop_orders.order_id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)


class OrderItemRow(OrderChildColumns, Base):
    __tablename__ = "shop_order_items"

    # Not a foreign key: an order keeps the item it sold even if the catalogue later drops it.
    item_id: Mapped[str] = mapped_column(String(ID_LEN), index=True)
    product_id: Mapped[str] = mapped_column(String(ID_LEN))
    name: Mapped[str] = mapped_column(String(TEXT_LEN))
    price: Mapped[float] = mapped_column(Double)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class FulfillmentRow(OrderChildColumns, Base):
    __tablename__ = "shop_fulfillments"

    tracking_ids: Mapped[list[str]] = mapped_column(JSON)
    item_ids: Mapped[list[str]] = mapped_column(JSON)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class PaymentTransactionRow(OrderChildColumns, Base):
    __tablename__ = "shop_payment_transactions"

    transaction_type: Mapped[str] = mapped_column(String(ID_LEN))
    amount: Mapped[float] = mapped_column(Double)
    payment_method_id: Mapped[str] = mapped_column(String(ID_LEN))
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


def _table(row_class: type[Base]) -> Table:
    return cast(Table, row_class.__table__)


# The tables, for Core statements (the store reads and writes plain rows, not ORM objects).
PRODUCTS = _table(ProductRow)
VARIANTS = _table(VariantRow)
USERS = _table(UserRow)
PAYMENT_METHODS = _table(PaymentMethodRow)
ORDERS = _table(OrderRow)
ORDER_ITEMS = _table(OrderItemRow)
FULFILLMENTS = _table(FulfillmentRow)
PAYMENT_TRANSACTIONS = _table(PaymentTransactionRow)

SHOP_TABLES: tuple[Table, ...] = (
    PAYMENT_TRANSACTIONS,
    FULFILLMENTS,
    ORDER_ITEMS,
    ORDERS,
    PAYMENT_METHODS,
    USERS,
    VARIANTS,
    PRODUCTS,
)
"""Shop tables, children before parents (the order to delete in)."""
