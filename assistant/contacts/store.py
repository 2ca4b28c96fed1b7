"""The contact store: identities resolved to contacts, proofs raised, identities linked and split.

A conversation belongs to one channel identity and, through it, to a contact. Linking moves an identity (and
its conversations) into another contact; splitting moves it out into a contact of its own, which undoes a
wrong merge. Every change is one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.contacts.identities import PROOF_RANK, normalise, stronger
from assistant.contacts.models import ContactRow, IdentityRow
from assistant.db import get_row, session_factory
from assistant.store.conversations import Conversation, _conversation
from assistant.store.models import ConversationRow, utcnow


class ContactNotFound(LookupError):
    pass


class ContactConflict(RuntimeError):
    """The change would join two different shop accounts, or undo something only a proof can do."""


@dataclass(frozen=True)
class Identity:
    id: int
    contact_id: str
    kind: str
    value: str
    proof: str
    display_name: str | None = None
    verified_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}"


@dataclass
class Contact:
    id: str
    display_name: str | None
    user_id: str | None
    identities: list[Identity] = field(default_factory=list)
    created_at: datetime | None = None


def _identity(row: IdentityRow) -> Identity:
    return Identity(row.id, row.contact_id, row.kind, row.value, row.proof, row.display_name, row.verified_at)


class ContactStore:
    def __init__(self, database_url: str) -> None:
        self._sessions = session_factory(database_url)

    # --- reading ---------------------------------------------------------------------------------
    def get(self, contact_id: str) -> Contact:
        with self._sessions() as session:
            return self._contact(session, contact_id)

    @staticmethod
    def _contact(session: Session, contact_id: str) -> Contact:
        row = get_row(session, ContactRow, contact_id, ContactNotFound(contact_id))
        identities = session.scalars(
            select(IdentityRow).where(IdentityRow.contact_id == contact_id).order_by(IdentityRow.id)
        ).all()
        return Contact(
            row.id, row.display_name, row.user_id, [_identity(i) for i in identities], row.created_at
        )

    def identity(self, identity_id: int) -> Identity:
        with self._sessions() as session:
            row = get_row(session, IdentityRow, identity_id, ContactNotFound(f"identity {identity_id}"))
            return _identity(row)

    def find(self, kind: str, value: str) -> Identity | None:
        with self._sessions() as session:
            row = session.scalars(
                select(IdentityRow).where(
                    IdentityRow.kind == kind, IdentityRow.value == normalise(kind, value)
                )
            ).first()
            return _identity(row) if row is not None else None

    def contact_of_user(self, user_id: str) -> Contact | None:
        with self._sessions() as session:
            row = session.scalars(select(ContactRow).where(ContactRow.user_id == user_id).limit(1)).first()
            return self._contact(session, row.id) if row is not None else None

    def list_contacts(self, query: str = "", limit: int = 50) -> list[Contact]:
        """Contacts with the newest activity first; `query` matches a name or an identity's value."""
        with self._sessions() as session:
            stmt = select(ContactRow).order_by(ContactRow.updated_at.desc()).limit(limit)
            if query:
                like = f"%{query.strip().lower()[:100]}%"
                stmt = stmt.where(
                    or_(
                        func.lower(ContactRow.display_name).like(like),
                        ContactRow.id.in_(
                            select(IdentityRow.contact_id).where(func.lower(IdentityRow.value).like(like))
                        ),
                    )
                )
            return [self._contact(session, row.id) for row in session.scalars(stmt).all()]

    def conversations(
        self, contact_id: str, identity_id: int | None = None, limit: int = 50
    ) -> list[Conversation]:
        """The contact's conversations (or one identity's), newest activity first."""
        with self._sessions() as session:
            stmt = (
                select(ConversationRow)
                .where(ConversationRow.contact_id == contact_id)
                .order_by(ConversationRow.updated_at.desc())
                .limit(limit)
            )
            if identity_id is not None:
                stmt = stmt.where(ConversationRow.identity_id == identity_id)
            return [_conversation(r) for r in session.scalars(stmt).all()]

    # --- writing ---------------------------------------------------------------------------------
    def resolve(self, kind: str, value: str, display_name: str | None = None) -> Identity:
        """The identity for this address / number / id; a first sight creates it in a new contact."""
        value = normalise(kind, value)
        for _ in range(3):
            existing = self.find(kind, value)
            if existing is not None:
                return existing
            try:
                with self._sessions.begin() as session:
                    contact = ContactRow(id=str(uuid.uuid4()), display_name=_clip(display_name))
                    session.add(contact)
                    row = IdentityRow(
                        contact_id=contact.id,
                        kind=kind,
                        value=value,
                        proof="none",
                        display_name=_clip(display_name),
                    )
                    session.add(row)
                    session.flush()
                    return _identity(row)
            except IntegrityError:
                continue  # another worker created it at the same moment: read theirs
        raise ContactConflict(f"could not resolve {kind} identity")

    def prove(self, identity_id: int, proof: str, user_id: str | None = None) -> Identity:
        """Raise an identity's proof (never lowers it); with `user_id`, its contact is that shop user."""
        if proof not in PROOF_RANK:
            raise ValueError(f"unknown proof {proof!r}")
        with self._sessions.begin() as session:
            row = get_row(session, IdentityRow, identity_id, ContactNotFound(f"identity {identity_id}"))
            if PROOF_RANK[proof] > PROOF_RANK.get(row.proof, 0):
                row.proof = stronger(row.proof, proof)
                row.verified_at = utcnow()
            if user_id is not None:
                contact = session.get(ContactRow, row.contact_id)
                assert contact is not None
                if contact.user_id not in (None, user_id):
                    raise ContactConflict("this contact is already another shop account")
                contact.user_id = user_id
                contact.updated_at = utcnow()
            session.flush()
            return _identity(row)

    def link(self, identity_id: int, contact_id: str, proof: str) -> Identity:
        """Move an identity (and its conversations) into `contact_id`, recording what proved it."""
        with self._sessions.begin() as session:
            row = session.get(IdentityRow, identity_id)
            target = session.get(ContactRow, contact_id)
            if row is None or target is None:
                raise ContactNotFound(f"identity {identity_id} or contact {contact_id}")
            old = row.contact_id
            if old != contact_id:
                source = session.get(ContactRow, old)
                if source is not None and source.user_id and target.user_id not in (None, source.user_id):
                    raise ContactConflict(
                        "the two contacts are different shop accounts; they cannot be linked"
                    )
                if source is not None and source.user_id and target.user_id is None:
                    target.user_id = source.user_id
                row.contact_id = contact_id
                session.execute(
                    update(ConversationRow)
                    .where(ConversationRow.identity_id == identity_id)
                    .values(contact_id=contact_id)
                )
                if target.display_name is None and source is not None:
                    target.display_name = source.display_name
                self._drop_if_empty(session, old)
            row.proof = stronger(row.proof, proof)
            row.verified_at = utcnow() if proof != "none" else row.verified_at
            target.updated_at = utcnow()
            session.flush()
            return _identity(row)

    def split(self, identity_id: int) -> Contact:
        """Move an identity (and its conversations) out into a new contact: undoes a wrong link.

        The split identity keeps a shop-signed proof (a token still says who it is) but loses `otp` and
        `agent`, which were proofs of belonging to the contact it leaves."""
        with self._sessions.begin() as session:
            row = get_row(session, IdentityRow, identity_id, ContactNotFound(f"identity {identity_id}"))
            source = session.get(ContactRow, row.contact_id)
            others = session.scalar(
                select(func.count())
                .select_from(IdentityRow)
                .where(IdentityRow.contact_id == row.contact_id, IdentityRow.id != identity_id)
            )
            if not others:
                raise ContactConflict("this is the contact's only identity; there is nothing to split from")
            user_id = source.user_id if source is not None and row.proof == "token" else None
            contact = ContactRow(id=str(uuid.uuid4()), display_name=row.display_name, user_id=user_id)
            session.add(contact)
            session.flush()
            row.contact_id = contact.id
            if row.proof != "token":
                row.proof = "none"
            session.execute(
                update(ConversationRow)
                .where(ConversationRow.identity_id == identity_id)
                .values(contact_id=contact.id)
            )
            session.flush()
            return self._contact(session, contact.id)

    def attach(self, conversation_id: str, identity: Identity) -> None:
        """This conversation is with this identity (and so with its contact)."""
        with self._sessions.begin() as session:
            session.execute(
                update(ConversationRow)
                .where(ConversationRow.id == conversation_id)
                .values(contact_id=identity.contact_id, identity_id=identity.id)
            )
            session.execute(
                update(ContactRow).where(ContactRow.id == identity.contact_id).values(updated_at=utcnow())
            )

    def sign_in_widget(self, conversation: Conversation, user_id: str) -> Conversation:
        """A widget conversation opened with a shop-signed token: its widget identity is proven (`token`)
        and belongs to that shop user's contact."""
        identity = self.resolve("widget", user_id)
        owner = self.contact_of_user(user_id)
        if owner is not None and owner.id != identity.contact_id:
            identity = self.link(identity.id, owner.id, "token")
        identity = self.prove(identity.id, "token", user_id=user_id)
        self.attach(conversation.id, identity)
        return conversation.model_copy(update={"contact_id": identity.contact_id, "identity_id": identity.id})

    def set_display_name(self, contact_id: str, name: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(ContactRow).where(ContactRow.id == contact_id).values(display_name=_clip(name))
            )

    @staticmethod
    def _drop_if_empty(session: Session, contact_id: str) -> None:
        session.flush()
        left = session.scalar(
            select(func.count()).select_from(IdentityRow).where(IdentityRow.contact_id == contact_id)
        )
        used = session.scalar(
            select(func.count()).select_from(ConversationRow).where(ConversationRow.contact_id == contact_id)
        )
        if not left and not used:
            session.execute(delete(ContactRow).where(ContactRow.id == contact_id))


def _clip(name: str | None) -> str | None:
    cleaned = " ".join((name or "").split())[:200]
    return cleaned or None
