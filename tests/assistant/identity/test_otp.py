"""One-time codes: stored hashed, expire, lock after too many wrong tries, verify once, rate limited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assistant.identity.otp import (
    OneTimeCodes,
    OtpRateLimited,
    OtpRow,
    check_code,
    hash_code,
    normalise_typed_code,
)
from assistant.store.conversations import ConversationStore
from knowledge.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def url(settings: Settings) -> str:
    ConversationStore(str(settings.database_url)).migrate()
    return str(settings.database_url)


def test_code_verifies_once_and_only_its_hash_is_stored(url: str) -> None:
    codes = OneTimeCodes(url)
    sent: list[str] = []
    codes.issue("link", "email:a@example.com", sent.append)
    assert len(sent) == 1 and len(sent[0]) == 6 and sent[0].isdigit()
    from assistant.db import session_factory

    with session_factory(url)() as session:
        row = session.scalars(select(OtpRow)).one()
    assert sent[0] not in (row.code_hash, row.salt) and row.code_hash == hash_code(sent[0], row.salt)
    assert codes.verify("link", "email:a@example.com", sent[0][:3] + " " + sent[0][3:]).ok
    assert codes.verify("link", "email:a@example.com", sent[0]).reason == "no_code"  # used


def test_wrong_purpose_or_target_never_verifies(url: str) -> None:
    codes = OneTimeCodes(url)
    sent: list[str] = []
    codes.issue("link", "email:a@example.com", sent.append)
    assert codes.verify("signin", "email:a@example.com", sent[0]).reason == "no_code"
    assert codes.verify("link", "email:b@example.com", sent[0]).reason == "no_code"


def test_attempt_limit_locks_the_code(url: str) -> None:
    codes = OneTimeCodes(url, max_attempts=3)
    sent: list[str] = []
    codes.issue("link", "t", sent.append)
    wrong = "000000" if sent[0] != "000000" else "111111"
    assert codes.verify("link", "t", wrong).attempts_left == 2
    assert codes.verify("link", "t", wrong).attempts_left == 1
    assert codes.verify("link", "t", wrong).reason == "too_many_attempts"
    assert codes.verify("link", "t", sent[0]).reason == "too_many_attempts"  # even the right one now


def test_expiry(url: str) -> None:
    clock = Clock()
    codes = OneTimeCodes(url, ttl_s=60, clock=clock)
    sent: list[str] = []
    codes.issue("link", "t", sent.append)
    clock.now += 61
    assert codes.verify("link", "t", sent[0]).reason == "expired"


def test_newer_code_replaces_older_and_issuing_is_rate_limited(url: str) -> None:
    codes = OneTimeCodes(url, max_per_hour=2)
    sent: list[str] = []
    codes.issue("link", "t", sent.append)
    codes.issue("link", "t", sent.append)
    if sent[0] != sent[1]:
        assert not codes.verify("link", "t", sent[0]).ok
    with pytest.raises(OtpRateLimited):
        codes.issue("link", "t", sent.append)
    assert len(sent) == 2


def test_a_code_that_could_not_be_sent_is_withdrawn(url: str) -> None:
    codes = OneTimeCodes(url)
    captured: list[str] = []

    def broken(code: str) -> None:
        captured.append(code)
        raise ConnectionError("mail server down")

    with pytest.raises(ConnectionError):
        codes.issue("link", "t", broken)
    assert codes.verify("link", "t", captured[0]).reason == "no_code"
    assert codes.latest_target("link", "t") is None


def test_check_code_rules() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 1, 1, tzinfo=UTC)
    good = {
        "attempts": 0,
        "max_attempts": 5,
        "expires_at": now + timedelta(minutes=5),
        "used": False,
        "now": now,
    }
    assert check_code("123456", hash_code("123456", "s"), "s", **good) == "ok"
    assert check_code("123457", hash_code("123456", "s"), "s", **good) == "wrong_code"
    assert check_code("123456", hash_code("123456", "s"), "s", **{**good, "used": True}) == "no_code"
    assert (
        check_code("123456", hash_code("123456", "s"), "s", **{**good, "attempts": 5}) == "too_many_attempts"
    )
    assert check_code("123456", hash_code("123456", "s"), "s", **{**good, "expires_at": now}) == "expired"
    assert normalise_typed_code(" 123-456 ") == "123456"
