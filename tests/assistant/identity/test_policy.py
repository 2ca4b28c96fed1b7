"""The identity policy and the secret rules as pure functions, each allowed and refused; the tool layer and
the planner under each policy (no model, no server)."""

from __future__ import annotations

import pytest

from assistant.identity.policy import (
    BENCHMARK_WARNING,
    lookup_signs_in,
    policy_warning,
    secret_problem,
    token_lifetime_problem,
    weak_secrets,
)
from assistant.identity.signin import email_in, held_request, target_for, typed_code
from assistant.identity.tokens import InvalidCustomerToken, issue_customer_token, verify_customer_token
from assistant.tools.base import PROOF_NEEDED, CustomerScope
from assistant.tools.toolkit import Toolkit

STRONG = "k" * 32


# --- the policy ------------------------------------------------------------------------------------
def test_only_the_benchmark_policy_lets_a_lookup_sign_in() -> None:
    assert lookup_signs_in("tau2_benchmark") is True
    assert lookup_signs_in("verified") is False
    assert lookup_signs_in("anything-else") is False  # unknown: the safe answer


def test_the_benchmark_policy_is_named_in_a_warning() -> None:
    assert policy_warning("verified") is None
    warning = policy_warning("tau2_benchmark")
    assert warning == BENCHMARK_WARNING and "tau2_benchmark" in warning
    with pytest.raises(ValueError, match="unknown identity policy"):
        policy_warning("email")


# --- secrets ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("change-me-in-production", "shipped default"),
        ("short", "shorter than 32 bytes"),
        ("x" * 31, "shorter than 32 bytes"),
        ("é" * 16, None),  # 32 bytes in UTF-8
        (STRONG, None),
    ],
)
def test_secret_problem(value: str, problem: str | None) -> None:
    found = secret_problem("S", value, frozenset({"change-me-in-production"}))
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_weak_secrets_names_every_problem_and_never_a_key() -> None:
    problems = weak_secrets(
        "change-me-in-production", {"demo-agent": "demo-agent-key", "ok": STRONG, "b": "abc"}
    )
    assert len(problems) == 3
    assert any("CUSTOMER_TOKEN_SECRET" in p for p in problems)
    assert any("'demo-agent'" in p and "default" in p for p in problems)
    assert not any("demo-agent-key" in p or "abc" in p.replace("'b'", "") for p in problems)
    assert weak_secrets(STRONG, {"alice": STRONG + "a"}) == []


# --- token lifetime --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("iat", "exp", "allowed"),
    [
        (0, 3600, True),
        (0, 86_400, True),
        (0, 86_401, False),
        (100, 100, False),
        (100, 50, False),
        ("0", 1, False),
    ],
)
def test_token_lifetime(iat: object, exp: object, allowed: bool) -> None:
    assert (token_lifetime_problem(iat, exp, 86_400) is None) is allowed


def test_verify_refuses_a_token_over_the_maximum_lifetime() -> None:
    secret = "s" * 40
    long_lived = issue_customer_token("u1", secret, ttl=10 * 365 * 86_400)
    assert verify_customer_token(long_lived, secret) == "u1"  # no maximum given: only the signature
    with pytest.raises(InvalidCustomerToken, match="longer than the allowed 86400 s"):
        verify_customer_token(long_lived, secret, max_lifetime_s=86_400)
    assert verify_customer_token(issue_customer_token("u1", secret, ttl=600), secret, 86_400) == "u1"


# --- the sign-in flow's rules ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("123456", "123456"),
        ("code: 123 456", "123456"),
        ("123-456", "123456"),
        ("  654321 ", "654321"),
        ("12345", None),
        ("1234567", None),
        ("cancel order #W1000001", None),
        ("my code is 123456 and please cancel everything now", None),
    ],
)
def test_typed_code(text: str, code: str | None) -> None:
    assert typed_code(text) == code


def test_email_in_text() -> None:
    assert email_in("my email is Emma.Laurent@Example.com, cancel") == "emma.laurent@example.com"
    assert email_in("cancel order #W1000001") is None


def test_held_request_skips_codes_and_bare_addresses() -> None:
    assert held_request(["cancel order #W1000001", "emma@example.com", "123456"]) == "cancel order #W1000001"
    assert held_request(["my email is emma@example.com, cancel #W1000001 by mistake"]) == (
        "my email is , cancel #W1000001 by mistake"
    )
    assert held_request(["my email is emma@example.com", "123456"]) is None
    assert held_request([]) is None


def test_a_code_target_names_the_conversation_and_the_address() -> None:
    assert target_for("c1", "a@b.co") == "conv:c1>email:a@b.co"
    assert target_for("c1", "a@b.co") != target_for("c2", "a@b.co")


# --- the tool layer --------------------------------------------------------------------------------
def test_lookup_is_refused_under_verified_without_looking_anything_up() -> None:
    toolkit = Toolkit(None)  # no shop at all: a refusal that looked something up would fail differently
    scope = CustomerScope.customer(lookup_signs_in=False)
    for name, args in (
        ("find_user_id_by_email", {"email": "emma.laurent@example.com"}),
        ("find_user_id_by_name_zip", {"first_name": "Emma", "last_name": "Laurent", "zip": "97205"}),
    ):
        result = toolkit.run(scope, name, args)
        assert not result.ok and result.error == PROOF_NEEDED
    assert scope.user_id is None


def test_lookup_runs_under_the_benchmark_policy() -> None:
    result = Toolkit(None).run(CustomerScope.customer(), "find_user_id_by_email", {"email": "a@b.co"})
    assert not result.ok and result.error != PROOF_NEEDED  # it tried the (missing) shop


def test_trusted_operator_keeps_its_lookups() -> None:
    scope = CustomerScope(trusted_operator=True, lookup_signs_in=False)
    result = Toolkit(None).run(scope, "find_user_id_by_email", {"email": "a@b.co"})
    assert result.error != PROOF_NEEDED


# --- the planner -----------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", ["verified", "tau2_benchmark"])
def test_planner_asks_for_a_code_address_only_under_verified(policy: str) -> None:
    from langchain_core.messages import HumanMessage

    from assistant.planner.planner import OfflinePlanner
    from tests.assistant.planner.conftest import FakeIntents, bag_of_words

    text = "cancel order #W1000001, my email is emma@example.com"
    planner = OfflinePlanner(
        bag_of_words,
        Toolkit(None),
        shop_name="Test Shop",
        intents=FakeIntents({text: "cancel_order"}),
        identity_policy=policy,
    )
    step = planner.next_step([HumanMessage(text)])
    if policy == "verified":
        assert step.tool is None and "6-digit code" in (step.text or "")
    else:
        assert step.tool == "find_user_id_by_email"
