"""Migration 0004 creates exactly what the channel, contact and one-time-code models declare, and goes down
and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings

import pytest

from assistant.db import make_engine, migrate, normalise_url
from knowledge.settings import Settings

MY_TABLES = ("contacts", "contact_identities", "chan_", "identity_otp_codes", "contact_id", "identity_id")


def _diffs(url: str) -> list[str]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import assistant.channels.models  # noqa: F401  (register the tables)
    import assistant.contacts.models  # noqa: F401
    import assistant.identity.otp  # noqa: F401
    from assistant.db import Base

    with make_engine(url).connect() as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    return [repr(d) for d in diffs if any(name in repr(d) for name in MY_TABLES)]


def _down_and_up(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from assistant.db import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    with make_engine(url).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003_desk")
    with make_engine(url).connect() as conn:
        import sqlalchemy as sa

        assert "contacts" not in sa.inspect(conn).get_table_names()
    migrate(url)


def test_migration_matches_models_sqlite(settings: Settings) -> None:
    url = str(settings.database_url)
    migrate(url)
    assert _diffs(url) == []
    _down_and_up(url)
    assert _diffs(url) == []


@pytest.mark.postgres
def test_migration_matches_models_postgres(postgres_url: str) -> None:
    migrate(postgres_url)
    assert _diffs(postgres_url) == []
    _down_and_up(postgres_url)
    assert _diffs(postgres_url) == []


@pytest.mark.postgres
def test_channel_stores_on_postgres(postgres_url: str) -> None:
    """The inbound log, deliveries, contacts, codes and leases on PostgreSQL (row locks, unique indexes)."""
    from assistant.channels.base import InboundMessage
    from assistant.channels.inbox import Inbox
    from assistant.channels.leases import Leases
    from assistant.channels.outbox import Outbox
    from assistant.contacts.store import ContactStore
    from assistant.identity.otp import OneTimeCodes
    from assistant.store.conversations import ConversationStore
    from assistant.store.models import MessageRole

    conversations = ConversationStore(postgres_url)
    conversations.migrate()
    inbox, outbox = Inbox(postgres_url), Outbox(postgres_url)
    message = InboundMessage("sms", "SMpg1", "phone", "+15550100100", "hi")
    assert inbox.store(message).created and not inbox.store(message).created
    [claimed] = inbox.claim()
    assert inbox.claim() == []  # claimed once
    contacts = ContactStore(postgres_url)
    phone = contacts.resolve("phone", "+15550100100")
    email = contacts.resolve("email", "pg@example.com")
    chat, _ = conversations.create_conversation("sms", contact_id=phone.contact_id, identity_id=phone.id)
    contacts.link(phone.id, email.contact_id, "otp")
    assert conversations.get(chat.id).contact_id == email.contact_id
    contacts.split(phone.id)
    reply = conversations.add_message(chat.id, MessageRole.BOT, "hello")
    assert outbox.unqueued_messages() == [(chat.id, reply.seq, "sms", phone.id)]
    delivery = outbox.enqueue(chat.id, reply.seq, "sms", "+15550100100")
    assert delivery is not None and outbox.enqueue(chat.id, reply.seq, "sms", "+15550100100") is None
    [due] = outbox.claim_due()
    assert outbox.failed(due.id, "503", permanent=False, max_attempts=2, base_s=0, max_s=0) == "pending"
    inbox.finish(claimed.id, "done", conversation_id=chat.id)
    codes = OneTimeCodes(postgres_url)
    sent: list[str] = []
    codes.issue("link", "phone:+15550100100>email:pg@example.com", sent.append)
    assert codes.latest_target("link", "phone:+15550100100>") is not None
    assert codes.verify("link", "phone:+15550100100>email:pg@example.com", sent[0]).ok
    leases = Leases(postgres_url)
    assert leases.acquire("imap-poller", "a", 30) and not leases.acquire("imap-poller", "b", 30)
