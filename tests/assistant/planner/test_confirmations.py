"""An explicit yes is what lets a WRITE tool run; anything hedged is not a yes."""

from __future__ import annotations

import pytest

from assistant.confirmations import classify_confirmation
from assistant.tools import Facts, Toolkit


def describe_tool_call(name: str, args: dict[str, object], language: str = "en") -> str:
    return Toolkit(None).describe(name, dict(args), Facts(), language)


@pytest.mark.parametrize("text", ["yes", "Yes please", "yep, go ahead", "ok", "oui", "ja, graag", "confirm"])
def test_yes(text: str) -> None:
    assert classify_confirmation(text) == "yes"


@pytest.mark.parametrize("text", ["no", "No thanks", "nope", "non", "nee", "wait", "don't do that"])
def test_no(text: str) -> None:
    assert classify_confirmation(text) == "no"


@pytest.mark.parametrize(
    "text",
    ["yes but change the address first", "what about the other order?", "", "   ", "I'm not sure", "ok?"],
)
def test_anything_else_is_not_a_yes(text: str) -> None:
    assert classify_confirmation(text) == "other"


def test_descriptions_name_the_change() -> None:
    text = describe_tool_call("cancel_pending_order", {"order_id": "#W1", "reason": "no longer needed"})
    assert "#W1" in text and "no longer needed" in text
    text = describe_tool_call(
        "modify_pending_order_address",
        {
            "order_id": "#W2",
            "address1": "1 Main St",
            "address2": "",
            "city": "Austin",
            "state": "TX",
            "country": "USA",
            "zip": "73301",
        },
    )
    assert "1 Main St, Austin, TX, 73301, USA" in text
    text = describe_tool_call(
        "exchange_delivered_order_items",
        {"order_id": "#W3", "item_ids": ["1"], "new_item_ids": ["2"], "payment_method_id": "gift_card_1"},
    )
    assert "only once" in text and "gift card" in text


def test_descriptions_are_in_the_customer_language() -> None:
    fr = describe_tool_call("cancel_pending_order", {"order_id": "#W1", "reason": "no longer needed"}, "fr")
    assert fr == (
        "annuler la commande #W1 (motif : plus nécessaire) ; le paiement est remboursé sur le moyen de "
        "paiement d'origine"
    )
    nl = describe_tool_call(
        "modify_pending_order_payment", {"order_id": "#W1", "payment_method_id": "gift_card_1"}, "nl"
    )
    assert nl == "bestelling #W1 in plaats daarvan betalen met cadeaukaart gift_card_1"
