"""One SQLAlchemy Base for every table (shop data and conversations), engines, sessions, migrations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """A model's table, for Core statements built once (no ORM unit of work on the hot paths of a turn)."""
    return cast(Table, model.__table__)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes (it drops the timezone on read); every time we store is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


RowT = TypeVar("RowT")


def get_row(session: Session, model: type[RowT], key: object, missing: Exception) -> RowT:
    """The row of `model` with primary key `key`; `missing` is raised when there is none."""
    row = session.get(model, key)
    if row is None:
        raise missing
    return row


def add_row(sessions: sessionmaker[Session], row: Any) -> int:
    """Insert one row in a transaction of its own; the id the database gave it. An IntegrityError (a
    duplicate) propagates and leaves nothing behind."""
    with sessions.begin() as session:
        session.add(row)
        session.flush()
        return int(row.id)


def columns(row: object, names: str) -> dict[str, Any]:
    """The named attributes of a table row (or any record), by name (`names` separated by spaces, as
    namedtuple takes them): the columns a record takes over as they are stored."""
    return {name: getattr(row, name) for name in names.split()}


def normalise_url(url: str) -> str:
    """Accept postgresql:// and postgres:// and pick the psycopg 3 driver we ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=8)
def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # WAL lets API workers read while another writes; FKs are off by default in SQLite.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def engine_of(sessions: sessionmaker[Session]) -> Engine:
    """The engine a session factory is bound to: for Core statements next to the factory's ORM sessions."""
    engine: Engine = sessions.kw["bind"]
    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(bind=make_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error (so a failed rule never half-writes)."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_REVISION_RE = re.compile(r"^(down_revision|revision)\s*=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)


def head_revision() -> str | None:
    """The newest revision in the migrations folder (the one no other revision builds on), read as text."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for kind, value in _REVISION_RE.findall(path.read_text(encoding="utf-8")):
            (revisions if kind == "revision" else parents).add(value)
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def is_current(url: str) -> bool:
    """Is the database already at the newest revision? (a cheap read: no Alembic import)."""
    head = head_revision()
    try:
        with make_engine(url).connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).fetchall()
    except SQLAlchemyError:
        return False
    return head is not None and [r[0] for r in rows] == [head]


def migrate(url: str) -> None:
    """Bring the database to the newest Alembic revision (idempotent; a database already there costs one read,
    which keeps the start of `parley chat` and of each worker short)."""
    if is_current(url):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    with make_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
