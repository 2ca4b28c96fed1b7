"""Suggested replies for the agents: drafted, then accepted, edited or rejected (and how often each)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from assistant.store.models import SuggestionChoice, SuggestionRow, utcnow
from assistant.store.views import ConversationConflict, Suggestion, _suggestion


class SuggestionStore:
    """Mixed into ConversationStore; needs its session factory."""

    _sessions: sessionmaker[Session]

    # --- suggested replies ---------------------------------------------------------------------
    def add_suggestions(
        self, conversation_id: str, agent: str, drafts: list[dict[str, Any]]
    ) -> list[Suggestion]:
        with self._sessions.begin() as session:
            rows = [
                SuggestionRow(
                    conversation_id=conversation_id,
                    agent=agent,
                    draft_index=i,
                    draft_text=d["text"],
                    citations=d.get("citations", []),
                    tool_results=d.get("tool_results", []),
                    proposed_actions=d.get("proposed_actions", []),
                    choice=SuggestionChoice.PENDING.value,
                )
                for i, d in enumerate(drafts)
            ]
            session.add_all(rows)
            session.flush()
            return [_suggestion(r) for r in rows]

    def decide_suggestion(
        self, suggestion_id: int, agent: str, choice: SuggestionChoice, final_text: str | None
    ) -> Suggestion:
        if choice == SuggestionChoice.PENDING:
            raise ValueError("a decision must be accepted, edited or rejected")
        with self._sessions.begin() as session:
            row = session.get(SuggestionRow, suggestion_id)
            if row is None:
                raise LookupError(f"suggestion {suggestion_id} not found")
            if row.choice != SuggestionChoice.PENDING.value:
                raise ConversationConflict(f"suggestion {suggestion_id} was already {row.choice}")
            row.choice = choice.value
            row.agent = agent
            row.final_text = final_text if choice != SuggestionChoice.REJECTED else None
            row.decided_at = utcnow()
            session.flush()
            return _suggestion(row)

    def suggestions(self, conversation_id: str) -> list[Suggestion]:
        with self._sessions() as session:
            rows = session.scalars(
                select(SuggestionRow)
                .where(SuggestionRow.conversation_id == conversation_id)
                .order_by(SuggestionRow.id)
            ).all()
            return [_suggestion(r) for r in rows]

    def suggestion_stats(self) -> dict[str, float]:
        """Counts per choice and the acceptance rate (accepted + edited over decided)."""
        with self._sessions() as session:
            counts = dict(
                session.execute(
                    select(SuggestionRow.choice, func.count()).group_by(SuggestionRow.choice)
                ).all()
            )
        decided = sum(v for k, v in counts.items() if k != SuggestionChoice.PENDING.value)
        used = counts.get(SuggestionChoice.ACCEPTED.value, 0) + counts.get(SuggestionChoice.EDITED.value, 0)
        stats: dict[str, float] = {c.value: float(counts.get(c.value, 0)) for c in SuggestionChoice}
        stats["acceptance_rate"] = used / decided if decided else 0.0
        return stats
