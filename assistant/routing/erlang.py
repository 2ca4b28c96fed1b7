"""Expected waits: Erlang C for an M/M/c queue, and what we tell a customer at a given queue position.

An agent with capacity k is counted as k servers (a chat agent works k conversations at once); that is an
approximation, stated in docs/console.md, and the simulation benchmark measures how well it holds.
"""

from __future__ import annotations

import math


def erlang_c(servers: int, offered_load: float) -> float:
    """Probability that an arrival waits, for `servers` agents and offered load a = lambda / mu (Erlangs).

    Computed through the Erlang B recursion (stable for hundreds of servers). 1.0 when a >= servers: the
    queue grows without bound.
    """
    if servers <= 0:
        return 1.0
    if offered_load <= 0:
        return 0.0
    if offered_load >= servers:
        return 1.0
    b = 1.0
    for k in range(1, servers + 1):
        b = offered_load * b / (k + offered_load * b)
    rho = offered_load / servers
    return b / (1 - rho * (1 - b))


def erlang_c_asa(arrival_rate_per_s: float, mean_handle_s: float, servers: int) -> float:
    """Mean wait in queue (ASA), seconds, of an M/M/c queue; math.inf when it is overloaded."""
    if mean_handle_s <= 0:
        raise ValueError("mean handle time must be positive")
    if arrival_rate_per_s < 0:
        raise ValueError("arrival rate must not be negative")
    if arrival_rate_per_s == 0:
        return 0.0
    load = arrival_rate_per_s * mean_handle_s
    if servers <= 0 or load >= servers:
        return math.inf
    mu = 1.0 / mean_handle_s
    return erlang_c(servers, load) / (servers * mu - arrival_rate_per_s)


def service_level(arrival_rate_per_s: float, mean_handle_s: float, servers: int, target_s: float) -> float:
    """Share of arrivals answered within target_s (the classic Erlang C service level)."""
    load = arrival_rate_per_s * mean_handle_s
    if servers <= 0 or load >= servers:
        return 0.0
    p_wait = erlang_c(servers, load)
    return 1.0 - p_wait * math.exp(-(servers - load) * target_s / mean_handle_s)


def position_wait_s(position: int, servers: int, mean_handle_s: float) -> float:
    """Expected wait of the customer at `position` (1 = next) when every server is busy: in M/M/c each of
    the `position` departures ahead comes at rate servers / mean_handle_s."""
    if position <= 0:
        return 0.0
    if servers <= 0:
        return math.inf
    return position * mean_handle_s / servers


def expected_wait_s(
    *,
    position: int,
    servers: int,
    free_slots: int,
    mean_handle_s: float,
    team_estimate_s: float | None,
    waited_s: float,
) -> float | None:
    """What we tell a waiting customer, seconds; None when nobody who could answer is online.

    The larger of: the team's estimate for a new arrival (recent ASA, or Erlang C) minus what this customer
    already waited, and the position-based wait. A free slot means an agent is about to take it.
    """
    if free_slots > 0 and position <= free_slots:
        return 0.0
    if servers <= 0:
        return None
    by_position = position_wait_s(max(0, position - free_slots), servers, mean_handle_s)
    remaining = max(0.0, (team_estimate_s or 0.0) - max(0.0, waited_s))
    if math.isinf(remaining):
        remaining = 0.0
    return max(by_position, remaining)
