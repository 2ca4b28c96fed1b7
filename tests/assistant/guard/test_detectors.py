"""Each detector on positives and tricky negatives in English, French and Dutch."""

from __future__ import annotations

import re

import numpy as np
import pytest

from assistant.guard import detectors as d
from knowledge.language import stopword_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hi, where is my order? It was supposed to arrive yesterday.", "en"),
        ("Bonjour, où en est ma commande ? Je n'ai rien reçu.", "fr"),
        ("Hallo, waar is mijn bestelling? Ik heb nog niets ontvangen.", "nl"),
        ("déçu, arnaque", "fr"),
        ("", "en"),
        ("🙂🙂🙂", "en"),
    ],
)
def test_detect_language(text: str, language: str) -> None:
    assert stopword_language(text) == language


def test_fold_strips_accents_and_curly_apostrophes() -> None:
    assert d.fold("Parler à Quelqu’un, DÉÇU") == "parler a quelqu'un, decu"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("C'est inadmissible, service lamentable !", "fr"),
        ("Je suis vraiment déçu et furieux.", "fr"),
        ("Dit is echt belachelijk, waardeloze service.", "nl"),
        ("Ik ben woedend, schandalig!", "nl"),
    ],
)
def test_fr_nl_lexicon_scores_angry_messages_negative(text: str, language: str) -> None:
    assert d.sentiment(text, language).compound <= -0.6


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Pas de problème, merci beaucoup !", "fr"),
        ("Geen probleem, bedankt!", "nl"),
        ("Parfait, merci.", "fr"),
        ("Top, dank je wel.", "nl"),
    ],
)
def test_negated_negative_words_and_thanks_are_positive(text: str, language: str) -> None:
    assert d.sentiment(text, language).compound > 0


def test_negation_flips_a_positive_word() -> None:
    assert d.sentiment("je ne suis pas content", "fr").compound < 0
    assert d.sentiment("ik ben niet tevreden", "nl").compound < 0
    # a bare French "plus" means "more", not "no longer"
    assert d.sentiment("plus rapide, super", "fr").compound > 0


def test_sarcasm_marker_turns_vader_praise_negative() -> None:
    result = d.sentiment("Oh great, another week of waiting. Fantastic service.", "en")
    assert result.base > 0.5  # what plain VADER says
    assert result.compound < -0.6
    assert result.sarcasm_markers == 1


def test_frustration_marker_pushes_score_down() -> None:
    plain = d.sentiment("Where is my refund?", "en").compound
    frustrated = d.sentiment("How many times do I have to ask where my refund is?", "en").compound
    assert frustrated < plain - 0.3


def test_trajectory_needs_enough_turns() -> None:
    assert d.trajectory([-0.5, -0.5], 3) is None
    assert d.trajectory([0.9, -0.5, -0.5, -0.5], 3) == pytest.approx(-0.5)
    assert d.trajectory([], 0) is None


# Each pattern detector: messages it must catch, and tricky ones it must let pass (any language, the
# message's own language detected first, as the guard does).
PATTERN_CASES: dict[str, tuple[list[str], list[str]]] = {
    "explicit_request": (
        [
            "I want to talk to a human.",
            "Can I speak to a real person please?",
            "agent",
            "Representative please",
            "How do I reach a live agent?",
            "Could you transfer me to your supervisor?",
            "I need help speaking to a bloody live agent",
            "Je veux parler à quelqu'un.",
            "Est-ce que je peux parler à un conseiller ?",
            "Je voudrais une vraie personne, pas un robot.",
            "Mettez-moi en relation avec un agent.",
            "Ik wil een medewerker spreken.",
            "Kan ik met een echt mens praten?",
            "Ik wil iemand spreken over mijn retour.",
            "medewerker aub",
            "Kunt u mij terugbellen?",
            "I was charged twice and I want someone from billing to look at it",
            "I need someone to look into this, the refund never came",
        ],
        [
            "My travel agent booked the hotel.",
            "Is this a human-made product?",
            "Do you sell the Agent Orange poster?",
            "I talked to an agent yesterday and she said the refund was coming.",
            "Can someone pick up the return from my house?",
            "Are you a bot?",
            "Mon agent immobilier m'a conseillé ce canapé.",
            "L'agent de livraison a laissé le colis chez le voisin.",
            "De medewerker van PostNL zei dat ik het kan ophalen.",
            "Ik heb gisteren met een medewerker gesproken.",
            "Someone from your team already looked at it and it is fine now.",
        ],
    ),
    "threat_to_leave": (
        [
            "I will never order from you again.",
            "Cancel my account, I'm taking my business to Amazon.",
            "You've just lost a loyal customer.",
            "Plus jamais je ne commanderai chez vous.",
            "Je vais commander chez Amazon, vous avez perdu un client.",
            "Ik bestel hier nooit meer iets.",
            "Ik ga voortaan naar Bol.",
        ],
        [
            "I'd like to cancel my account, no problem.",
            "Can I never receive the newsletter?",
            "Je voudrais annuler ma commande, pas de souci.",
            "Ik wil mijn account opzeggen.",
        ],
    ),
    "public_complaint": (
        [
            "I'm going to post this on Twitter.",
            "Enjoy your 1-star review on Trustpilot.",
            "My lawyer will be in touch.",
            "I want to file a formal complaint.",
            "Je vais tout raconter sur les réseaux sociaux.",
            "Je vais porter plainte.",
            "Ik ga dit op Twitter zetten.",
            "Ik wil een klacht indienen tegen jullie bedrijf.",
        ],
        [
            "How do I leave a review? I love the table.",
            "I saw your shop on Instagram.",
            "J'ai vu votre boutique sur Instagram.",
            "Ik heb jullie op Instagram gezien.",
        ],
    ),
}


