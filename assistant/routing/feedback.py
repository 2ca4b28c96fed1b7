"""The Customer Effort Score question at close: 1-7 ("the company made it easy to handle my issue"),
optional and skippable, answered once, on any channel through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from assistant.routing import notices
from assistant.routing.context import (
    ConflictError,
    DeskDb,
    InvalidError,
    as_utc,
    conversation_row,
    log_event,
    update_conversation,
)
from assistant.routing.models import EventKind
from assistant.store.models import ConversationRow, ConversationStatus

CES_MIN, CES_MAX = 1, 7


def check_score(score: int | None) -> int | None:
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, int) or not CES_MIN <= score <= CES_MAX:
        raise InvalidError(f"the effort score is a whole number from {CES_MIN} to {CES_MAX} (or skip)")
    return score


class Feedback:
    def __init__(self, db: DeskDb) -> None:
        self.db = db

    def question(self, conversation_id: str) -> dict[str, Any]:
        with self.db.sessions() as session:
            row = conversation_row(session, conversation_id)
            answered = row.ces_answered_at is not None
            return {
                "ask": row.status == ConversationStatus.CLOSED.value and not answered,
                "answered": answered,
                "skipped": answered and row.ces_score is None,
                "score": row.ces_score,
                "answered_at": as_utc(row.ces_answered_at),
                **notices.ces_question(row.language).as_dict(),
            }

    def answer(self, conversation_id: str, score: int | None, now: datetime | None = None) -> dict[str, Any]:
        """Store the score (None = skipped). Before close: refused; a second answer: refused."""
        score = check_score(score)
        now = self.db.now(now)
        with self.db.sessions.begin() as session:
            row = conversation_row(session, conversation_id)
            if row.status != ConversationStatus.CLOSED.value:
                raise ConflictError("the effort question is asked when the conversation is closed")
            done = update_conversation(
                session,
                conversation_id,
                ConversationRow.ces_answered_at.is_(None),
                ces_score=score,
                ces_answered_at=now,
            )
            if not done:
                raise ConflictError("this conversation's effort question was already answered")
            log_event(
                session,
                EventKind.CES,
                now,
                conversation_id=conversation_id,
                team_id=row.team_id,
                score=score,
                channel=row.channel,
            )
        return self.question(conversation_id)
