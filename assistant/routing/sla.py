"""SLA targets per priority band: when a first human response and a resolution are due, how much time is
left, and whether a conversation breached. The clock starts at the handover (or when the team opens) and
runs only while the team is open."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.routing.hours import BusinessHours, add_open_seconds, next_open, require_aware
from assistant.routing.priority import BANDS

BAND_NAMES = tuple(name for name, _ in BANDS)


class SlaError(ValueError):
    """An SLA policy that cannot be used."""


@dataclass(frozen=True)
class SlaTarget:
    first_response_s: int
    resolution_s: int


@dataclass(frozen=True)
class SlaDue:
    first_response: datetime | None
    resolution: datetime | None


@dataclass(frozen=True)
class SlaState:
    """What the console shows: seconds left (negative = late) and whether each target was breached."""

    first_response_left_s: float | None
    resolution_left_s: float | None
    first_response_breached: bool
    resolution_breached: bool

    @property
    def breached(self) -> bool:
        return self.first_response_breached or self.resolution_breached

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_response_left_s": None
            if self.first_response_left_s is None
            else round(self.first_response_left_s, 1),
            "resolution_left_s": None if self.resolution_left_s is None else round(self.resolution_left_s, 1),
            "first_response_breached": self.first_response_breached,
            "resolution_breached": self.resolution_breached,
            "breached": self.breached,
        }


def parse_policy(raw: Mapping[str, Mapping[str, Any]]) -> dict[str, SlaTarget]:
    policy: dict[str, SlaTarget] = {}
    for band in BAND_NAMES:
        if band not in raw:
            raise SlaError(f"SLA policy has no targets for band {band!r} (needs {', '.join(BAND_NAMES)})")
        entry = raw[band]
        try:
            first, resolution = int(entry["first_response_s"]), int(entry["resolution_s"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SlaError(f"SLA band {band!r} needs first_response_s and resolution_s in seconds") from exc
        if first <= 0 or resolution <= 0 or resolution < first:
            raise SlaError(f"SLA band {band!r}: targets must be positive and resolution >= first response")
        policy[band] = SlaTarget(first, resolution)
    return policy


def due_times(target: SlaTarget, hours: BusinessHours, handed_over: datetime) -> SlaDue:
    start = next_open(hours, handed_over)
    if start is None:
        return SlaDue(None, None)
    return SlaDue(
        first_response=add_open_seconds(hours, start, target.first_response_s),
        resolution=add_open_seconds(hours, start, target.resolution_s),
    )


def sla_state(
    due: SlaDue,
    now: datetime,
    *,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
) -> SlaState:
    now = require_aware(now)

    def judge(deadline: datetime | None, met_at: datetime | None) -> tuple[float | None, bool]:
        if deadline is None:
            return None, False
        if met_at is not None:
            return (deadline - met_at).total_seconds(), met_at > deadline
        left = (deadline - now).total_seconds()
        return left, left < 0

    first_left, first_breached = judge(due.first_response, first_response_at)
    resolution_left, resolution_breached = judge(due.resolution, resolved_at)
    return SlaState(first_left, resolution_left, first_breached, resolution_breached)
