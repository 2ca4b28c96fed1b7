"""Named leases in the database: one holder at a time across processes (the mailbox poller runs once
however many API workers or `parley worker` processes run). A holder renews before `ttl_s` runs out; a
crashed holder's lease expires and another takes over."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from assistant.channels.models import LeaseRow
from assistant.db import session_factory

T = TypeVar("T")


def newest_rows(
    sessions: sessionmaker[Session],
    table: Any,
    convert: Callable[[Any], T],
    limit: int,
    *,
    status: str | None = None,
    conversation_ids: Sequence[str] | None = None,
) -> list[T]:
    """At most `limit` rows of a channel table (inbox or outbox), newest (highest id) first, converted: those
    with this `status` and of these conversations (None: any)."""
    conditions: list[ColumnElement[bool]] = []
    if status is not None:
        conditions.append(table.status == status)
    if conversation_ids is not None:
        conditions.append(table.conversation_id.in_(conversation_ids))
    with sessions() as session:
        stmt = select(table).where(*conditions).order_by(table.id.desc())
        return [convert(row) for row in session.scalars(stmt.limit(limit)).all()]


def claim_rows(
    sessions: sessionmaker[Session],
    table: Any,
    ready: Callable[[datetime], Sequence[ColumnElement[bool]]],
    convert: Callable[[Any], T],
    *,
    limit: int,
    lease_s: float,
    also: dict[str, Any] | None = None,
) -> list[T]:
    """Rows of `table` that are `ready` and not leased, oldest first, each leased to exactly one caller for
    `lease_s` seconds (a conditional UPDATE per row: two workers never claim the same one)."""
    now = datetime.now(UTC)
    free = or_(table.locked_until.is_(None), table.locked_until < now)
    with sessions() as session:
        ids = session.scalars(select(table.id).where(*ready(now), free).order_by(table.id).limit(limit)).all()
    claimed = []
    for row_id in ids:
        with sessions.begin() as session:
            result = session.execute(
                update(table)
                .where(table.id == row_id, *ready(now), free)
                .values(locked_until=now + timedelta(seconds=lease_s), **(also or {}))
            )
            if result.rowcount:  # type: ignore[attr-defined]
                row = session.get(table, row_id)
                assert row is not None
                claimed.append(convert(row))
    return claimed


class Leases:
    def __init__(self, database_url: str) -> None:
        self._sessions = session_factory(database_url)

    def acquire(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take or renew `name` for `holder`; False while someone else holds a live lease."""
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=ttl_s)
        with self._sessions.begin() as session:
            result = session.execute(
                update(LeaseRow)
                .where(LeaseRow.name == name, or_(LeaseRow.holder == holder, LeaseRow.expires_at < now))
                .values(holder=holder, expires_at=expires)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                return True
        try:
            with self._sessions.begin() as session:
                session.add(LeaseRow(name=name, holder=holder, expires_at=expires))
            return True
        except IntegrityError:
            return False  # it exists and is someone else's

    def release(self, name: str, holder: str) -> None:
        with self._sessions.begin() as session:
            session.execute(delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder))
