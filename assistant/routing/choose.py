"""Which team gets a conversation: the most specific team whose skills fit, open teams first.

A team's empty skill list means "any". A team whose listed skills exclude the conversation is not eligible;
among the eligible, open teams come first, then teams with members, then the most specific.
when no team fits on every skill, the rules are relaxed in this order: journey stage, then topic, then
language (a French customer is better served by a general team than by nobody). Pure, over Team records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.routing.hours import is_open, parse_hours

RELAXATION: tuple[tuple[str, ...], ...] = (
    (),
    ("stages",),
    ("stages", "topics"),
    ("stages", "topics", "languages"),
)


@dataclass(frozen=True)
class TeamChoice:
    team_id: str | None
    reason: str
    open_now: bool


def _fits(team: Any, wanted: dict[str, str], ignore: tuple[str, ...]) -> tuple[bool, int]:
    specific = 0
    for skill, value in wanted.items():
        listed = list(getattr(team, skill) or [])
        if not listed:
            continue
        if value in listed:
            specific += 1
        elif skill not in ignore:
            return False, 0
    return True, specific


def choose_team(teams: Sequence[Any], *, topic: str, language: str, stage: str, now: datetime) -> TeamChoice:
    if not teams:
        return TeamChoice(None, "no teams configured: one shared queue", True)
    wanted = {"languages": language, "topics": topic, "stages": stage}
    for ignore in RELAXATION:
        scored = []
        for team in teams:
            fits, specific = _fits(team, wanted, ignore)
            if fits:
                open_now = is_open(parse_hours(team.hours), now)
                staffed = bool(getattr(team, "members", True))
                scored.append((not open_now, not staffed, -specific, team.id, open_now))
        if scored:
            scored.sort()
            _, _, minus_specific, team_id, open_now = scored[0]
            relaxed = f" (no team fits on {', '.join(ignore)})" if ignore else ""
            reason = f"{-minus_specific} matching skill(s) for {language}/{topic}/{stage}{relaxed}"
            return TeamChoice(team_id, reason, open_now)
    return TeamChoice(None, "no team fits at all: shared queue", True)
