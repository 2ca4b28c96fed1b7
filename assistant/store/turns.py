"""One turn at a time per conversation, across threads, processes and hosts: a lease row in the database.

`TurnLocks.hold(conversation_id)` inserts the conversation's lock row (the primary key lets one writer in),
or waits. A lease whose holder is a dead process on this host, or whose time ran out (a holder on another
host that died), is taken over by a conditional UPDATE, so a crashed worker never blocks a conversation for
longer than the lease. The same SQL works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Float, String, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from assistant.db import Base, engine_of, table_of

TURN_LEASE_S = 180.0  # longer than any turn's deadline; a dead holder on another host is waited out
TURN_WAIT_S = 120.0
POLL_S = 0.05


class TurnLockRow(Base):
    __tablename__ = "conv_turn_locks"

    conversation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(160))
    expires_at: Mapped[float] = mapped_column(Float)  # epoch seconds (compares the same on every database)


_LOCKS = table_of(TurnLockRow)
_TAKE = insert(_LOCKS)
_RELEASE = delete(_LOCKS).where(
    _LOCKS.c.conversation_id == bindparam("b_id"), _LOCKS.c.owner == bindparam("b_owner")
)


class TurnBusy(RuntimeError):
    """Another turn of this conversation held the lock for longer than we were willing to wait."""


def _host() -> str:
    return socket.gethostname()[:100]


def new_owner() -> str:
    return f"{_host()}|{os.getpid()}|{uuid.uuid4().hex[:12]}"


def holder_is_dead(owner: str, host: str | None = None) -> bool:
    """A holder on this host whose process is gone (killed, crashed). Other hosts: only the lease says."""
    parts = owner.split("|")
    if len(parts) != 3 or parts[0] != (host or _host()) or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class TurnLocks:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._engine = engine_of(sessions)  # the two writes of every turn go on a Core connection

    def try_acquire(self, conversation_id: str, owner: str, lease_s: float = TURN_LEASE_S) -> bool:
        now = time.time()
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    _TAKE, {"conversation_id": conversation_id, "owner": owner, "expires_at": now + lease_s}
                )
            return True
        except IntegrityError:
            pass
        with self._sessions() as session:
            current = session.execute(
                select(TurnLockRow.owner, TurnLockRow.expires_at).where(
                    TurnLockRow.conversation_id == conversation_id
                )
            ).first()
        if current is None:
            return False  # released in between: the next try inserts
        held_by, expires_at = current
        if expires_at >= now and not holder_is_dead(held_by):
            return False
        with self._sessions.begin() as session:
            taken = session.execute(
                update(TurnLockRow)
                .where(TurnLockRow.conversation_id == conversation_id, TurnLockRow.owner == held_by)
                .values(owner=owner, expires_at=now + lease_s)
            )
        return bool(taken.rowcount)  # type: ignore[attr-defined]

    def release(self, conversation_id: str, owner: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(_RELEASE, {"b_id": conversation_id, "b_owner": owner})

    @contextmanager
    def hold(
        self, conversation_id: str, wait_s: float = TURN_WAIT_S, lease_s: float = TURN_LEASE_S
    ) -> Iterator[str]:
        """Wait for this conversation's turn (raises TurnBusy after wait_s), hold it, release it."""
        owner = new_owner()
        deadline = time.monotonic() + wait_s
        while not self.try_acquire(conversation_id, owner, lease_s):
            if time.monotonic() > deadline:
                raise TurnBusy(f"conversation {conversation_id} is busy with another turn")
            time.sleep(POLL_S)
        try:
            yield owner
        finally:
            self.release(conversation_id, owner)
