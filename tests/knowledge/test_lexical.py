"""Language-aware lexical analysis (Snowball stems, per-language stopwords) and BM25 that prefers the
query's language."""

from __future__ import annotations

import numpy as np

from knowledge.lexical import analyze, analyze_query, language_of, retrieval_stopwords, synonyms_in
from knowledge.snapshot import Snapshot


def test_english_inflections_share_a_stem() -> None:
    assert analyze("Refunds refunded refunding", "en") == ["refund", "refund", "refund"]
    assert analyze("How do I return my shoes?", "en") == ["return", "shoe"]  # stopwords dropped


def test_french_and_dutch_are_stemmed_in_their_own_language() -> None:
    assert analyze("remboursements", "fr") == analyze("remboursement", "fr")
    assert analyze("Les délais de livraison", "fr") == analyze("les delais de livraison", "fr")
    assert "le" not in analyze("le colis", "fr") and analyze("le colis", "fr") == analyze("colis", "fr")
    assert analyze("verzendingen", "nl") == analyze("verzending", "nl")
    assert analyze("Hoe lang duurt de bezorging?", "nl") == ["lang", "duurt", "bezorg"]


def test_unknown_languages_are_analysed_as_english() -> None:
    assert language_of("de-DE") == "en" and language_of("fr-BE") == "fr" and language_of(None) == "en"
    assert analyze("refunds", "de") == analyze("refunds", "en")
    assert "the" in retrieval_stopwords("xx")


def snapshot(rows: list[tuple[str, str, str]]) -> Snapshot:
    ids = [r[0] for r in rows]
    metas = [{"title": "", "section": "", "locale": r[1], "language": r[1].split("-")[0]} for r in rows]
    return Snapshot(("c", "r"), ids, [r[2] for r in rows], metas, np.zeros((len(rows), 4), np.float16))


def test_bm25_prefers_the_query_language_when_the_help_centre_has_it() -> None:
    snap = snapshot(
        [
            ("en", "en", "Livraison Express is the carrier of our parcels to France, every day."),
            ("fr", "fr", "Les délais de livraison sont de trois à cinq jours ouvrés."),
            ("any", "", "Livraison: see the shipping page."),
        ]
    )
    terms = analyze("combien de jours pour la livraison", "fr")
    assert snap.top(terms, 5, prefer="fr") == ["fr", "any"]  # the English page only matched a name
    assert set(snap.top(terms, 5)) == {"en", "fr", "any"}
    assert set(snap.top(analyze("livraison", "nl"), 5, prefer="nl")) == {"any", "fr", "en"}  # no Dutch: all


def test_a_query_is_also_searched_for_its_phrases_synonyms() -> None:
    # "amex" is the customer's word, "American Express" the help centre's (knowledge/lexicons/synonyms.txt).
    assert analyze_query("do you take amex?", "en") == ["take", "amex", "american", "express"]
    assert "american express" in synonyms_in("do you take amex?")
    assert synonyms_in("Cash on delivery?") and synonyms_in("AMEX card")  # folded, on word boundaries
    assert synonyms_in("examexample") == []  # never inside a word
    # A query without a listed phrase is analysed as before; a synonym's term is added once at most.
    assert analyze_query("how do I return my shoes?", "en") == analyze("how do I return my shoes?", "en")
    assert analyze_query("amex or american express", "en").count("american") == 1
