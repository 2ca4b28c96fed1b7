"""Reading the desk's past: who first took each conversation and after how long (for ASA), and a
customer's earlier conversations (for the agent's sidebar and for re-contact)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from assistant.routing.context import DeskDb, as_utc
from assistant.routing.models import DeskEventRow, EventKind
from assistant.store.models import ConversationRow, MessageRole, MessageRow

TAKEN = (EventKind.ASSIGNED.value, EventKind.CLAIMED.value)
CHUNK = 500


@dataclass(frozen=True)
class FirstTaken:
    agent: str | None
    waited_s: float | None
    at: datetime


def first_taken(db: DeskDb, conversation_ids: Sequence[str]) -> dict[str, FirstTaken]:
    """The first assignment or claim of each conversation (after its handover)."""
    found: dict[str, FirstTaken] = {}
    with db.sessions() as session:
        for start in range(0, len(conversation_ids), CHUNK):
            chunk = list(conversation_ids[start : start + CHUNK])
            rows = session.execute(
                select(DeskEventRow.conversation_id, DeskEventRow.agent, DeskEventRow.data, DeskEventRow.at)
                .where(DeskEventRow.kind.in_(TAKEN), DeskEventRow.conversation_id.in_(chunk))
                .order_by(DeskEventRow.id)
            ).all()
            for cid, agent, data, at in rows:
                if cid and cid not in found:
                    waited = (data or {}).get("waited_s")
                    found[cid] = FirstTaken(
                        agent, None if waited is None else float(waited), as_utc(at) or at
                    )
    return found


def customer_history(
    db: DeskDb, user_id: str, exclude: str | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """The customer's other conversations, newest first, with their first message and outcome."""
    with db.sessions() as session:
        rows = session.scalars(
            select(ConversationRow)
            .where(ConversationRow.user_id == user_id, ConversationRow.id != (exclude or ""))
            .order_by(ConversationRow.created_at.desc())
            .limit(limit)
        ).all()
        history = []
        for row in rows:
            first = session.scalar(
                select(MessageRow.text)
                .where(MessageRow.conversation_id == row.id, MessageRow.role == MessageRole.CUSTOMER.value)
                .order_by(MessageRow.seq)
                .limit(1)
            )
            history.append(
                {
                    "conversation_id": row.id,
                    "created_at": as_utc(row.created_at),
                    "channel": row.channel,
                    "status": row.status,
                    "topic": row.topic,
                    "team_id": row.team_id,
                    "handed_over": row.takeover is not None,
                    "ces_score": row.ces_score,
                    "first_message": (first or "")[:300],
                }
            )
        return history
