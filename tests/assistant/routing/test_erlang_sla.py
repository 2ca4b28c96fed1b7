"""Erlang C, expected waits, SLA policy and state: formulas against known values, bad input refused."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from assistant.routing.erlang import erlang_c, erlang_c_asa, expected_wait_s, position_wait_s, service_level
from assistant.routing.hours import ALWAYS_OPEN, parse_hours
from assistant.routing.sla import SlaDue, SlaError, SlaTarget, due_times, parse_policy, sla_state

T0 = datetime(2025, 1, 13, 8, 0, tzinfo=UTC)


def test_erlang_c_matches_known_values() -> None:
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # textbook: c=2, a=1
    # 10 agents, 8 Erlangs: P(wait) ~ 0.409 (standard Erlang C tables)
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=1e-3)
    assert erlang_c(3, 3.0) == 1.0 and erlang_c(0, 1.0) == 1.0 and erlang_c(3, 0.0) == 0.0


def test_asa_and_service_level() -> None:
    # M/M/1 with rho = 0.5 and 300 s handle time: Wq = rho / (mu - lambda) = 300 s
    assert erlang_c_asa(1 / 600, 300, 1) == pytest.approx(300)
    assert erlang_c_asa(0, 300, 2) == 0.0
    assert math.isinf(erlang_c_asa(1 / 100, 300, 2))  # 3 Erlangs on 2 agents: overloaded
    assert 0 < service_level(8 / 300, 300, 10, 20) < 1
    assert service_level(1, 300, 1, 20) == 0.0
    with pytest.raises(ValueError):
        erlang_c_asa(1, 0, 1)
    with pytest.raises(ValueError):
        erlang_c_asa(-1, 300, 1)


def test_expected_wait_for_a_customer() -> None:
    assert position_wait_s(3, 2, 300) == 450
    assert (
        expected_wait_s(
            position=1, servers=4, free_slots=1, mean_handle_s=300, team_estimate_s=500, waited_s=0
        )
        == 0
    )
    assert (
        expected_wait_s(
            position=3, servers=0, free_slots=0, mean_handle_s=300, team_estimate_s=None, waited_s=0
        )
        is None
    )
    # the team's typical wait for a new arrival, less what this customer already waited
    assert (
        expected_wait_s(
            position=1, servers=4, free_slots=0, mean_handle_s=300, team_estimate_s=500, waited_s=100
        )
        == 400
    )
    # ... but never less than what the queue ahead of them takes
    assert (
        expected_wait_s(
            position=8, servers=2, free_slots=0, mean_handle_s=300, team_estimate_s=60, waited_s=0
        )
        == 1200
    )


POLICY = {
    "urgent": {"first_response_s": 60, "resolution_s": 600},
    "high": {"first_response_s": 120, "resolution_s": 1200},
    "normal": {"first_response_s": 300, "resolution_s": 3600},
    "low": {"first_response_s": 600, "resolution_s": 7200},
}


def test_sla_policy_is_validated() -> None:
    assert parse_policy(POLICY)["urgent"] == SlaTarget(60, 600)
    with pytest.raises(SlaError, match="no targets for band 'low'"):
        parse_policy({k: v for k, v in POLICY.items() if k != "low"})
    with pytest.raises(SlaError, match="positive"):
        parse_policy({**POLICY, "high": {"first_response_s": 600, "resolution_s": 60}})
    with pytest.raises(SlaError, match="in seconds"):
        parse_policy({**POLICY, "high": {"first_response_s": "soon"}})


def test_due_times_start_at_opening_and_state_reports_breaches() -> None:
    hours = parse_hours({"timezone": "UTC", "weekly": {"mon": ["09:00-17:00"]}})
    due = due_times(SlaTarget(300, 3600), hours, T0)  # 08:00, opens at 09:00
    assert due.first_response == T0 + timedelta(hours=1, minutes=5)
    always = due_times(SlaTarget(300, 3600), ALWAYS_OPEN, T0)
    assert always.first_response == T0 + timedelta(minutes=5)
    waiting = sla_state(always, T0 + timedelta(minutes=2), first_response_at=None, resolved_at=None)
    assert waiting.first_response_left_s == 180 and not waiting.breached
    late = sla_state(always, T0 + timedelta(minutes=7), first_response_at=None, resolved_at=None)
    assert late.first_response_breached and late.first_response_left_s == -120
    answered = sla_state(
        always, T0 + timedelta(hours=3), first_response_at=T0 + timedelta(minutes=4), resolved_at=None
    )
    assert not answered.first_response_breached and answered.resolution_breached
    assert (
        sla_state(SlaDue(None, None), T0, first_response_at=None, resolved_at=None).as_dict()["breached"]
        is False
    )
