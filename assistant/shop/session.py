"""Reads and writes of shop data inside one database transaction (`ShopStore.transaction()` yields one).

Rows are read and written with SQLAlchemy Core on the tables of models.py and converted by rows.py, so
what comes back is exactly what was saved.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from assistant.shop import rows
from assistant.shop.models import (
    FULFILLMENTS,
    ORDER_ITEMS,
    ORDERS,
    PAYMENT_METHODS,
    PAYMENT_TRANSACTIONS,
    PRODUCTS,
    SHOP_TABLES,
    USERS,
    VARIANTS,
)
from assistant.shop.rows import Row
from assistant.shop.schema import Order, Product, ShopData, User
from assistant.shop.validation import ShopDataError, check_order_owners

# Rows per INSERT statement in bulk imports (keeps statements well under SQLite's variable limit).
BULK_CHUNK = 500


def _chunks(table_rows: Sequence[Row], size: int = BULK_CHUNK) -> Iterator[Sequence[Row]]:
    for start in range(0, len(table_rows), size):
        yield table_rows[start : start + size]


def _grouped(found: Iterable[Mapping[str, Any]], key: str) -> dict[str, list[Mapping[str, Any]]]:
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in found:
        groups[row[key]].append(row)
    return groups


T = TypeVar("T")


def _first(found: list[T]) -> T | None:
    return found[0] if found else None


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

    def insert_rows(self, table: Table, table_rows: Sequence[Row]) -> None:
        """INSERT the rows, BULK_CHUNK per statement."""
        for chunk in _chunks(table_rows):
            self.session.execute(insert(table), list(chunk))

    def _children(
        self, table: Table, key: str, parents: list[Mapping[str, Any]], everything: bool
    ) -> dict[str, list[Mapping[str, Any]]]:
        """Rows of `table` grouped by `key`: all of them, or those of the `parents` only."""
        where = None if everything else table.c[key].in_([row[key] for row in parents])
        return _grouped(self._rows(table, where), key)

    def _load(
        self,
        table: Table,
        key: str,
        where: ColumnElement[bool] | None,
        children: tuple[Table, ...],
        build: Callable[..., T],
    ) -> list[T]:
        """Models from the rows of `table` (in position order) and their children's rows, grouped by key."""
        parents = sorted(self._rows(table, where), key=lambda r: r["position"])
        if not parents:
            return []
        groups = [self._children(child, key, parents, where is None) for child in children]
        return [build(row, *(group.get(row[key], []) for group in groups)) for row in parents]

    def _load_products(self, where: ColumnElement[bool] | None) -> list[Product]:
        return self._load(PRODUCTS, "product_id", where, (VARIANTS,), rows.product_from_rows)

    def _load_users(self, where: ColumnElement[bool] | None) -> list[User]:
        return self._load(USERS, "user_id", where, (PAYMENT_METHODS,), rows.user_from_rows)

    def _load_orders(self, where: ColumnElement[bool] | None) -> list[Order]:
        children = (ORDER_ITEMS, FULFILLMENTS, PAYMENT_TRANSACTIONS)
        return self._load(ORDERS, "order_id", where, children, rows.order_from_rows)

    def _next_position(self, table: Table) -> int:
        highest = self.session.execute(select(func.max(table.c.position))).scalar()
        return 0 if highest is None else int(highest) + 1

    def _position_of(self, table: Table, key_column: str, key: str) -> int | None:
        value = self.session.execute(
            select(table.c.position).where(table.c[key_column] == key)
        ).scalar_one_or_none()
        return None if value is None else int(value)

    def _upsert(self, table: Table, key_column: str, row: Row, position: int | None) -> None:
        """Insert `row`, or update the row with its key when one exists (`position` is not None)."""
        if position is None:
            self.insert_rows(table, [row])
        else:
            key = table.c[key_column] == row[key_column]
            self.session.execute(update(table).where(key).values(row))

    # -- reads ----------------------------------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        return _first(self._load_users(USERS.c.user_id == user_id))

    def get_order(self, order_id: str) -> Order | None:
        return _first(self._load_orders(ORDERS.c.order_id == order_id))

    def get_product(self, product_id: str) -> Product | None:
        return _first(self._load_products(PRODUCTS.c.product_id == product_id))

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
        rank = {order_id: index for index, order_id in enumerate(self._order_ids_of(user_id) or [])}
        return sorted(orders, key=lambda o: rank.get(o.order_id, len(rank)))

    def _order_ids_of(self, user_id: str) -> list[str] | None:
        """The user's own order list; None when there is no such user."""
        statement = select(USERS.c.order_ids).where(USERS.c.user_id == user_id)
        found = self.session.execute(statement).one_or_none()
        return None if found is None else list(found[0] or [])

    # -- writes ---------------------------------------------------------------------------------------

    def _save(
        self,
        model: Any,
        to_rows: Callable[[Any, int], tuple[Any, ...]],
        table: Table,
        key_column: str,
        children: tuple[Table, ...],
    ) -> None:
        """Insert or replace one model's row (keeping its position) and all its child rows."""
        key = getattr(model, key_column)
        position = self._position_of(table, key_column, key)
        parent_row, *child_rows = to_rows(model, self._next_position(table) if position is None else position)
        for child in children:
            self.session.execute(delete(child).where(child.c[key_column] == key))
        self._upsert(table, key_column, parent_row, position)
        for child, table_rows in zip(children, child_rows, strict=True):
            self.insert_rows(child, table_rows)

    def save_product(self, product: Product) -> None:
        """Insert or replace a product with all its variants."""
        self._save(product, rows.product_rows, PRODUCTS, "product_id", (VARIANTS,))

    def save_user(self, user: User) -> None:
        """Insert or replace a user with address and payment methods (gift card balances included)."""
        self._save(user, rows.user_rows, USERS, "user_id", (PAYMENT_METHODS,))

    def save_order(self, order: Order) -> None:
        """Insert or replace an order with its items, fulfilments, payment history and action fields.

        A new order is also appended to its user's order list, so the user and the order stay consistent.
        """
        order_ids = self._order_ids_of(order.user_id)
        if order_ids is None:
            raise ShopDataError(f"order {order.order_id}: user {order.user_id!r} does not exist")
        children = (ORDER_ITEMS, FULFILLMENTS, PAYMENT_TRANSACTIONS)
        self._save(order, rows.order_rows, ORDERS, "order_id", children)
        if order.order_id not in order_ids:
            self.session.execute(
                update(USERS)
                .where(USERS.c.user_id == order.user_id)
                .values(order_ids=[*order_ids, order.order_id])
            )

    def bulk_insert(self, data: ShopData, progress: Callable[[int], None] | None = None) -> None:
        """Insert a whole shop into empty tables: products, users, then orders BULK_CHUNK at a time."""
        self._insert_models(data.products.values(), rows.product_rows, (PRODUCTS, VARIANTS), None, progress)
        self._insert_models(data.users.values(), rows.user_rows, (USERS, PAYMENT_METHODS), None, progress)
        check_order_owners(data)
        order_tables = (ORDERS, ORDER_ITEMS, FULFILLMENTS, PAYMENT_TRANSACTIONS)
        self._insert_models(data.orders.values(), rows.order_rows, order_tables, BULK_CHUNK, progress)

    def _insert_models(
        self,
        models: Iterable[Any],
        to_rows: Callable[[Any, int], tuple[Any, ...]],
        tables: tuple[Table, ...],
        batch: int | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        """The rows of `models` (a parent row, then lists of child rows) into `tables`, `batch` models at a
        time (None: all at once); `progress(n)` after each batch."""
        everything = list(models)
        if batch is None:
            batches = [(0, everything)]
        else:
            batches = [
                (start, everything[start : start + batch]) for start in range(0, len(everything), batch)
            ]
        for start, chunk in batches:
            collected: list[list[Row]] = [[] for _ in tables]
            for offset, model in enumerate(chunk):
                parent_row, *child_rows = to_rows(model, start + offset)
                collected[0].append(parent_row)
                for rows_of_table, more in zip(collected[1:], child_rows, strict=True):
                    rows_of_table.extend(more)
            for table, table_rows in zip(tables, collected, strict=True):
                self.insert_rows(table, table_rows)
            if progress:
                progress(len(chunk))

    def delete_all(self) -> None:
        """Remove every shop row (children first, so foreign keys never object)."""
        for table in SHOP_TABLES:
            self.session.execute(delete(table))

    def counts(self) -> dict[str, int]:
        return {
            str(table.name): int(self.session.execute(select(func.count()).select_from(table)).scalar_one())
            for table in SHOP_TABLES
        }
