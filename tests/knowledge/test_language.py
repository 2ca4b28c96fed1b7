"""The language detector on short messages: a reply is in the customer's language, so a two-word French
or Dutch question must not be read as the other one (or as English)."""

from __future__ import annotations

import pytest

from knowledge.language import detect_language, stopword_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        # "puis-je" counts its pronoun; "en" is French as well as Dutch
        ("Puis-je payer en trois fois sans frais ?", "fr"),
        ("Pouvez-vous livrer samedi ?", "fr"),
        ("Vous livrez en Guadeloupe ?", "fr"),
        ("Combien coûte la livraison ?", "fr"),
        ("Hoeveel weegt de tweepersoonstent?", "nl"),  # "de" is French and Dutch; "hoeveel" is Dutch
        ("Welke betaalmethoden accepteren jullie?", "nl"),
        ("hoe laat moet ik bestellen zodat het vandaag nog vertrekt?", "nl"),
        ("which cards do you take?", "en"),
        ("how much is shipping? my cart is like $60", "en"),
    ],
)
def test_short_questions_are_read_in_their_language(text: str, language: str) -> None:
    assert stopword_language(text) == language
    assert detect_language(text, default="en") == language


def test_a_message_without_any_stopword_keeps_the_conversation_language() -> None:
    assert detect_language("emma@example.com", default="nl") == "nl"
    assert detect_language("ok", default="fr") == "fr"
