"""Named leases in the database: one holder at a time across processes (the mailbox poller runs once
however many API workers or `parley worker` processes run). A holder renews before `ttl_s` runs out; a
crashed holder's lease expires and another takes over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError

from assistant.channels.models import LeaseRow
from assistant.db import session_factory


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
