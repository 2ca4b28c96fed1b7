"""Signed customer tokens: round trip, expiry, forgery, wrong audience, algorithm confusion."""

from __future__ import annotations

import time

import jwt
import pytest

from assistant.identity.tokens import InvalidCustomerToken, issue_customer_token, verify_customer_token

SECRET = "s3cret-for-tests-only-0123456789abcdef"


def test_round_trip() -> None:
    assert (
        verify_customer_token(issue_customer_token("emma_laurent_1001", SECRET), SECRET)
        == "emma_laurent_1001"
    )


def test_expired_token_is_refused_with_reason() -> None:
    token = issue_customer_token("u1", SECRET, ttl=10, now=time.time() - 100)
    with pytest.raises(InvalidCustomerToken, match="expired"):
        verify_customer_token(token, SECRET)


def test_wrong_secret_is_refused() -> None:
    with pytest.raises(InvalidCustomerToken, match="signature"):
        verify_customer_token(issue_customer_token("u1", "other-secret-for-tests-0123456789abcdef"), SECRET)


def test_tampered_subject_is_refused() -> None:
    header, _payload, signature = issue_customer_token("u1", SECRET).split(".")
    forged_payload = jwt.encode({"sub": "u2"}, SECRET + "x", algorithm="HS256").split(".")[1]
    with pytest.raises(InvalidCustomerToken):
        verify_customer_token(f"{header}.{forged_payload}.{signature}", SECRET)


def test_unsigned_token_is_refused() -> None:
    token = jwt.encode({"sub": "u1", "exp": time.time() + 60, "iat": time.time()}, None, algorithm="none")
    with pytest.raises(InvalidCustomerToken):
        verify_customer_token(token, SECRET)


def test_token_for_another_audience_is_refused() -> None:
    now = int(time.time())
    token = jwt.encode(
        {"sub": "u1", "iat": now, "exp": now + 60, "aud": "other", "iss": "parley-shop"}, SECRET
    )
    with pytest.raises(InvalidCustomerToken, match="not issued for Parley"):
        verify_customer_token(token, SECRET)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "é" * 50])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidCustomerToken, match="malformed|invalid"):
        verify_customer_token(garbage, SECRET)


@pytest.mark.parametrize(("user_id", "ttl"), [("", 60), ("x" * 65, 60), ("u1", 0)])
def test_issue_refuses_bad_input(user_id: str, ttl: int) -> None:
    with pytest.raises(ValueError):
        issue_customer_token(user_id, SECRET, ttl=ttl)
