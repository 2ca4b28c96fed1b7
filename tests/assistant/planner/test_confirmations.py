"""An explicit yes is what lets a WRITE tool run; anything hedged is not a yes."""

from __future__ import annotations

import pytest

from assistant.confirmations import classify_confirmation, pending_action
from assistant.tools import Facts, Toolkit


def describe_tool_call(name: str, args: dict[str, object], language: str = "en") -> str:
    return Toolkit(None).describe(name, dict(args), Facts(), language)


PENDING = pending_action(
    [{"name": "cancel_pending_order", "args": {"order_id": "#W6474519", "reason": "ordered by mistake"}}]
)
YES = {
    "en": [
        "yes",
        "Yes please",
        "yep, go ahead",
        "ok",
        "confirm",
        "Yes please, the order is W6474519.",
        "ok great, go ahead and cancel it",
        "definitely",
        "yes, cancel #W6474519",
        "sure, thanks",
    ],
    "fr": [
        "oui",
        "oui, allez-y",
        "d'accord",
        "c'est bon",
        "oui merci",
        "Oui, annulez la commande s'il vous plaît",
    ],
    "nl": [
        "ja",
        "ja, graag",
        "doe maar",
        "ja hoor, ga je gang",
        "Ja graag, geen probleem verder.",
        "akkoord",
    ],
}
NO = {
    "en": ["no", "No thanks", "nope", "definitely don't", "don't do that", "absolutely not", "never"],
    "fr": ["non", "non merci", "surtout pas", "ne l'annulez pas", "jamais"],
    "nl": ["nee", "nee hoor", "niet doen", "nee, laat het zo", "nooit"],
}
AGAIN = {
    "en": [
        "yes, don't do it",
        "yes.. no",
        "ok whatever, I dont care",
        "ok the other one, #W6229603",
        "yes #W2377234",
        "yes but change the address first",
        "wait",
        "I'm not sure",
        "ok?",
        "yes?",
        "maybe",
        "sure, whichever",
        "do the other order instead",
        "yes act-0000000000",
        "what about the other order?",
        "up to you",
    ],
    "fr": [
        "oui, mais pas celle-là",
        "peu importe",
        "oui... non",
        "l'autre commande plutôt",
        "oui #W2377234",
        "comme vous voulez",
        "euh, peut-être",
    ],
    "nl": [
        "ja, maar niet die",
        "maakt niet uit",
        "ja... nee",
        "de andere bestelling",
        "misschien",
        "ja #W2377234",
        "kan me niet schelen",
        "liever de andere",
    ],
}


def _cases(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(lang, text) for lang, texts in table.items() for text in texts]


@pytest.mark.parametrize(("language", "text"), _cases(YES))
def test_an_unhedged_yes_for_the_pending_action_runs_it(language: str, text: str) -> None:
    assert classify_confirmation(text, PENDING) == "yes"


@pytest.mark.parametrize(("language", "text"), _cases(NO))
def test_a_clear_no_cancels_it(language: str, text: str) -> None:
    assert classify_confirmation(text, PENDING) == "no"


@pytest.mark.parametrize(("language", "text"), _cases(AGAIN))
def test_negated_hedged_indifferent_or_other_answers_get_the_question_again(language: str, text: str) -> None:
    assert classify_confirmation(text, PENDING) == "again"


@pytest.mark.parametrize("text", ["", "   ", "What is your return policy?", "where is my parcel"])
def test_no_answer_at_all_is_other(text: str) -> None:
    assert classify_confirmation(text, PENDING) == "other"


def test_the_button_must_carry_the_pending_action_id() -> None:
    assert classify_confirmation("yes", PENDING, PENDING.action_id) == "yes"
    assert classify_confirmation("yes", PENDING, "act-0123456789") == "again"
    assert classify_confirmation(f"yes {PENDING.action_id}", PENDING) == "yes"


def test_the_action_id_is_stable_and_names_the_calls() -> None:
    same = pending_action(
        [{"name": "cancel_pending_order", "args": {"reason": "ordered by mistake", "order_id": "#W6474519"}}]
    )
    other = pending_action(
        [{"name": "cancel_pending_order", "args": {"order_id": "#W6229603", "reason": "ordered by mistake"}}]
    )
    assert same.action_id == PENDING.action_id != other.action_id
    assert same.ids == frozenset({"w6474519"})


def test_without_a_pending_action_a_bare_yes_is_still_a_yes() -> None:
    assert classify_confirmation("yes") == "yes"
    assert classify_confirmation("no thanks") == "no"


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
