"""Teams (skills, business hours, lead webhook), agents (status, capacity, working hours) and membership:
validated, stored, read back. Managed from the console and over the API."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import delete, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from assistant.db import columns, get_row
from assistant.routing.classify import topics
from assistant.routing.context import ConflictError, DeskDb, InvalidError, NotFoundError, as_utc
from assistant.routing.hours import HoursError, parse_hours
from assistant.routing.models import AgentStatus, DeskAgentRow, MemberRole, Stage, TeamMemberRow, TeamRow
from assistant.store.models import ConversationRow, ConversationStatus

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANGUAGE = re.compile(r"^[a-z]{2}$")
MAX_CAPACITY = 50


def _hours(value: dict[str, Any] | None) -> dict[str, Any] | None:
    try:
        parse_hours(value)
    except HoursError as exc:
        raise ValueError(str(exc)) from exc
    return value or None


RecordT = TypeVar("RecordT")


def _only_known(value: list[str], known: list[str], what: str) -> list[str]:
    """A team's skills: each one of `known`, sorted, once."""
    bad = [v for v in value if v not in known]
    if bad:
        raise ValueError(f"unknown {what} {bad}; known: {', '.join(known)}")
    return sorted(set(value))


class TeamSpec(BaseModel):
    """A team as the API and console send it."""

    id: str = Field(description="Short id: lower case letters, digits, - and _")
    name: str = Field(min_length=1, max_length=120)
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes; empty = any")
    topics: list[str] = Field(default_factory=list, description="Topics it handles; empty = any")
    stages: list[str] = Field(default_factory=list, description="Journey stages; empty = any")
    hours: dict[str, Any] | None = Field(default=None, description="Business hours; null = always open")
    lead_webhook_url: str | None = Field(default=None, max_length=500)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("team id: 1-64 lower-case letters, digits, - or _")
        return value

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not LANGUAGE.match(v)]
        if bad:
            raise ValueError(f"languages are two-letter codes such as en, fr, nl (got {bad})")
        return sorted(set(value))

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        return _only_known(value, topics(), "topics")

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: list[str]) -> list[str]:
        return _only_known(value, [s.value for s in Stage], "journey stages")

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _hours(value)

    @field_validator("lead_webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("the lead webhook must be an http(s) URL")
        return value or None


class AgentSpec(BaseModel):
    name: str = Field(min_length=1, max_length=64, description="The agent key's name (settings.agent_keys)")
    display_name: str | None = Field(default=None, max_length=120)
    capacity: int = Field(3, ge=0, le=MAX_CAPACITY, description="Conversations at once")
    hours: dict[str, Any] | None = Field(default=None, description="Working hours; null = whenever online")
    teams: list[str] = Field(default_factory=list, description="Team ids this agent belongs to")
    lead_of: list[str] = Field(default_factory=list, description="Team ids this agent leads")

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _hours(value)


class Team(TeamSpec):
    members: list[dict[str, str]] = Field(default_factory=list)
    created_at: datetime | None = None


class DeskAgent(BaseModel):
    name: str
    display_name: str
    status: AgentStatus
    capacity: int
    load: int
    hours: dict[str, Any] | None
    teams: list[str]
    lead_of: list[str]
    last_assigned_at: datetime | None
    status_changed_at: datetime | None


def _team(row: TeamRow, members: list[TeamMemberRow]) -> Team:
    return Team(
        id=row.id,
        name=row.name,
        languages=list(row.languages or []),
        topics=list(row.topics or []),
        stages=list(row.stages or []),
        hours=row.hours,
        lead_webhook_url=row.lead_webhook_url,
        members=[{"agent": m.agent_name, "role": m.role} for m in members],
        created_at=as_utc(row.created_at),
    )


def _all_with_members(
    session: Session,
    key: InstrumentedAttribute[str],
    member_key: InstrumentedAttribute[str],
    build: Callable[[Any, list[TeamMemberRow]], RecordT],
) -> list[RecordT]:
    """Every team (or agent) in `key` order, each built with its memberships (those whose `member_key`
    is its `key`), in two queries."""
    rows = session.scalars(select(key.class_).order_by(key)).all()
    members = session.scalars(select(TeamMemberRow)).all()
    return [
        build(row, [m for m in members if getattr(m, member_key.key) == getattr(row, key.key)])
        for row in rows
    ]


def _agent(row: DeskAgentRow, memberships: list[TeamMemberRow]) -> DeskAgent:
    return DeskAgent(
        **columns(row, "name display_name capacity load hours"),
        status=AgentStatus(row.status),
        teams=sorted(m.team_id for m in memberships),
        lead_of=sorted(m.team_id for m in memberships if m.role == MemberRole.LEAD.value),
        last_assigned_at=as_utc(row.last_assigned_at),
        status_changed_at=as_utc(row.status_changed_at),
    )


class Directory:
    def __init__(self, db: DeskDb) -> None:
        self.db = db

    # --- teams -------------------------------------------------------------------------------------
    def teams(self) -> list[Team]:
        with self.db.sessions() as session:
            return _all_with_members(session, TeamRow.id, TeamMemberRow.team_id, _team)

    def team(self, team_id: str) -> Team:
        with self.db.sessions() as session:
            row = get_row(session, TeamRow, team_id, NotFoundError(f"team {team_id!r} not found"))
            members = session.scalars(select(TeamMemberRow).where(TeamMemberRow.team_id == team_id)).all()
            return _team(row, list(members))

    def save_team(self, spec: TeamSpec) -> Team:
        with self.db.sessions.begin() as session:
            row = session.get(TeamRow, spec.id)
            if row is None:
                row = TeamRow(id=spec.id, created_at=self.db.now())
                session.add(row)
            row.name, row.languages, row.topics, row.stages = (
                spec.name,
                spec.languages,
                spec.topics,
                spec.stages,
            )
            row.hours, row.lead_webhook_url = spec.hours, spec.lead_webhook_url
        return self.team(spec.id)

    def delete_team(self, team_id: str) -> None:
        with self.db.sessions.begin() as session:
            if session.get(TeamRow, team_id) is None:
                raise NotFoundError(f"team {team_id!r} not found")
            waiting = session.scalar(
                select(ConversationRow.id).where(
                    ConversationRow.team_id == team_id,
                    ConversationRow.status.in_(
                        [ConversationStatus.WAITING_FOR_HUMAN.value, ConversationStatus.HUMAN.value]
                    ),
                )
            )
            if waiting is not None:
                raise ConflictError(f"team {team_id!r} still has open conversations; transfer them first")
            session.execute(delete(TeamMemberRow).where(TeamMemberRow.team_id == team_id))
            session.execute(delete(TeamRow).where(TeamRow.id == team_id))

    def member_names(self, session: Session, team_id: str) -> list[str]:
        return list(
            session.scalars(select(TeamMemberRow.agent_name).where(TeamMemberRow.team_id == team_id)).all()
        )

    # --- agents ------------------------------------------------------------------------------------
    def agents(self) -> list[DeskAgent]:
        with self.db.sessions() as session:
            return _all_with_members(session, DeskAgentRow.name, TeamMemberRow.agent_name, _agent)

    def agent(self, name: str) -> DeskAgent:
        with self.db.sessions() as session:
            row = get_row(
                session,
                DeskAgentRow,
                name,
                NotFoundError(f"agent {name!r} is not on the desk (add it first)"),
            )
            members = session.scalars(select(TeamMemberRow).where(TeamMemberRow.agent_name == name)).all()
            return _agent(row, list(members))

    def find_agent(self, name: str) -> DeskAgent | None:
        try:
            return self.agent(name)
        except NotFoundError:
            return None

    def save_agent(self, spec: AgentSpec) -> DeskAgent:
        unknown_lead = set(spec.lead_of) - set(spec.teams)
        teams = sorted(set(spec.teams) | unknown_lead)
        with self.db.sessions.begin() as session:
            missing = [t for t in teams if session.get(TeamRow, t) is None]
            if missing:
                raise NotFoundError(f"no such team(s): {', '.join(missing)}")
            row = session.get(DeskAgentRow, spec.name)
            if row is None:
                row = DeskAgentRow(
                    name=spec.name, status=AgentStatus.OFFLINE.value, load=0, created_at=self.db.now()
                )
                session.add(row)
            row.display_name = spec.display_name or row.display_name or spec.name
            row.capacity, row.hours = spec.capacity, spec.hours
            session.execute(delete(TeamMemberRow).where(TeamMemberRow.agent_name == spec.name))
            session.flush()
            for team_id in teams:
                role = MemberRole.LEAD if team_id in spec.lead_of else MemberRole.MEMBER
                session.add(TeamMemberRow(team_id=team_id, agent_name=spec.name, role=role.value))
        return self.agent(spec.name)

    def delete_agent(self, name: str) -> None:
        with self.db.sessions.begin() as session:
            row = get_row(session, DeskAgentRow, name, NotFoundError(f"agent {name!r} is not on the desk"))
            if row.load:
                raise ConflictError(f"agent {name!r} still holds {row.load} conversation(s)")
            session.execute(delete(TeamMemberRow).where(TeamMemberRow.agent_name == name))
            session.execute(delete(DeskAgentRow).where(DeskAgentRow.name == name))

    def set_status(self, name: str, status: AgentStatus | str, at: datetime | None = None) -> DeskAgent:
        try:
            status = AgentStatus(status)
        except ValueError as exc:
            raise InvalidError(f"status must be online, away or offline (got {status!r})") from exc
        with self.db.sessions.begin() as session:
            result = session.execute(
                update(DeskAgentRow)
                .where(DeskAgentRow.name == name)
                .values(status=status.value, status_changed_at=self.db.now(at))
            )
            if result.rowcount == 0:  # type: ignore[attr-defined]
                raise NotFoundError(f"agent {name!r} is not on the desk (add it first)")
        return self.agent(name)
