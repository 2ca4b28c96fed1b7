"""Business hours: weekly opening ranges in a time zone, holidays, daylight-saving changes (zoneinfo).

Every function takes an aware datetime (any zone) and answers in UTC; a naive datetime is refused, because
"09:00" means nothing without a zone. Opening ranges are local wall-clock times, so a team open 09:00-17:00
in Europe/Paris opens at 08:00 UTC in winter and 07:00 UTC in summer. A range that starts in a DST gap
(02:30 on the spring-forward night does not exist) is shifted forward by the gap (03:30); in the repeated
hour of the autumn change the first occurrence counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEARCH_DAYS = 400  # a year of holidays plus a margin: beyond that, the team never opens


class HoursError(ValueError):
    """Business hours that cannot be used: str() says what is wrong."""


@dataclass(frozen=True)
class BusinessHours:
    timezone: str = "UTC"
    # weekday (0 = Monday) -> opening ranges as local (start, end); end may be 24:00 (time.max)
    weekly: dict[int, tuple[tuple[time, time], ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    always_open: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def describe(self) -> dict[str, Any]:
        if self.always_open:
            return {"always_open": True}
        return {
            "timezone": self.timezone,
            "weekly": {
                DAYS[d]: [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in ranges]
                for d, ranges in sorted(self.weekly.items())
            },
            "holidays": sorted(d.isoformat() for d in self.holidays),
        }


ALWAYS_OPEN = BusinessHours(always_open=True)


def _hhmm(value: time) -> str:
    return "24:00" if value == time.max else value.strftime("%H:%M")


def _parse_time(text: str, *, end: bool) -> time:
    text = text.strip()
    if end and text == "24:00":
        return time.max
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise HoursError(f"{text!r} is not a time like 09:00") from exc


def parse_hours(data: dict[str, Any] | None) -> BusinessHours:
    """{"timezone": "Europe/Paris", "weekly": {"mon": ["09:00-12:30", "13:30-17:00"]}, "holidays": [...]};
    None or {} means always open."""
    if not data:
        return ALWAYS_OPEN
    if not isinstance(data, dict):
        raise HoursError("business hours must be an object with timezone, weekly and holidays")
    unknown = set(data) - {"timezone", "weekly", "holidays", "always_open"}
    if unknown:
        raise HoursError(f"unknown business-hours fields: {', '.join(sorted(unknown))}")
    if data.get("always_open"):
        return ALWAYS_OPEN
    zone = str(data.get("timezone") or "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HoursError(f"unknown time zone {zone!r} (use an IANA name such as Europe/Paris)") from exc
    weekly: dict[int, tuple[tuple[time, time], ...]] = {}
    for day, ranges in (data.get("weekly") or {}).items():
        key = str(day).lower()[:3]
        if key not in DAYS:
            raise HoursError(f"unknown weekday {day!r} (use mon, tue, ... sun)")
        parsed = []
        for text in ranges or []:
            if "-" not in str(text):
                raise HoursError(f"{text!r} is not a range like 09:00-17:00")
            start_text, end_text = str(text).split("-", 1)
            start, stop = _parse_time(start_text, end=False), _parse_time(end_text, end=True)
            if stop <= start:
                raise HoursError(f"{text!r} ends before it starts (split a night shift at midnight)")
            parsed.append((start, stop))
        parsed.sort()
        for (_, first_end), (second_start, _) in zip(parsed, parsed[1:], strict=False):
            if second_start < first_end:
                raise HoursError(f"overlapping ranges on {key}")
        weekly[DAYS.index(key)] = tuple(parsed)
    holidays = set()
    for text in data.get("holidays") or []:
        try:
            holidays.add(date.fromisoformat(str(text)))
        except ValueError as exc:
            raise HoursError(f"holiday {text!r} is not a date like 2025-12-25") from exc
    if not any(weekly.values()):
        raise HoursError("no opening hours at all: give at least one range, or always_open")
    return BusinessHours(timezone=zone, weekly=weekly, holidays=frozenset(holidays))


def require_aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise HoursError("a naive datetime has no time zone; pass an aware one (UTC from the server clock)")
    return at.astimezone(UTC)


def _local_instant(zone: ZoneInfo, day: date, wall: time) -> datetime:
    """The UTC instant of a local wall time. In the spring-forward gap zoneinfo shifts it forward by the
    gap (02:30 becomes 03:30); in the repeated autumn hour fold=0 picks the first occurrence."""
    if wall == time.max:
        return datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return datetime.combine(day, wall, zone).astimezone(UTC)


def _ranges_on(hours: BusinessHours, day: date) -> list[tuple[datetime, datetime]]:
    if day in hours.holidays:
        return []
    zone = hours.zone
    return [
        (_local_instant(zone, day, start), _local_instant(zone, day, stop))
        for start, stop in hours.weekly.get(day.weekday(), ())
    ]


def is_open(hours: BusinessHours, at: datetime) -> bool:
    at = require_aware(at)
    if hours.always_open:
        return True
    local_day = at.astimezone(hours.zone).date()
    return any(
        start <= at < stop
        for day in (local_day - timedelta(days=1), local_day)
        for start, stop in _ranges_on(hours, day)
    )


def next_open(hours: BusinessHours, at: datetime) -> datetime | None:
    """`at` itself when open, else the next opening instant (UTC); None if it never opens again."""
    at = require_aware(at)
    if is_open(hours, at):
        return at
    local_day = at.astimezone(hours.zone).date()
    for offset in range(SEARCH_DAYS):
        for start, _ in _ranges_on(hours, local_day + timedelta(days=offset)):
            if start > at:
                return start
    return None


def closes_at(hours: BusinessHours, at: datetime) -> datetime | None:
    """When the current opening range ends (UTC); None when closed now or always open."""
    at = require_aware(at)
    if hours.always_open:
        return None
    local_day = at.astimezone(hours.zone).date()
    for day in (local_day - timedelta(days=1), local_day):
        for start, stop in _ranges_on(hours, day):
            if start <= at < stop:
                return stop
    return None


def open_seconds_between(hours: BusinessHours, start: datetime, end: datetime) -> float:
    """Seconds of opening time in [start, end): the SLA clock runs only while the team is open."""
    start, end = require_aware(start), require_aware(end)
    if end <= start:
        return 0.0
    if hours.always_open:
        return (end - start).total_seconds()
    total = 0.0
    day = start.astimezone(hours.zone).date() - timedelta(days=1)
    last = end.astimezone(hours.zone).date()
    while day <= last:
        for a, b in _ranges_on(hours, day):
            lo, hi = max(a, start), min(b, end)
            if hi > lo:
                total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def add_open_seconds(hours: BusinessHours, start: datetime, seconds: float) -> datetime | None:
    """The instant when `seconds` of opening time have passed after `start` (None: never)."""
    start = require_aware(start)
    if hours.always_open:
        return start + timedelta(seconds=seconds)
    remaining = float(seconds)
    day = start.astimezone(hours.zone).date() - timedelta(days=1)
    for _ in range(SEARCH_DAYS):
        for a, b in _ranges_on(hours, day):
            lo = max(a, start)
            if b <= lo:
                continue
            span = (b - lo).total_seconds()
            if span >= remaining:
                return lo + timedelta(seconds=remaining)
            remaining -= span
        day += timedelta(days=1)
    return None


def clamp_to_now(value: datetime | None, now: datetime) -> datetime | None:
    """A timestamp from another worker whose clock runs ahead: never later than our now (no negative
    waits, no SLA clock that starts in the future)."""
    if value is None:
        return None
    value = require_aware(value)
    return min(value, require_aware(now))
