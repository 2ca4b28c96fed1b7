"""Identity as a per-deployment policy, and the safety rules for secrets: pure functions (docs/security.md).

- "verified" (the default): a conversation is signed in only by a proof, a token signed by the shop's
  backend or a one-time code sent to the email on file and typed back. Knowing an email, or a name and a
  zip code, proves nothing: the lookups by email / name + zip never sign a conversation in.
- "tau2_benchmark": τ²-bench's retail policy, where an email (or name + zip) found in the shop signs the
  conversation in. Only for the offline evaluation and the benchmarks, which replay τ²-style dialogues.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

IdentityPolicy = Literal["verified", "tau2_benchmark"]
POLICIES: tuple[str, ...] = get_args(IdentityPolicy)
BENCHMARK_POLICY: IdentityPolicy = "tau2_benchmark"
MIN_SECRET_BYTES = 32
# The shipped defaults: a server that still uses one of them is open to anybody who read the README.
DEFAULT_TOKEN_SECRET = "change-me-in-production"
DEFAULT_AGENT_KEYS = frozenset({"demo-agent-key"})

BENCHMARK_WARNING = (
    "identity policy is 'tau2_benchmark' (τ²-bench's: an email or a name + zip code signs a conversation "
    "in, so anybody who knows a customer's email can read and change their orders). Use it for the "
    "evaluation and benchmarks only; set PARLEY_IDENTITY_POLICY=verified for customers."
)


def lookup_signs_in(policy: str) -> bool:
    """Whether finding a user by email or name + zip signs the conversation in (τ²-bench's policy only)."""
    return policy == BENCHMARK_POLICY


def policy_warning(policy: str) -> str | None:
    """The warning a server logs at start for this policy (None for the safe one)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown identity policy {policy!r}; expected one of {', '.join(POLICIES)}")
    return BENCHMARK_WARNING if policy == BENCHMARK_POLICY else None


def secret_problem(name: str, value: str, defaults: frozenset[str]) -> str | None:
    """Why this secret is unsafe (a shipped default, or shorter than 32 bytes), or None when it is fine."""
    if value in defaults:
        return f"{name} is the shipped default"
    if len(value.encode()) < MIN_SECRET_BYTES:
        return f"{name} is shorter than {MIN_SECRET_BYTES} bytes"
    return None


def weak_secrets(token_secret: str, agent_keys: Mapping[str, str]) -> list[str]:
    """Every unsafe secret of a deployment, as readable reasons (empty: safe to serve). Key values are never
    part of the text, only the agent names."""
    problems = [
        secret_problem("PARLEY_CUSTOMER_TOKEN_SECRET", token_secret, frozenset({DEFAULT_TOKEN_SECRET}))
    ]
    for agent, key in sorted(agent_keys.items()):
        problems.append(
            secret_problem(f"the agent key of {agent!r} (PARLEY_AGENT_KEYS)", key, DEFAULT_AGENT_KEYS)
        )
    return [p for p in problems if p is not None]


def token_lifetime_problem(issued_at: object, expires_at: object, max_lifetime_s: int) -> str | None:
    """Why a token's lifetime is refused (over the maximum, or exp before iat), or None when it is fine."""
    if not isinstance(issued_at, int | float) or not isinstance(expires_at, int | float):
        return "customer token has no numeric iat/exp"
    lifetime = expires_at - issued_at
    if lifetime <= 0:
        return "customer token expires before it was issued"
    if lifetime > max_lifetime_s:
        return (
            f"customer token lives longer than the allowed {max_lifetime_s} s (exp - iat = {int(lifetime)} s)"
        )
    return None
