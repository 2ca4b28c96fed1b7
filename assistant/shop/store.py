"""The shop's SQL store: load and save the pydantic models of schema.py, one transaction at a time.

`ShopStore` owns the database URL; `ShopStore.transaction()` yields a `ShopSession` (session.py) whose reads
and writes all happen in one transaction (committed on success, rolled back on any exception), so a tool
that fails half-way writes nothing. `import_data` bulk-loads a whole `ShopData` in one transaction and
`export_data` rebuilds it exactly (import + export is an identity on the τ² JSON; rows.py says how).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from assistant.db import migrate, session_scope
from assistant.shop.schema import ShopData
from assistant.shop.session import ShopSession
from assistant.shop.validation import ShopDataError, check_consistency, validate_shop_data

# Callers import these from here (`assistant.shop.store`): the session, the error and the validator.
__all__ = [
    "ImportSummary",
    "ShopDataError",
    "ShopSession",
    "ShopStore",
    "validate_shop_data",
]

Progress = Callable[[int], None] | None


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

    def import_data(self, data: ShopData, replace: bool = True, progress: Progress = None) -> ImportSummary:
        """Load a whole shop in one transaction (all or nothing).

        replace=True empties the shop tables first; replace=False adds to them, replacing the products,
        users and orders whose ids come again. `progress(n)` is told each time n more records are stored.
        """
        started = time.perf_counter()
        check_consistency(data)
        with self.transaction() as shop:
            if replace:
                shop.delete_all()
                shop.bulk_insert(data, progress)
            else:
                _upsert_all(shop, data, progress)
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


def _upsert_all(shop: ShopSession, data: ShopData, progress: Progress) -> None:
    """Add to the shop record by record, replacing the products, users and orders whose ids come again."""
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
