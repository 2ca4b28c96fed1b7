"""Contact tables: a contact (one person) and the channel identities that are proven to be them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base
from assistant.store.models import Timestamps, utcnow


class ContactRow(Timestamps, Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The shop user this person proved to be (signed token, or a one-time code to the address on file).
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)


class IdentityRow(Base):
    __tablename__ = "contact_identities"
    __table_args__ = (Index("ix_contact_identities_kind_value", "kind", "value", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | phone | whatsapp | widget | api
    value: Mapped[str] = mapped_column(String(320))  # normalised: lower-case email, E.164 phone, ids
    # none (seen, never proven) | otp (a code sent to it was typed back) | token (shop-signed) | agent
    proof: Mapped[str] = mapped_column(String(16), default="none")
    display_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
