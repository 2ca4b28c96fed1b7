"""What every routing part shares: the database sessions, the clock, the settings turned into rules, the
event log, and the errors the API maps to 404 / 409 / 422."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session, sessionmaker

from assistant.db import as_utc as as_utc  # routing's modules read it from here
from assistant.db import get_row, session_factory
from assistant.routing.hours import require_aware
from assistant.routing.models import DeskEventRow, EventKind
from assistant.routing.priority import PriorityRule, parse_rules
from assistant.routing.sla import SlaTarget, parse_policy
from assistant.store.models import ConversationRow
from knowledge.settings import Settings

Clock = Callable[[], datetime]


class RoutingError(Exception):
    """Base of the desk's refusals; str() is a sentence for the agent or customer."""


class NotFoundError(RoutingError, LookupError):
    """No such team, agent, macro or conversation."""


class ConflictError(RoutingError):
    """The state forbids it: an offline or full agent, a team with no members, someone else's conversation,
    a CES answer sent twice."""


class InvalidError(RoutingError, ValueError):
    """Malformed input: unknown time zone, bad hours, a CES score outside 1-7."""


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeskConfig:
    ageing_per_minute: float
    verified_bonus: float
    after_hours_bonus: float
    origin_penalty: float
    max_waiting_per_ip: int
    max_waiting_per_contact: int
    rules: tuple[PriorityRule, ...]
    sla: dict[str, SlaTarget]
    escalation_boost: float
    webhook_timeout_s: float
    reassign_after_s: float
    asa_window_s: float
    asa_min_samples: int
    default_handle_s: float
    fallback_wait_s: float
    sweep_interval_s: float
    origin_salt: str
    unverified_pool_penalty: float = 0.1

    @classmethod
    def from_settings(cls, settings: Settings) -> DeskConfig:
        if settings.desk_ageing_per_minute < 0:
            raise InvalidError("desk_ageing_per_minute must not be negative")
        read: dict[str, Any] = {name: getattr(settings, f"desk_{name}") for name in _AS_SET.split()}
        read |= {name: float(getattr(settings, f"desk_{name}")) for name in _SECONDS.split()}
        return cls(
            **read,
            rules=tuple(parse_rules(settings.desk_priority_rules)),
            sla=parse_policy(settings.desk_sla),
            fallback_wait_s=60.0 * settings.expected_wait_minutes,
            origin_salt=settings.customer_token_secret,
        )


# The DeskConfig fields read from settings.desk_<field>: as they are set, and as seconds (float).
_AS_SET = (
    "ageing_per_minute verified_bonus after_hours_bonus origin_penalty max_waiting_per_ip"
    " max_waiting_per_contact escalation_boost webhook_timeout_s asa_min_samples sweep_interval_s"
    " unverified_pool_penalty"
)
_SECONDS = "reassign_after_s asa_window_s default_handle_s"


class DeskDb:
    """Sessions on the conversations database plus the clock and the rules."""

    def __init__(self, database_url: str, config: DeskConfig, clock: Clock = system_clock) -> None:
        self.database_url = database_url
        self.sessions: sessionmaker[Session] = session_factory(database_url)
        self.config = config
        self._clock = clock

    def now(self, at: datetime | None = None) -> datetime:
        return require_aware(at if at is not None else self._clock())

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql", "postgres"))


def log_event(
    session: Session,
    kind: EventKind,
    at: datetime,
    *,
    conversation_id: str | None = None,
    agent: str | None = None,
    team_id: str | None = None,
    **data: Any,
) -> None:
    session.add(
        DeskEventRow(
            conversation_id=conversation_id, kind=kind.value, agent=agent, team_id=team_id, data=data, at=at
        )
    )


def conversation_row(session: Session, conversation_id: str) -> ConversationRow:
    """The conversation's row in this session; NotFoundError for an unknown id."""
    return get_row(session, ConversationRow, conversation_id, NotFoundError("conversation not found"))


def update_conversation(
    session: Session, conversation_id: str, /, *conditions: ColumnElement[bool], **values: Any
) -> bool:
    """One UPDATE of a conversation's row, only while `conditions` still hold (a compare-and-set against
    a concurrent change); whether it matched."""
    result = session.execute(
        update(ConversationRow).where(ConversationRow.id == conversation_id, *conditions).values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
