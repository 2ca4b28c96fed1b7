"""Business hours: opening ranges in a time zone, holidays, daylight-saving changes, clock skew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.routing.hours import (
    ALWAYS_OPEN,
    HoursError,
    add_open_seconds,
    clamp_to_now,
    closes_at,
    is_open,
    next_open,
    open_seconds_between,
    parse_hours,
)

PARIS = {
    "timezone": "Europe/Paris",
    "weekly": {
        "mon": ["09:00-17:00"],
        "tue": ["09:00-17:00"],
        "wed": ["09:00-17:00"],
        "thu": ["09:00-17:00"],
        "fri": ["09:00-17:00"],
        "sun": ["02:30-04:00"],
    },
    "holidays": ["2025-12-25"],
}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_open_follows_local_time_through_daylight_saving() -> None:
    hours = parse_hours(PARIS)
    # Winter (CET, UTC+1): 09:00 Paris is 08:00 UTC.
    assert not is_open(hours, utc(2025, 1, 13, 7, 59))
    assert is_open(hours, utc(2025, 1, 13, 8, 0))
    assert not is_open(hours, utc(2025, 1, 13, 16, 0))
    # Summer (CEST, UTC+2): 09:00 Paris is 07:00 UTC.
    assert is_open(hours, utc(2025, 7, 14, 7, 0))
    assert not is_open(hours, utc(2025, 7, 14, 15, 0))


def test_holidays_and_weekends_are_closed_and_next_open_skips_them() -> None:
    hours = parse_hours(PARIS)
    christmas_noon = utc(2025, 12, 25, 11, 0)  # a Thursday, but a holiday
    assert not is_open(hours, christmas_noon)
    assert next_open(hours, christmas_noon) == utc(2025, 12, 26, 8, 0)
    friday_evening = utc(2025, 1, 17, 18, 0)
    # Saturday closed, Sunday only 02:30-04:00 local (01:30 UTC in winter).
    assert next_open(hours, friday_evening) == utc(2025, 1, 19, 1, 30)
    assert next_open(hours, utc(2025, 1, 13, 9, 0)) == utc(2025, 1, 13, 9, 0)  # open: now


def test_opening_inside_the_spring_forward_gap_is_shifted_by_the_gap() -> None:
    hours = parse_hours(PARIS)
    # 2025-03-30: clocks jump 02:00 -> 03:00 in Paris; 02:30 does not exist that night.
    opening = next_open(hours, utc(2025, 3, 29, 20, 0))
    assert opening == utc(2025, 3, 30, 1, 30)  # 03:30 CEST: the wall time moved forward by the gap
    assert is_open(hours, opening)
    assert opening.astimezone(hours.zone).hour == 3


def test_the_repeated_autumn_hour_counts_once() -> None:
    hours = parse_hours({"timezone": "Europe/Paris", "weekly": {"sun": ["02:00-04:00"]}})
    # 2025-10-26: 03:00 CEST -> 02:00 CET; 02:00-04:00 local lasts three real hours that night.
    start, end = utc(2025, 10, 25, 22, 0), utc(2025, 10, 26, 6, 0)
    assert open_seconds_between(hours, start, end) == 3 * 3600
    assert next_open(hours, start) == utc(2025, 10, 26, 0, 0)  # the first 02:00 (CEST)


def test_sla_clock_runs_only_while_open() -> None:
    hours = parse_hours(PARIS)
    friday_1630 = utc(2025, 1, 17, 15, 30)  # 16:30 Paris: 30 open minutes left this week
    assert closes_at(hours, friday_1630) == utc(2025, 1, 17, 16, 0)
    # one hour of open time: 30 min on Friday, the Sunday range (90 min) takes the rest
    assert add_open_seconds(hours, friday_1630, 3600) == utc(2025, 1, 19, 2, 0)
    assert open_seconds_between(hours, friday_1630, utc(2025, 1, 19, 2, 0)) == 3600


def test_always_open_and_empty_hours() -> None:
    assert parse_hours(None) is ALWAYS_OPEN and parse_hours({}) is ALWAYS_OPEN
    assert is_open(ALWAYS_OPEN, utc(2025, 1, 1, 3, 0))
    assert add_open_seconds(ALWAYS_OPEN, utc(2025, 1, 1), 60) == utc(2025, 1, 1, 0, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timezone": "Mars/Olympus", "weekly": {"mon": ["09:00-17:00"]}}, "unknown time zone"),
        ({"weekly": {"mon": ["17:00-09:00"]}}, "ends before it starts"),
        ({"weekly": {"mon": ["09:00-12:00", "11:00-13:00"]}}, "overlapping"),
        ({"weekly": {"funday": ["09:00-17:00"]}}, "unknown weekday"),
        ({"weekly": {"mon": ["9am-5pm"]}}, "not a time"),
        ({"weekly": {"mon": ["09:00"]}}, "not a range"),
        ({"weekly": {"mon": ["09:00-17:00"]}, "holidays": ["25/12/2025"]}, "not a date"),
        ({"weekly": {}}, "no opening hours"),
        ({"weekly": {"mon": ["09:00-17:00"]}, "tz": "UTC"}, "unknown business-hours fields"),
    ],
)
def test_bad_hours_are_refused_with_a_reason(data: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(HoursError, match=message):
        parse_hours(data)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(HoursError, match="naive"):
        is_open(parse_hours(PARIS), datetime(2025, 1, 13, 9, 0))


def test_a_clock_running_ahead_is_clamped() -> None:
    now = utc(2025, 1, 13, 9, 0)
    assert clamp_to_now(now + timedelta(seconds=40), now) == now
    assert clamp_to_now(now - timedelta(seconds=40), now) == now - timedelta(seconds=40)
    assert clamp_to_now(None, now) is None


def test_24_00_closes_at_midnight() -> None:
    hours = parse_hours({"timezone": "UTC", "weekly": {"mon": ["20:00-24:00"]}})
    assert is_open(hours, utc(2025, 1, 13, 23, 59))
    assert not is_open(hours, utc(2025, 1, 14, 0, 0))
