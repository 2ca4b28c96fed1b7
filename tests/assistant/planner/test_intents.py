"""IntentClassifier directly: the rules that decide the unambiguous cases before the nearest-neighbour vote
(run with a bag-of-words encoder, so the vote is deterministic and instant)."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
import yaml

from assistant.planner.intents import IntentClassifier, names_an_action
from tests.assistant.planner.conftest import bag_of_words


@pytest.fixture(scope="module")
def intents() -> IntentClassifier:
    return IntentClassifier(bag_of_words)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("please cancel #W1000001", "cancel_order"),
        ("I want to exchange the boots", "exchange_items"),
        ("where is my parcel? tracking says nothing", "order_status"),
        ("je veux annuler ma commande", "cancel_order"),
        ("ik wil mijn bestelling annuleren", "cancel_order"),
        ("can I speak to a real person", "human"),
    ],
)
def test_rules_decide_the_unambiguous_requests(intents: IntentClassifier, text: str, intent: str) -> None:
    result = intents.classify(text)
    assert (result.intent, result.source) == (intent, "rule")


def test_a_general_question_about_a_rule_is_a_question_not_an_action(intents: IntentClassifier) -> None:
    assert intents.classify("how do returns work?").intent == "question"
    assert intents.classify("how do I cancel #W1000001?").intent == "cancel_order"  # an order id: do it


def test_no_person_is_offered_when_a_person_already_has_the_conversation(intents: IntentClassifier) -> None:
    assert intents.classify("can I speak to a real person", allow_human=False).intent != "human"


def test_empty_and_far_away_texts_are_questions(intents: IntentClassifier) -> None:
    assert intents.classify("   ").intent == "question"
    assert intents.classify("zzzz qqqq").source == "default"


def test_results_are_cached_per_text_and_mode(intents: IntentClassifier) -> None:
    first = intents.classify("please cancel #W1000001")
    assert intents.classify("please cancel #W1000001") is first


def test_a_message_that_asks_something_is_not_thanks(intents: IntentClassifier) -> None:
    # "Puis-je payer en trois fois sans frais ?" was answered "Graag gedaan!": a question is never thanks.
    assert intents.classify("merci beaucoup").intent == "thanks"
    assert intents.classify("merci beaucoup ?").intent == "question"
    assert intents.classify("dank je wel, bedankt?").intent == "question"


def test_a_question_about_a_rule_is_not_an_ask_for_a_person_by_the_vote_alone() -> None:
    # MiniLM put "hoe laat moet ik bestellen zodat het vandaag nog vertrekt?" next to the "person" examples.
    raw = yaml.safe_load(resources.files("assistant.planner").joinpath("intents.yaml").read_text("utf-8"))
    person = set(raw["human"])
    question = "hoe laat moet ik bestellen zodat het vandaag nog vertrekt?"

    def person_like(texts: list[str]) -> np.ndarray:  # the question sits on the "person" examples
        return np.array([[1.0, 0.0] if t in person or t == question else [0.0, 1.0] for t in texts])

    classifier = IntentClassifier(person_like)
    assert classifier.classify(next(iter(person))).intent == "human"
    assert classifier.classify(question).intent == "question"


def test_a_question_whether_something_is_possible_needs_an_action_word() -> None:
    # "my order" names what the question is about: without an action's word it is not a request.
    assert not names_an_action("Puis-je retirer ma commande dans un magasin à Lyon ?")
    assert not names_an_action("Kan ik mijn bestelling zelf ophalen bij jullie magazijn?")
    assert not names_an_action("Est-ce que vous pouvez faire un paquet cadeau pour ma commande ?")
    # An action's word, or a change the tools make, still is; so is "my order" outside such a question.
    assert names_an_action("can you cancel my order?")
    assert names_an_action("can I change the address on my order?")
    assert names_an_action("kan ik mijn bestelling wijzigen?")
    assert names_an_action("I need my order by friday?")
