"""Identity normalisation and the trust rules, allowed and refused."""

from __future__ import annotations

import pytest

from assistant.contacts.identities import (
    InvalidIdentity,
    authenticates,
    conversation_user,
    mask,
    may_recall,
    memory_scope,
    normalise,
)


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("email", "Emma Laurent <Emma.Laurent@Example.COM>", "emma.laurent@example.com"),
        ("email", " noah@example.org ", "noah@example.org"),
        ("phone", "+44 20 7946 0958", "+442079460958"),
        ("whatsapp", "15551234567", "+15551234567"),  # wa_id: digits without the plus
        ("phone", "whatsapp:+31 6 12345678", "+31612345678"),
        ("widget", "emma_laurent_1001", "emma_laurent_1001"),
    ],
)
def test_normalise_accepts(kind: str, raw: str, expected: str) -> None:
    assert normalise(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("email", "not an address"),
        ("email", "a@localhost"),
        ("phone", "020 7946 0958"),  # no country code: nothing guesses one
        ("phone", "+1 23"),
        ("widget", ""),
        ("widget", "x" * 200),
        ("fax", "+15551234567"),
    ],
)
def test_normalise_refuses(kind: str, raw: str) -> None:
    with pytest.raises(InvalidIdentity):
        normalise(kind, raw)


def test_only_token_and_code_authenticate() -> None:
    assert authenticates("token") and authenticates("otp")
    assert not authenticates("none") and not authenticates("agent")


def test_a_conversation_is_signed_in_only_with_proof() -> None:
    assert conversation_user("otp", "u1") == "u1"
    assert conversation_user("token", "u1") == "u1"
    assert conversation_user("none", "u1") is None  # an email From header never signs in
    assert conversation_user("agent", "u1") is None  # an agent's link shares history, not the account
    assert conversation_user("otp", None) is None


def test_memory_scope_and_recall() -> None:
    assert memory_scope("none") == "identity"
    assert memory_scope("agent") == "contact"
    assert memory_scope("otp") == "contact"
    # An unproven sender may recall conversations that never touched the account, never the others.
    assert may_recall("none", None)
    assert not may_recall("none", "u1")
    assert not may_recall("agent", "u1")
    assert may_recall("otp", "u1")


def test_mask_hides_most_of_an_address() -> None:
    assert mask("email", "emma.laurent@example.com") == "e***@example.com"
    assert mask("phone", "+15551234567") == "+15*******67"


def test_a_from_header_proves_nothing_even_for_a_proven_mailbox() -> None:
    from assistant.contacts.identities import inbound_proof

    assert inbound_proof("email", "otp") == "none"
    assert inbound_proof("whatsapp", "otp") == "otp"
    assert conversation_user(inbound_proof("email", "otp"), "u1") is None
