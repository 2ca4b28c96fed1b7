"""The shop tables: what the migration creates equals what the models declare; the delete order."""

from __future__ import annotations

import warnings

from assistant.shop.models import SHOP_TABLES
from assistant.shop.store import ShopStore


def test_migration_matches_models(database_url: str) -> None:
    """The hand-written Alembic revision creates exactly what the models declare (shop tables)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from assistant.db import Base, make_engine

    ShopStore(database_url).migrate()
    with make_engine(database_url).connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLite cannot reflect expression indexes; says so in a warning
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    shop_diffs = [diff for diff in diffs if "shop_" in repr(diff)]
    assert shop_diffs == []


def test_shop_tables_list_children_before_parents() -> None:
    names = [str(table.name) for table in SHOP_TABLES]
    assert len(names) == 8 and all(name.startswith("shop_") for name in names)
    for index, table in enumerate(SHOP_TABLES):
        parents = {fk.column.table.name for fk in table.foreign_keys}
        assert parents <= set(names[index + 1 :]), table.name  # a parent is deleted after its children
