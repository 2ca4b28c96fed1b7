"""The unverified pool's fair share (issue 11, finding 9): pure, allowed and refused."""

from __future__ import annotations

import pytest

from assistant.routing.priority import unverified_pool_shares


def shares(
    origins: list[str | None], cap: int = 3, pool: float = 0.1, own: float = 0.5
) -> list[tuple[float, bool]]:
    found = unverified_pool_shares(
        origins,
        origin_penalty=own,
        pool_penalty=pool,
        cap_of=lambda o: 0 if o is None else cap,
        kind_of=lambda o: "IP",
    )
    return [(round(s.penalty, 6), s.held) for s in found]


def test_the_first_unverified_conversation_pays_nothing() -> None:
    assert shares(["ip:a"]) == [(0.0, False)]


def test_many_ips_queue_first_come_first_served_and_sink() -> None:
    assert shares(["ip:a", "ip:b", "ip:c", "ip:d"]) == [
        (0.0, False),
        (0.1, False),
        (0.2, False),
        (0.3, False),
    ]


def test_one_ip_pays_its_own_share_and_is_held_past_the_cap() -> None:
    got = shares(["ip:a"] * 5)
    assert got[:3] == [(0.0, False), (0.6, False), (1.2, False)]
    assert [held for _, held in got[3:]] == [True, True]


def test_held_conversations_do_not_push_later_ones_down() -> None:
    got = shares(["ip:a"] * 5 + ["ip:b"])
    assert got[-1] == (0.3, False)  # three unheld ahead of it, the two held ones do not count


def test_no_origin_has_no_cap_but_joins_the_pool() -> None:
    assert shares([None, None, None, None]) == [(0.0, False), (0.1, False), (0.2, False), (0.3, False)]


def test_zero_pool_penalty_is_the_old_per_origin_rule() -> None:
    assert shares(["ip:a", "ip:b", "ip:a"], pool=0.0) == [(0.0, False), (0.0, False), (0.5, False)]


def test_negative_penalties_are_refused() -> None:
    with pytest.raises(ValueError):
        unverified_pool_shares(
            ["ip:a"], origin_penalty=0.5, pool_penalty=-0.1, cap_of=lambda o: 3, kind_of=str
        )
