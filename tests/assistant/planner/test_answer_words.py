"""The words, sentences and signals an answer is built from: stems, typos, tables, lists, question kinds,
and the answerability check deciding on them."""

from __future__ import annotations

from typing import Any

import numpy as np

from assistant.planner import answerability
from assistant.planner.answers import asks_for, extremes, fits, measure, overlap, points_elsewhere
from assistant.planner.sentences import is_table_row, sentences
from assistant.planner.words import PassageWords, content_words, stems, within_edits
from tests.assistant.planner.conftest import bag_of_words


def test_content_words_drop_stopwords_filler_and_numbers() -> None:
    assert content_words("hii guys, can i return my hiking boots? 2 of them") == ["return", "hiking", "boots"]
    assert content_words("Quels motifs d'annulation sont acceptés ?") == ["motifs", "annulation", "acceptes"]
    assert content_words("is it ok?") == []


def test_stems_are_snowball_stems_in_the_texts_language() -> None:
    assert stems("returned parcels", "en") == stems("return parcel", "en") == {"return", "parcel"}
    assert stems("remboursements", "fr") == stems("remboursement", "fr")
    assert stems("kost retourneren geld?", "nl") & stems("Retourneren is gratis.", "nl")


def test_typos_translations_and_stems_count_as_mentioned_but_other_words_do_not() -> None:
    passage = PassageWords([("You can return hiking boots from a delivered order.", "en")])
    assert passage.mentions("retrun", "en") and passage.mentions("hikking", "en")
    assert passage.mentions("returned", "en") and passage.mentions("retourneren", "nl")
    assert not passage.mentions("wrap", "en") and not passage.mentions("kayaks", "en")
    assert within_edits("retrun", "return", 1) and not within_edits("wrap", "warp", 0)


def test_another_form_of_a_glossary_word_finds_its_translations() -> None:
    # "ouverts" is not in the glossary, "ouvert" is: its stem finds the group (open, ouvert, geopend).
    hours = PassageWords([("We are open Monday to Friday, 9:00 to 17:00.", "en")])
    assert hours.mentions("ouverts", "fr") and hours.mentions("geopend", "nl")
    assert not hours.mentions("fermes", "fr")


def test_coverage_is_that_of_the_best_single_passage() -> None:
    lantern = {"title": "Caring for outdoor gear", "text": "Store the camping lantern dry.", "score": 0.6}
    charge = {"title": "Warranty", "text": "Batteries hold their charge for two years.", "score": 0.5}
    words = ["lantern", "charge", "hours"]
    # Each word somewhere, none together: a third of the question at best; no passage has "hours".
    coverage, missing = answerability.passage_coverage(words, "en", [lantern, charge])
    assert coverage == 1 / 3 and missing == ("hours",)
    together = {"title": "Lantern", "text": "The lantern lasts 20 hours on one charge.", "score": 0.6}
    assert answerability.passage_coverage(words, "en", [lantern, together]) == (1.0, ())
    # A missing word lowers the signal; the same question with the word present does not.
    assert answerability.passage_coverage(["lantern", "wrap"], "en", [together]) == (0.5, ("wrap",))
    assert answerability.passage_coverage(["lantern"], "en", [together]) == (1.0, ())
    assert answerability.passage_coverage([], "en", [together]) == (1.0, ())


def test_tables_become_sentences_with_their_headers_and_lists_stay_with_their_lead_in() -> None:
    text = (
        "| Option | Carrier | Transit time |\n|---|---|---|\n"
        "| Standard | UPS Ground | 4 to 6 business days |\n\n"
        "We accepteren twee redenen voor een annulering:\n\n- **niet meer nodig** (no longer needed);\n"
        "- **per ongeluk besteld** (ordered by mistake).\n\n1. Open the chat assistant.\n## Heading only"
    )
    assert sentences(text) == [
        "Standard (option) — carrier: UPS Ground; transit time: 4 to 6 business days.",
        "We accepteren twee redenen voor een annulering: niet meer nodig (no longer needed); "
        "per ongeluk besteld (ordered by mistake).",
        "Open the chat assistant.",
    ]


