"""Which conversation an inbound message belongs to, and how a reply threads back.

Email: by In-Reply-To / References against the Message-IDs we saw or sent in that conversation; other
channels: the identity's open conversation on that channel if it was active lately, else a new one. A thread
is only followed when it is this identity's own conversation: quoting someone else's Message-ID never
joins their conversation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assistant.channels.base import InboundMessage
from assistant.channels.models import InboundRow, ThreadRefRow
from assistant.db import session_factory
from assistant.store.models import ConversationRow, ConversationStatus

CONTINUE_WITHIN = timedelta(hours=24)


class Threads:
    def __init__(self, database_url: str) -> None:
        self._sessions = session_factory(database_url)

    def remember(self, channel: str, ref: str | None, conversation_id: str) -> None:
        if not ref:
            return
        try:
            with self._sessions.begin() as session:
                session.add(ThreadRefRow(channel=channel, ref=ref[:512], conversation_id=conversation_id))
        except IntegrityError:
            pass  # known already

    def find(self, message: InboundMessage, identity_id: int) -> str | None:
        """The conversation this message continues, or None for a new one."""
        with self._sessions() as session:
            if message.channel == "email":
                refs = [r[:512] for r in [message.in_reply_to, *reversed(message.references)] if r]
                if not refs:
                    return None  # a new mail without references starts a new conversation
                rows = session.execute(
                    select(ThreadRefRow.conversation_id, ConversationRow.identity_id, ConversationRow.status)
                    .join(ConversationRow, ConversationRow.id == ThreadRefRow.conversation_id)
                    .where(ThreadRefRow.channel == "email", ThreadRefRow.ref.in_(refs))
                ).all()
                for conversation_id, owner, status in rows:
                    if owner == identity_id and status != ConversationStatus.CLOSED.value:
                        return str(conversation_id)
                return None
            since = datetime.now(UTC) - CONTINUE_WITHIN
            row = session.execute(
                select(ConversationRow.id)
                .where(
                    ConversationRow.identity_id == identity_id,
                    ConversationRow.channel == message.channel,
                    ConversationRow.status != ConversationStatus.CLOSED.value,
                    ConversationRow.updated_at >= since,
                )
                .order_by(ConversationRow.updated_at.desc())
                .limit(1)
            ).first()
            return str(row[0]) if row else None

    def reply_context(self, conversation_id: str) -> tuple[str | None, str | None, list[str]]:
        """(subject, in_reply_to, references) for a reply in this email conversation."""
        with self._sessions() as session:
            inbound = session.scalars(
                select(InboundRow)
                .where(InboundRow.conversation_id == conversation_id, InboundRow.channel == "email")
                .order_by(InboundRow.id)
            ).all()
            refs = session.scalars(
                select(ThreadRefRow.ref)
                .where(ThreadRefRow.conversation_id == conversation_id)
                .order_by(ThreadRefRow.id)
            ).all()
        subject = next((r.message.get("subject") for r in inbound if r.message.get("subject")), None)
        latest = next(
            (r.message.get("message_ref") for r in reversed(inbound) if r.message.get("message_ref")), None
        )
        return subject, latest, [r for r in refs if r != latest][-20:]
