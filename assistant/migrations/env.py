"""Alembic environment: runs on the connection handed in by assistant.db.migrate, or on the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import assistant.routing.models  # noqa: F401  (registers desk tables)
import assistant.shop.models  # noqa: F401  (registers shop tables)
import assistant.store.actions  # noqa: F401  (registers the action records)
import assistant.store.models  # noqa: F401  (registers conversation tables)
import assistant.store.turns  # noqa: F401  (registers the turn locks)
from assistant.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