def test_what_a_question_asks_for_and_which_sentence_holds_it() -> None:
    assert "duration" in asks_for("how long does shipping take?")
    assert "duration" in asks_for("combien de temps pour la livraison ?")
    assert "amount" in asks_for("wat kost verzending?")
    assert "permission" in asks_for("can I cancel my order?")
    assert fits("duration", "Standard takes 4 to 6 business days.")
    assert not fits("duration", "Standard shipping is handled by UPS.")
    # A rule answers "can I" only with its condition.
    assert fits("permission", "You can cancel an order while it is pending.")
    assert not fits("permission", "You can cancel an order.")


def one_passage(title: str, text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """One retrieved passage (score 0.6) and its sentences, as the answerability check receives them."""
    return [{"title": title, "text": text, "score": 0.6}], sentences(text)


def test_the_check_wants_the_questions_words_in_the_passages() -> None:
    hits, found = one_passage("Gift cards", "Gift cards never expire. A gift card pays for any order.")
    wrap = answerability.gather_evidence("can you gift wrap my order?", "en", hits, bag_of_words, found)
    expire = answerability.gather_evidence("do gift cards expire?", "en", hits, bag_of_words, found)
    assert wrap.missing == ("wrap",) and wrap.coverage < expire.coverage == 1.0
    model = answerability.AnswerabilityModel(weights=(0.0, 0.0, 0.0, 10.0, 0.0), bias=-8.0, threshold=0.5)
    assert model.answerable(expire) and not model.answerable(wrap)


def test_the_focus_is_what_a_can_i_question_asks_to_do() -> None:
    assert answerability.focus_word("can I rent the two-person tent for a weekend?") == "rent"
    assert answerability.focus_word("Pouvez-vous graver un prénom sur la gourde ?") == "graver"
    assert answerability.focus_word("Est-ce que je peux louer une tente ?") == "louer"
    assert answerability.focus_word("Kunnen jullie mijn bestelling als cadeau inpakken?") == "inpakken"
    assert answerability.focus_word("how long does shipping take?") is None


def test_the_passage_that_holds_the_words_must_hold_the_focus_too() -> None:
    hits, found = one_passage(
        "Caring for tents", "Dry the two-person tent fully before you store it. Returns of tents are free."
    )
    rent = answerability.gather_evidence("can I rent the two-person tent?", "en", hits, bag_of_words, found)
    store = answerability.gather_evidence("can I store the two-person tent?", "en", hits, bag_of_words, found)
    rule = answerability.gather_evidence("how do I dry the tent?", "en", hits, bag_of_words, found)
    assert (rent.focus, store.focus, rule.focus) == (0.0, 1.0, 1.0)
    model = answerability.AnswerabilityModel(weights=(0.0, 0.0, 0.0, 2.0, 6.0), bias=-6.0, threshold=0.5)
    assert model.answerable(store) and not model.answerable(rent)


def test_the_fitted_model_is_package_data_with_one_weight_per_signal() -> None:
    model = answerability.fitted_model()
    assert len(model.weights) == len(answerability.FEATURES) and 0.0 < model.threshold < 1.0
    assert all(np.isfinite(model.weights)) and all(w > 0 for w in model.weights)


def test_a_passage_mentions_a_word_by_its_synonym_phrase() -> None:
    passage = PassageWords([("We accept Visa, Mastercard, American Express and PayPal.", "en")])
    assert passage.mentions("amex", "en")  # all words of "american express" are there
    assert not PassageWords([("Express shipping takes one day.", "en")]).mentions("amex", "en")


def test_a_sentence_that_points_back_stays_with_the_one_before_it() -> None:
    text = (
        "We accept two cancellation reasons:\n\n- **no longer needed**\n- **ordered by mistake**\n\n"
        "Please choose one of them when you cancel. Other reasons cannot be recorded.\n\n"
        "Gift cards are not taxed when you buy them, as it happens."
    )
    assert sentences(text) == [
        "We accept two cancellation reasons: no longer needed; ordered by mistake. "
        "Please choose one of them when you cancel.",
        "Other reasons cannot be recorded.",
        "Gift cards are not taxed when you buy them, as it happens.",  # "them" is far in: it reads alone
    ]


def test_how_do_i_asks_for_the_way_and_what_happens_next() -> None:
    assert "procedure" in asks_for("how can I download all the data you have on me")
    assert "procedure" in asks_for("comment je retourne un article svp")
    assert "procedure" in asks_for("hoe kan ik iets terugsturen?")
    assert "procedure" not in asks_for("how long do refunds take?")
    assert fits("procedure", "Go to Account > Privacy and click Download my data.")
    assert fits("procedure", "Le statut de la commande devient alors retour demandé.")
    assert not fits("procedure", "Refunds take 5 to 7 business days.")


def test_a_question_that_opens_with_a_question_word_is_not_a_yes_no_question() -> None:
    assert asks_for("how much can I put on a gift card") == ["amount"]
    assert "permission" not in asks_for("hoe kan ik iets terugsturen?")
    assert "permission" in asks_for("can I return a sale item?")


def test_a_question_word_counts_as_said_by_its_glossary_translation() -> None:
    asked = "kan ik een verwerkte bestelling nog annuleren?"
    said = stems("Zodra de bestelling verwerkt is, kan ze niet meer geannuleerd worden.", "nl")
    assert overlap(asked, said, "nl") == 1.0  # "annuleren" is said as "geannuleerd" (same glossary group)
    assert overlap(asked, stems("Je kunt alle artikelen retourneren.", "nl"), "nl") == 0.0


def test_fastest_and_cheapest_pick_the_table_row_with_the_extreme_value() -> None:
    rows = sentences(
        "| Option | Carrier | Transit time | Price |\n|---|---|---|---|\n"
        "| Standard | UPS Ground | 4 to 6 business days | $5.95 |\n"
        "| Expedited | UPS 2nd Day Air | 2 to 3 business days | $14.95 |\n"
        "| Express | UPS Next Day Air | next business day | $29.95 |\n\n"
        "Large items may need 1 to 2 extra business days."
    )
    assert [is_table_row(s) for s in rows] == [True, True, True, False]
    assert measure("duration", rows[0]) == 96.0
    assert measure("duration", rows[2]) == 24.0
    assert measure("amount", rows[1]) == 14.95
    assert extremes("whats the fastest shipping you have?", rows) == [False, False, True, False]
    assert extremes("quelle est la livraison la moins chère ?", rows) == [True, False, False, False]
    assert extremes("what is the most expensive option?", rows) == [False, False, True, False]
    assert extremes("how long does shipping take?", rows) == [False, False, False, False]


def test_a_sentence_that_only_points_to_another_article_is_no_answer() -> None:
    assert points_elsewhere('See "Can I change the shipping address of my order?".')
    assert points_elsewhere('If your tracking has not moved for a while, read "My parcel is late or lost".')
    assert points_elsewhere("Voir « Comment retourner un article ? ».")
    assert not points_elsewhere(
        'Order still pending: change the item (see "Can I change the items in my order?").'
    )


def test_is_there_asks_whether_something_exists_and_what_it_is() -> None:
    assert "existence" in asks_for("is there a warranty on the desk lamp")
    assert "existence" in asks_for("Y a-t-il une garantie ?")
    assert "existence" not in asks_for("how long is the warranty?")
    assert fits("existence", "Every product we sell has a 2-year warranty against manufacturing defects.")
    assert not fits("existence", "This warranty is in addition to your statutory rights.")


def test_how_do_i_also_asks_when_it_is_possible_and_what_happens() -> None:
    kinds = asks_for("comment je retourne un article svp")
    assert {"procedure", "outcome", "precondition"} <= set(kinds)
    assert fits("outcome", "Le statut de la commande devient alors retour demandé (return requested).")
    assert fits("precondition", "You can return items from any order whose status is delivered.")
    assert not fits("outcome", "Return shipping is free.")
    assert "outcome" not in asks_for("how long do refunds take?")
