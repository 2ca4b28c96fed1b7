"""A refused change, told to the customer in their language: why, and what is possible instead.

The shop's rules (assistant/tools/policies.py) refuse with one English sentence written for the agent.
Each known refusal is recognised here by its wording and replaced by a reply template (replies.yaml,
`refusal_*`, en/fr/nl) that keeps its facts (order id, status, balance); an unknown error never reaches a
French or Dutch customer in English: they get the generic refusal, which offers a person.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.planner.kit import PlannerKit
from assistant.planner.state import DialogueState, Step

# (pattern on the tool's error text, reply key): the first match wins.
_REFUSALS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.I), key)
    for pattern, key in (
        (
            r"Non-pending order cannot be cancelled \(order (?P<order_id>\S+) is '(?P<status>[^']+)'\)",
            "refusal_cancel_status",
        ),
        (
            r"Non-pending order cannot be modified \(order (?P<order_id>\S+) is '(?P<status>[^']+)'\)",
            "refusal_modify_status",
        ),
        (
            r"Non-delivered order cannot be (returned|exchanged) "
            r"\(order (?P<order_id>\S+) is '(?P<status>[^']+)'\)",
            "refusal_return_status",
        ),
        (r"Invalid reason", "refusal_cancel_reason"),
        (
            r"Insufficient gift card balance .*: balance (?P<balance>[\d.]+), needed (?P<needed>[\d.]+)",
            "refusal_gift_card_balance",
        ),
        (r"refund must go to the original payment method", "refusal_refund_destination"),
        (r"should be different from the old item", "refusal_same_item"),
        (r"is not a variant of the same product", "refusal_other_product"),
        (r"New item \S+ is not available", "refusal_unavailable"),
        (r"new payment method should be different", "refusal_same_payment"),
        (r"Payment method \S+ not found", "refusal_payment_unknown"),
        (r"exactly one payment for a pending order", "refusal_payment_history"),
        (r"(No item ids given|Item \S+ (not found in|appears)|number of new items)", "refusal_items"),
        (r"^(Order not found|User not found)", "refusal_not_found"),
    )
)


def explain(error: str) -> tuple[str, dict[str, Any]]:
    """The reply key and the facts for a tool's error text ("refusal_generic" when it is not known)."""
    for pattern, key in _REFUSALS:
        match = pattern.search(error)
        if match:
            return key, {k: v for k, v in match.groupdict().items() if v is not None}
    return "refusal_generic", {}


def status_label(kit: PlannerKit, state: DialogueState, status: str) -> str:
    """An order status in the customer's language ("en attente" for pending)."""
    return kit.status(state, status)


def refused(kit: PlannerKit, state: DialogueState, error: str) -> Step:
    """The customer-facing refusal of a tool error (failed: the bot could not do what was asked)."""
    key, facts = explain(error.removeprefix("Error: ").strip())
    if "status" in facts:
        facts["status"] = status_label(kit, state, facts["status"])
    return kit.say(state, key, failed=True, **facts)
