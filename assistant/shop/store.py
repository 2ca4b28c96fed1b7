"""The shop's SQL store: load and save the pydantic models of schema.py, one transaction at a time.

`ShopStore` owns the database URL; `ShopStore.transaction()` yields a `ShopSession` whose reads and
writes all happen in one transaction (committed on success, rolled back on any exception), so a tool that
fails half-way writes nothing. `import_data` bulk-loads a whole `ShopData` in one transaction and
`export_data` rebuilds it exactly (import + export is an identity on the τ² JSON).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import ColumnElement, Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from assistant.db import migrate, session_scope
from assistant.shop.models import (
    SHOP_TABLES,
    FulfillmentRow,
    OrderItemRow,
    OrderRow,
    PaymentMethodRow,
    PaymentTransactionRow,
    ProductRow,
    UserRow,
    VariantRow,
)
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

PRODUCTS: Table = ProductRow.__table__  # type: ignore[assignment]
VARIANTS: Table = VariantRow.__table__  # type: ignore[assignment]
USERS: Table = UserRow.__table__  # type: ignore[assignment]
PAYMENT_METHODS: Table = PaymentMethodRow.__table__  # type: ignore[assignment]
ORDERS: Table = OrderRow.__table__  # type: ignore[assignment]
ORDER_ITEMS: Table = OrderItemRow.__table__  # type: ignore[assignment]
FULFILLMENTS: Table = FulfillmentRow.__table__  # type: ignore[assignment]
PAYMENT_TRANSACTIONS: Table = PaymentTransactionRow.__table__  # type: ignore[assignment]

ADDRESS_FIELDS = ("address1", "address2", "city", "country", "state", "zip")
ORDER_ACTION_FIELDS = (
    "cancel_reason",
    "exchange_items",
    "exchange_new_items",
    "exchange_payment_method_id",
    "exchange_price_difference",
    "return_items",
    "return_payment_method_id",
)
# Rows per INSERT statement in bulk imports (keeps statements well under SQLite's variable limit).
BULK_CHUNK = 500

Row = dict[str, Any]
M = TypeVar("M", bound=BaseModel)


class ShopDataError(ValueError):
    """Shop data that cannot be stored as given (inconsistent ids, an order of an unknown user, ...)."""


@dataclass(frozen=True)
class ImportSummary:
    products: int
    variants: int
    users: int
    payment_methods: int
    orders: int
    order_items: int
    seconds: float

    def describe(self) -> str:
        return (
            f"{self.products} products ({self.variants} variants), {self.users} users "
            f"({self.payment_methods} payment methods), {self.orders} orders ({self.order_items} items) "
            f"in {self.seconds:.2f} s"
        )


# --- lossless conversion between pydantic models and rows ----------------------------------------------
#
# Each row's `extra` JSON keeps what the columns cannot say: undeclared keys of the model and of its
# nested models ("." for the model itself, else the nested field's name), optional fields that were set
# to an explicit null ("null"), and defaulted fields that were absent in the input ("unset"). With these,
# `to_tau2()` of a loaded model is exactly `to_tau2()` of the saved one.


def _extra_of(model: BaseModel, nested: Mapping[str, BaseModel] | None = None) -> dict[str, Any] | None:
    extra: dict[str, Any] = {}
    if model.model_extra:
        extra["."] = to_jsonable_python(model.model_extra)
    for name, sub in (nested or {}).items():
        if sub.model_extra:
            extra[name] = to_jsonable_python(sub.model_extra)
    fields = type(model).model_fields
    nulls = sorted(
        name
        for name in model.model_fields_set
        if name in fields and not fields[name].is_required() and getattr(model, name) is None
    )
    if nulls:
        extra["null"] = nulls
    unset = sorted(
        name
        for name, info in fields.items()
        if not info.is_required() and info.default is not None and name not in model.model_fields_set
    )
    if unset:
        extra["unset"] = unset
    return extra or None


def _build(model_type: type[M], values: dict[str, Any], extra: Mapping[str, Any] | None) -> M:
    """Rebuild a model from column values: None means "never set" unless extra records an explicit null."""
    extra = extra or {}
    fields = model_type.model_fields
    data: dict[str, Any] = {}
    nulls = set(extra.get("null", ()))
    unset = set(extra.get("unset", ()))
    for name, value in values.items():
        if name in unset:
            continue
        if value is None and name in fields and not fields[name].is_required() and name not in nulls:
            continue
        data[name] = value
    data.update(extra.get(".", {}))
    return model_type.model_validate(data)


def _sub_extra(extra: Mapping[str, Any] | None, name: str) -> dict[str, Any] | None:
    if not extra or name not in extra:
        return None
    return {".": extra[name]}


def product_rows(product: Product, position: int) -> tuple[Row, list[Row]]:
    for key, variant in product.variants.items():
        if key != variant.item_id:
            raise ShopDataError(
                f"product {product.product_id}: variant key {key!r} differs from its "
                f"item_id {variant.item_id!r}"
            )
    product_row: Row = {
        "product_id": product.product_id,
        "name": product.name,
        "position": position,
        "extra": _extra_of(product),
    }
    variant_rows = [
        {
            "item_id": variant.item_id,
            "product_id": product.product_id,
            "position": index,
            "options": dict(variant.options),
            "available": variant.available,
            "price": variant.price,
            "extra": _extra_of(variant),
        }
        for index, variant in enumerate(product.variants.values())
    ]
    return product_row, variant_rows


def product_from_rows(product_row: Mapping[str, Any], variant_rows: Sequence[Mapping[str, Any]]) -> Product:
    variants = {
        row["item_id"]: _build(
            Variant,
            {
                "item_id": row["item_id"],
                "options": row["options"],
                "available": row["available"],
                "price": row["price"],
            },
            row["extra"],
        )
        for row in sorted(variant_rows, key=lambda r: r["position"])
    }
    return _build(
        Product,
        {"name": product_row["name"], "product_id": product_row["product_id"], "variants": variants},
        product_row["extra"],
    )


def _address_values(address: Address) -> Row:
    return {name: getattr(address, name) for name in ADDRESS_FIELDS}


def _address_from(row: Mapping[str, Any], extra: Mapping[str, Any] | None) -> Address:
    return _build(Address, {name: row[name] for name in ADDRESS_FIELDS}, _sub_extra(extra, "address"))


def user_rows(user: User, position: int) -> tuple[Row, list[Row]]:
    for key, method in user.payment_methods.items():
        if key != method.id:
            raise ShopDataError(
                f"user {user.user_id}: payment method key {key!r} differs from its id {method.id!r}"
            )
    user_row: Row = {
        "user_id": user.user_id,
        "first_name": user.name.first_name,
        "last_name": user.name.last_name,
        "email": user.email,
        **_address_values(user.address),
        "order_ids": list(user.orders),
        "position": position,
        "extra": _extra_of(user, {"name": user.name, "address": user.address}),
    }
    method_rows = [
        {
            "user_id": user.user_id,
            "payment_method_id": method.id,
            "position": index,
            "source": method.source,
            "brand": method.brand,
            "last_four": method.last_four,
            "balance": method.balance,
            "extra": _extra_of(method),
        }
        for index, method in enumerate(user.payment_methods.values())
    ]
    return user_row, method_rows


def user_from_rows(user_row: Mapping[str, Any], method_rows: Sequence[Mapping[str, Any]]) -> User:
    extra = user_row["extra"]
    methods = {
        row["payment_method_id"]: _build(
            PaymentMethod,
            {
                "source": row["source"],
                "id": row["payment_method_id"],
                "brand": row["brand"],
                "last_four": row["last_four"],
                "balance": row["balance"],
            },
            row["extra"],
        )
        for row in sorted(method_rows, key=lambda r: r["position"])
    }
    name = _build(
        UserName,
        {"first_name": user_row["first_name"], "last_name": user_row["last_name"]},
        _sub_extra(extra, "name"),
    )
    return _build(
        User,
        {
            "user_id": user_row["user_id"],
            "name": name,
            "address": _address_from(user_row, extra),
            "email": user_row["email"],
            "payment_methods": methods,
            "orders": list(user_row["order_ids"]),
        },
        extra,
    )


def order_rows(order: Order, position: int) -> tuple[Row, list[Row], list[Row], list[Row]]:
    order_row: Row = {
        "order_id": order.order_id,
        "user_id": order.user_id,
        "status": order.status,
        **_address_values(order.address),
        "position": position,
        **{name: getattr(order, name) for name in ORDER_ACTION_FIELDS},
        "extra": _extra_of(order, {"address": order.address}),
    }
    for name in ("exchange_items", "exchange_new_items", "return_items"):
        if order_row[name] is not None:
            order_row[name] = list(order_row[name])
    item_rows = [
        {
            "order_id": order.order_id,
            "position": index,
            "item_id": item.item_id,
            "product_id": item.product_id,
            "name": item.name,
            "price": item.price,
            "options": dict(item.options),
            "extra": _extra_of(item),
        }
        for index, item in enumerate(order.items)
    ]
    fulfillment_rows = [
        {
            "order_id": order.order_id,
            "position": index,
            "tracking_ids": list(fulfillment.tracking_id),
            "item_ids": list(fulfillment.item_ids),
            "extra": _extra_of(fulfillment),
        }
        for index, fulfillment in enumerate(order.fulfillments)
    ]
    payment_rows = [
        {
            "order_id": order.order_id,
            "position": index,
            "transaction_type": payment.transaction_type,
            "amount": payment.amount,
            "payment_method_id": payment.payment_method_id,
            "extra": _extra_of(payment),
        }
        for index, payment in enumerate(order.payment_history)
    ]
    return order_row, item_rows, fulfillment_rows, payment_rows


def order_from_rows(
    order_row: Mapping[str, Any],
    item_rows: Sequence[Mapping[str, Any]],
    fulfillment_rows: Sequence[Mapping[str, Any]],
    payment_rows: Sequence[Mapping[str, Any]],
) -> Order:
    extra = order_row["extra"]

    def by_position(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return sorted(rows, key=lambda r: r["position"])

    items = [
        _build(
            OrderItem,
            {
                "name": row["name"],
                "product_id": row["product_id"],
                "item_id": row["item_id"],
                "price": row["price"],
                "options": row["options"],
            },
            row["extra"],
        )
        for row in by_position(item_rows)
    ]
    fulfillments = [
        _build(Fulfillment, {"tracking_id": row["tracking_ids"], "item_ids": row["item_ids"]}, row["extra"])
        for row in by_position(fulfillment_rows)
    ]
    payments = [
        _build(
            PaymentTransaction,
            {
                "transaction_type": row["transaction_type"],
                "amount": row["amount"],
                "payment_method_id": row["payment_method_id"],
            },
            row["extra"],
        )
        for row in by_position(payment_rows)
    ]
    return _build(
        Order,
        {
            "order_id": order_row["order_id"],
            "user_id": order_row["user_id"],
            "address": _address_from(order_row, extra),
            "items": items,
            "status": order_row["status"],
            "fulfillments": fulfillments,
            "payment_history": payments,
            **{name: order_row[name] for name in ORDER_ACTION_FIELDS},
        },
        extra,
    )


# --- sessions ------------------------------------------------------------------------------------------


def _chunks(rows: Sequence[Row], size: int = BULK_CHUNK) -> Iterator[Sequence[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _grouped(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return groups


class ShopSession:
    """Reads and writes of shop data inside one database transaction (see ShopStore.transaction)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- bulk helpers ---------------------------------------------------------------------------------

    def _rows(self, table: Table, where: ColumnElement[bool] | None = None) -> list[Mapping[str, Any]]:
        statement = select(table)
        if where is not None:
            statement = statement.where(where)
        return cast(list[Mapping[str, Any]], list(self.session.execute(statement).mappings()))

    def _insert(self, table: Table, rows: Sequence[Row]) -> None:
        for chunk in _chunks(rows):
            self.session.execute(insert(table), list(chunk))

    def _load_products(self, where: ColumnElement[bool] | None) -> list[Product]:
        product_rows_ = sorted(self._rows(PRODUCTS, where), key=lambda r: r["position"])
        if not product_rows_:
            return []
        variant_where = (
            None if where is None else VARIANTS.c.product_id.in_([r["product_id"] for r in product_rows_])
        )
        variants = _grouped(self._rows(VARIANTS, variant_where), "product_id")
        return [product_from_rows(row, variants.get(row["product_id"], [])) for row in product_rows_]

    def _load_users(self, where: ColumnElement[bool] | None) -> list[User]:
        user_rows_ = sorted(self._rows(USERS, where), key=lambda r: r["position"])
        if not user_rows_:
            return []
        method_where = (
            None if where is None else PAYMENT_METHODS.c.user_id.in_([r["user_id"] for r in user_rows_])
        )
        methods = _grouped(self._rows(PAYMENT_METHODS, method_where), "user_id")
        return [user_from_rows(row, methods.get(row["user_id"], [])) for row in user_rows_]

    def _load_orders(self, where: ColumnElement[bool] | None) -> list[Order]:
        order_rows_ = sorted(self._rows(ORDERS, where), key=lambda r: r["position"])
        if not order_rows_:
            return []
        ids = [r["order_id"] for r in order_rows_]

        def children(table: Table) -> dict[str, list[Mapping[str, Any]]]:
            return _grouped(
                self._rows(table, None if where is None else table.c.order_id.in_(ids)), "order_id"
            )

        items = children(ORDER_ITEMS)
        fulfillments = children(FULFILLMENTS)
        payments = children(PAYMENT_TRANSACTIONS)
        return [
            order_from_rows(
                row,
                items.get(row["order_id"], []),
                fulfillments.get(row["order_id"], []),
                payments.get(row["order_id"], []),
            )
            for row in order_rows_
        ]

    def _next_position(self, table: Table) -> int:
        highest = self.session.execute(select(func.max(table.c.position))).scalar()
        return 0 if highest is None else int(highest) + 1

    def _position_of(self, table: Table, key_column: str, key: str) -> int | None:
        value = self.session.execute(
            select(table.c.position).where(table.c[key_column] == key)
        ).scalar_one_or_none()
        return None if value is None else int(value)

    # -- reads ----------------------------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        users = self._load_users(USERS.c.user_id == user_id)
        return users[0] if users else None

    def get_order(self, order_id: str) -> Order | None:
        orders = self._load_orders(ORDERS.c.order_id == order_id)
        return orders[0] if orders else None

    def get_product(self, product_id: str) -> Product | None:
        products = self._load_products(PRODUCTS.c.product_id == product_id)
        return products[0] if products else None

    def get_product_by_item_id(self, item_id: str) -> Product | None:
        product_id = self.session.execute(
            select(VARIANTS.c.product_id).where(VARIANTS.c.item_id == item_id)
        ).scalar_one_or_none()
        return None if product_id is None else self.get_product(product_id)

    def list_products(self) -> list[Product]:
        return self._load_products(None)

    def list_users(self) -> list[User]:
        return self._load_users(None)

    def list_orders(self) -> list[Order]:
        return self._load_orders(None)

    def find_user_ids_by_email(self, email: str) -> list[str]:
        """Users whose e-mail equals `email`, ignoring case and surrounding spaces."""
        wanted = email.strip().lower()
        if not wanted:
            return []
        statement = (
            select(USERS.c.user_id).where(func.lower(USERS.c.email) == wanted).order_by(USERS.c.position)
        )
        return list(self.session.execute(statement).scalars())

    def find_user_ids_by_name_zip(self, first_name: str, last_name: str, zip_code: str) -> list[str]:
        """Users with this first name, last name and zip code, ignoring case and surrounding spaces."""
        first, last, zip_ = first_name.strip().lower(), last_name.strip().lower(), zip_code.strip().lower()
        if not (first and last and zip_):
            return []
        statement = (
            select(USERS.c.user_id)
            .where(
                func.lower(USERS.c.last_name) == last,
                func.lower(USERS.c.zip) == zip_,  # NL zips have letters ("1012 AB")
                func.lower(USERS.c.first_name) == first,
            )
            .order_by(USERS.c.position)
        )
        return list(self.session.execute(statement).scalars())

    def orders_of_user(self, user_id: str) -> list[Order]:
        """The user's orders, in the order of the user's own order list (then any others by import order)."""
        orders = self._load_orders(ORDERS.c.user_id == user_id)
        user_order_ids = (
            self.session.execute(
                select(USERS.c.order_ids).where(USERS.c.user_id == user_id)
            ).scalar_one_or_none()
            or []
        )
        rank = {order_id: index for index, order_id in enumerate(user_order_ids)}
        return sorted(orders, key=lambda o: rank.get(o.order_id, len(rank)))

    # -- writes ---------------------------------------------------------------------------------------

    def save_product(self, product: Product) -> None:
        """Insert or replace a product with all its variants."""
        position = self._position_of(PRODUCTS, "product_id", product.product_id)
        product_row, variant_rows = product_rows(
            product, self._next_position(PRODUCTS) if position is None else position
        )
        self.session.execute(delete(VARIANTS).where(VARIANTS.c.product_id == product.product_id))
        if position is None:
            self._insert(PRODUCTS, [product_row])
        else:
            self.session.execute(
                update(PRODUCTS).where(PRODUCTS.c.product_id == product.product_id).values(product_row)
            )
        self._insert(VARIANTS, variant_rows)

    def save_user(self, user: User) -> None:
        """Insert or replace a user with address and payment methods (gift card balances included)."""
        position = self._position_of(USERS, "user_id", user.user_id)
        user_row, method_rows = user_rows(user, self._next_position(USERS) if position is None else position)
        self.session.execute(delete(PAYMENT_METHODS).where(PAYMENT_METHODS.c.user_id == user.user_id))
        if position is None:
            self._insert(USERS, [user_row])
        else:
            self.session.execute(update(USERS).where(USERS.c.user_id == user.user_id).values(user_row))
        self._insert(PAYMENT_METHODS, method_rows)

    def save_order(self, order: Order) -> None:
        """Insert or replace an order with its items, fulfilments, payment history and action fields.

        A new order is also appended to its user's order list, so the user and the order stay consistent.
        """
        owner_order_ids = self.session.execute(
            select(USERS.c.order_ids).where(USERS.c.user_id == order.user_id)
        ).one_or_none()
        if owner_order_ids is None:
            raise ShopDataError(f"order {order.order_id}: user {order.user_id!r} does not exist")
        position = self._position_of(ORDERS, "order_id", order.order_id)
        order_row, item_rows, fulfillment_rows, payment_rows = order_rows(
            order, self._next_position(ORDERS) if position is None else position
        )
        for table in (ORDER_ITEMS, FULFILLMENTS, PAYMENT_TRANSACTIONS):
            self.session.execute(delete(table).where(table.c.order_id == order.order_id))
        if position is None:
            self._insert(ORDERS, [order_row])
        else:
            self.session.execute(update(ORDERS).where(ORDERS.c.order_id == order.order_id).values(order_row))
        self._insert(ORDER_ITEMS, item_rows)
        self._insert(FULFILLMENTS, fulfillment_rows)
        self._insert(PAYMENT_TRANSACTIONS, payment_rows)
        order_ids = list(owner_order_ids[0] or [])
        if order.order_id not in order_ids:
            self.session.execute(
                update(USERS)
                .where(USERS.c.user_id == order.user_id)
                .values(order_ids=[*order_ids, order.order_id])
            )

    def delete_all(self) -> None:
        """Remove every shop row (children first, so foreign keys never object)."""
        for table in SHOP_TABLES:
            self.session.execute(delete(table))

    def counts(self) -> dict[str, int]:
        return {
            str(table.name): int(self.session.execute(select(func.count()).select_from(table)).scalar_one())
            for table in SHOP_TABLES
        }