def _pattern_cases(index: int) -> list[object]:
    return [
        pytest.param(kind, text, id=f"{kind}-{number}")
        for kind, cases in PATTERN_CASES.items()
        for number, text in enumerate(cases[index])
    ]


@pytest.mark.parametrize(("kind", "text"), _pattern_cases(0))
def test_pattern_detector_positives(kind: str, text: str) -> None:
    detector = getattr(d, kind)
    assert detector(text, stopword_language(text)).hit, text


@pytest.mark.parametrize(("kind", "text"), _pattern_cases(1))
def test_pattern_detector_negatives(kind: str, text: str) -> None:
    detector = getattr(d, kind)
    assert not detector(text, stopword_language(text)).hit, text


@pytest.mark.parametrize("kind", sorted(PATTERN_CASES))
def test_pattern_tables_come_from_package_data_for_every_language(kind: str) -> None:
    table = d.pattern_table(kind)
    assert set(table) == {"en", "fr", "nl"} and all(table.values())
    for patterns in table.values():
        for pattern in patterns:
            assert pattern.flags & re.VERBOSE
            assert not re.search(r"\{[a-z_]+\}", pattern.pattern), "a {fragment} was left unexpanded"
    assert d.pattern_table(kind) is table  # compiled once


def test_fragments_expand_and_unknown_ones_are_refused() -> None:
    assert d._expand(r"\b{x}\s{0,3}", {"x": "(?:a|b)"}) == r"\b(?:a|b)\s{0,3}"
    with pytest.raises(KeyError):
        d._expand("{missing}", {})


def test_sentiment_modifiers_are_package_data() -> None:
    assert {"pas", "jamais"} <= d.sentiment_modifiers("negations", "fr")
    assert "niet" in d.sentiment_modifiers("negations", "nl")
    assert "vraiment" in d.sentiment_modifiers("boosters", "fr")
    assert d.sentiment_modifiers("boosters", "en") == frozenset()  # VADER has its own


def test_profanity_weights_and_languages() -> None:
    assert d.profanity("This is bullshit", "en").score >= 1.0
    assert d.profanity("f*** this", "en").score >= 1.0
    assert d.profanity("Putain, où est mon colis ?", "fr").score >= 1.0
    assert d.profanity("Godverdomme, waar blijft het?", "nl").score >= 1.0
    # mild words weigh half; the same word in two lists counts once
    assert d.profanity("the damn box", "en").score == 0.5
    assert d.profanity("fuck", "en").score == 1.0
    # strict entries only count in their own language: French "retard" is a delay, "con" is English too
    assert d.profanity("Mon colis a du retard", "fr").score == 0
    assert d.profanity("pros and con", "en").score == 0
    assert d.profanity("Scunthorpe and classic", "en").score == 0


def test_shouting_ratio_and_exclamations() -> None:
    loud = d.shouting("WHERE IS MY ORDER", 12)
    assert loud.upper_ratio == 1.0
    assert d.shouting("OK DHL", 12).upper_ratio == 0.0  # too short to judge
    assert d.shouting("Still nothing!!! Where?!?!", 12).exclamation_run == 4
    assert d.shouting("Where is my order", 12).upper_ratio < 0.1


def test_repeated_request_counts_earlier_similar_rows() -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    result = d.repeated_request(vectors, 0.9)
    assert result.repeats == 2
    assert result.max_similarity == pytest.approx(1.0)
    assert d.repeated_request(vectors[:1], 0.9).repeats == 0


def test_bot_failures_in_a_row_counts_from_the_newest() -> None:
    assert d.bot_failures_in_a_row([True, False, True, True]) == 2
    assert d.bot_failures_in_a_row([True, True, False]) == 0
    assert d.bot_failures_in_a_row([]) == 0


def test_char_ngram_vectors_are_normalised_and_deterministic() -> None:
    vectors = d.char_ngram_vectors(["cancel my order", "cancel my order", "", "bonjour"])
    assert np.allclose(np.linalg.norm(vectors[[0, 1, 3]], axis=1), 1.0)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(1.0)
    assert float(vectors[0] @ vectors[3]) < 0.5
    assert not vectors[2].any()
