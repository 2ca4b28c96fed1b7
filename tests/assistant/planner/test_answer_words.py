"""The word-overlap part of choosing answer sentences (it helps where MiniLM is weak: French, Dutch)."""

from __future__ import annotations

from assistant.planner.answers import content_stems as _content_stems


def test_content_stems_fold_accents_and_drop_stopwords() -> None:
    assert _content_stems("Quels motifs d'annulation sont acceptés ?") == {
        "quels",
        "motif",
        "annul",
        "sont",
        "accep",
    }
    assert _content_stems("Hoe kan ik iets terugsturen?") == {"iets", "terug"}
    assert _content_stems("is it ok?") == set()


def test_a_sentence_with_the_customers_words_shares_their_stems() -> None:
    asked = _content_stems("kost retourneren geld?")
    assert asked & _content_stems("Retourneren is gratis.")
    assert not asked & _content_stems("Bestellingen worden binnen een dag verzonden.")