class ShopStore:
    """The shop's data in a SQL database (SQLite file or PostgreSQL), addressed by URL."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def migrate(self) -> None:
        """Create or upgrade the tables (Alembic, idempotent)."""
        migrate(self.database_url)

    @contextmanager
    def transaction(self) -> Iterator[ShopSession]:
        """One database transaction: committed when the block ends, rolled back on any exception."""
        with session_scope(self.database_url) as session:
            yield ShopSession(session)

    def import_data(
        self, data: ShopData, replace: bool = True, progress: Callable[[int], None] | None = None
    ) -> ImportSummary:
        """Load a whole shop in one transaction (all or nothing).

        replace=True empties the shop tables first; replace=False adds to them, replacing the products,
        users and orders whose ids come again. `progress(n)` is told each time n more records are stored.
        """
        started = time.perf_counter()
        _check_consistency(data)
        with self.transaction() as shop:
            if replace:
                shop.delete_all()
                _bulk_insert(shop, data, progress)
            else:
                for product in data.products.values():
                    shop.save_product(product)
                for user in data.users.values():
                    shop.save_user(user)
                if progress:
                    progress(len(data.products) + len(data.users))
                for order in data.orders.values():
                    shop.save_order(order)
                if progress:
                    progress(len(data.orders))
        return ImportSummary(
            products=len(data.products),
            variants=sum(len(p.variants) for p in data.products.values()),
            users=len(data.users),
            payment_methods=sum(len(u.payment_methods) for u in data.users.values()),
            orders=len(data.orders),
            order_items=sum(len(o.items) for o in data.orders.values()),
            seconds=time.perf_counter() - started,
        )

    def export_data(self) -> ShopData:
        """The whole shop, in import order, as one ShopData (its to_tau2() is τ²'s db.json shape)."""
        with self.transaction() as shop:
            products = shop.list_products()
            users = shop.list_users()
            orders = shop.list_orders()
        return ShopData(
            products={p.product_id: p for p in products},
            users={u.user_id: u for u in users},
            orders={o.order_id: o for o in orders},
        )


def _check_consistency(data: ShopData) -> None:
    """Refuse data whose dictionary keys and ids disagree (the export could not reproduce it)."""
    for kind, mapping, id_field in (
        ("product", data.products, "product_id"),
        ("user", data.users, "user_id"),
        ("order", data.orders, "order_id"),
    ):
        for key, value in mapping.items():  # type: ignore[attr-defined]
            if key != getattr(value, id_field):
                raise ShopDataError(
                    f"{kind} key {key!r} differs from its {id_field} {getattr(value, id_field)!r}"
                )
    item_owner: dict[str, str] = {}
    for product in data.products.values():
        for item_id in product.variants:
            if item_id in item_owner:
                raise ShopDataError(
                    f"item id {item_id} appears in products {item_owner[item_id]} and {product.product_id}"
                )
            item_owner[item_id] = product.product_id


def _bulk_insert(shop: ShopSession, data: ShopData, progress: Callable[[int], None] | None) -> None:
    product_table_rows: list[Row] = []
    variant_rows: list[Row] = []
    for position, product in enumerate(data.products.values()):
        product_row, variants = product_rows(product, position)
        product_table_rows.append(product_row)
        variant_rows.extend(variants)
    shop._insert(PRODUCTS, product_table_rows)
    shop._insert(VARIANTS, variant_rows)
    if progress:
        progress(len(product_table_rows))

    user_table_rows: list[Row] = []
    method_rows: list[Row] = []
    for position, user in enumerate(data.users.values()):
        user_row, methods = user_rows(user, position)
        user_table_rows.append(user_row)
        method_rows.extend(methods)
    shop._insert(USERS, user_table_rows)
    shop._insert(PAYMENT_METHODS, method_rows)
    if progress:
        progress(len(user_table_rows))

    for order in data.orders.values():
        if order.user_id not in data.users:
            raise ShopDataError(f"order {order.order_id}: user {order.user_id!r} is not in the data")
    orders = list(data.orders.values())
    for start in range(0, len(orders), BULK_CHUNK):
        batch = orders[start : start + BULK_CHUNK]
        order_table_rows: list[Row] = []
        item_rows: list[Row] = []
        fulfillment_rows: list[Row] = []
        payment_rows: list[Row] = []
        for offset, order in enumerate(batch):
            order_row, items, fulfillments, payments = order_rows(order, start + offset)
            order_table_rows.append(order_row)
            item_rows.extend(items)
            fulfillment_rows.extend(fulfillments)
            payment_rows.extend(payments)
        shop._insert(ORDERS, order_table_rows)
        shop._insert(ORDER_ITEMS, item_rows)
        shop._insert(FULFILLMENTS, fulfillment_rows)
        shop._insert(PAYMENT_TRANSACTIONS, payment_rows)
        if progress:
            progress(len(batch))


def validate_shop_data(raw: Any) -> ShopData:
    """Parse raw JSON into ShopData; pydantic's error becomes a ShopDataError naming the first problems."""
    if not isinstance(raw, dict):
        raise ShopDataError(
            f"expected a JSON object with products, users and orders, got {type(raw).__name__}"
        )
    missing = [key for key in ("products", "users", "orders") if key not in raw]
    if missing:
        raise ShopDataError(f"missing top-level key(s): {', '.join(missing)}")
    try:
        return ShopData.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()[:5]]
        more = "" if exc.error_count() <= 5 else f" (and {exc.error_count() - 5} more)"
        raise ShopDataError("invalid shop data: " + "; ".join(problems) + more) from None
