"""Answers from the help centre: decide whether the passages answer, then quote the sentences that do.

Extractive on purpose: every sentence of an offline answer is a sentence of a cited passage, so nothing is
invented. First the answerability check (answerability.py): when the passages do not mention what the
question is about, the planner says so, says what it can help with and offers a person. Otherwise at most
three sentences, chosen by what the question asks (how long -> a duration, how much -> an amount, can I ->
the rule with its condition), the closest first, each source's citation once after its sentences.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np

from assistant.planner import answerability
from assistant.planner.kit import PlannerKit
from assistant.planner.sentences import is_table_row, sentences
from assistant.planner.state import DialogueState, Step
from assistant.planner.words import content_words, lexicon, stem, stems, translations
from assistant.records import Citation
from assistant.tools.outcomes import ToolOutcome
from knowledge.language import SUPPORTED_LANGUAGES, detect_language, fold

OVERLAP_WEIGHT = 0.3  # tried 0.3 and 0.5 on the sample-shop questions: 0.651 vs 0.634 fact recall
CUE_BONUS = 0.15  # a sentence with what the question asks for (a duration, an amount, a rule)
LEADING_CUE_BONUS = 0.3  # "how much ...?", "combien de temps ...?": the quantity is the answer
QUANTITIES = ("duration", "amount", "time")
EXTREME_BONUS = 0.3  # "fastest", "cheapest": the table row that holds the extreme value
MAX_SENTENCES = 3
MIN_EXTRA_SIMILARITY = 0.25  # a second or third sentence must still be about the question
SAME_FACT = 0.8
RANK_BONUS = {
    0: 0.05,
    1: 0.02,
    2: 0.0,
}  # passages further down: -0.05  # help centres repeat themselves: one sentence per fact


@cache
def _cues() -> dict[str, tuple[re.Pattern[str], re.Pattern[str]]]:
    asks: dict[str, dict[str, str]] = lexicon()["asks"]
    return {kind: (re.compile(p["question"]), re.compile(p["answer"])) for kind, p in asks.items()}


@cache
def _condition_re() -> re.Pattern[str]:
    return re.compile(str(lexicon()["conditions"]))


@cache
def _opens_with_question_word() -> re.Pattern[str]:
    return re.compile(str(lexicon()["opens_with_question_word"]))


def asks_for(question: str) -> list[str]:
    """What the question asks for: duration, amount, time, permission, place (any that apply)."""
    folded = fold(question)
    kinds = [kind for kind, (asked, _) in _cues().items() if asked.search(folded)]
    if "permission" in kinds and _opens_with_question_word().search(folded):
        # "how much can I put on a gift card?" asks for an amount, "hoe kan ik...?" for the way.
        kinds.remove("permission")
    return kinds


_DURATION_UNITS = {"hour": 1, "heure": 1, "uur": 1, "day": 24, "jour": 24, "dag": 24, "werkdag": 24}
_DURATION_UNITS |= {"week": 168, "semaine": 168, "wek": 168}
_MEASURES = {
    "duration": re.compile(
        r"\b(?:(same day|jour meme|dezelfde dag|immediat\w*|right away|meteen)"
        r"|(next (?:business )?day|jour ouvre suivant|volgende werkdag|lendemain)"
        r"|(\d+)(?: ?(?:to|-|a|tot|or|ou|of) ?\d+)? (?:business |working )?"
        r"(hour|heure|uur|day|jour|werkdag|dag|week|semaine|wek)(?:s|en|e)?)\b"
    ),
    "amount": re.compile(
        r"[$€£] ?(\d+(?:[.,]\d+)?)|\b(\d+(?:[.,]\d+)?) ?(?:€|eur\b|euros?\b|usd\b|dollars?\b)"
    ),
}


def measure(kind: str, sentence: str) -> float | None:
    """The first duration (in hours) or amount the sentence states; None when it states none."""
    found = _MEASURES[kind].search(fold(sentence))
    if found is None:
        return None
    if kind == "amount":
        return float((found.group(1) or found.group(2)).replace(",", "."))
    if found.group(1):
        return 0.0
    if found.group(2):
        return 24.0
    return float(found.group(3)) * _DURATION_UNITS[found.group(4)]


def extremes(question: str, sentences_: list[str]) -> list[bool]:
    """For "fastest / cheapest / le plus rapide / goedkoopste": the table rows holding the extreme value."""
    folded = fold(question)
    marked = [False] * len(sentences_)
    for rule in lexicon().get("extremes", []):
        if not re.search(rule["question"], folded):
            continue
        values = {i: measure(rule["measure"], s) for i, s in enumerate(sentences_) if is_table_row(s)}
        known = {i: v for i, v in values.items() if v is not None}
        if len(known) < 2:
            continue  # nothing to compare
        best = (min if rule["pick"] == "min" else max)(known.values())
        marked = [m or known.get(i) == best for i, m in enumerate(marked)]
    return marked


# A sentence that only sends the reader to another article ('See "How do I return an item?".', 'If your
# tracking has not moved, read "My parcel is late or lost".') says nothing itself: never an answer.
_POINTER_RE = re.compile(
    r"(^|, )(see|read|voir|lisez|consultez|zie|lees)\s+[\"«“][^\"»”]+[\"»”]"
    r"\s*(for details|pour en savoir plus)?\W*$"
)


def points_elsewhere(sentence: str) -> bool:
    """The sentence only points to another article."""
    return bool(_POINTER_RE.search(fold(sentence)))


def overlap(query: str, sentence_stems: set[str], language: str) -> float:
    """The share of the question's content words the sentence says: same stem, or a glossary translation's
    stem ("terugsturen" -> "retourneren", "annuleren" -> "geannuleerd")."""
    words = content_words(query)
    if not words:
        return 0.0
    said = 0
    for word in words:
        keys = {stem(word, language)} | {
            stem(t, language) for t in translations(word, language) if " " not in t
        }
        said += bool(keys & sentence_stems)
    return said / len(words)


def fits(kind: str, sentence: str) -> bool:
    """The sentence holds what a question of this kind asks for (a rule also needs its condition)."""
    folded = fold(sentence)
    if kind == "permission":
        return bool(_cues()[kind][1].search(folded) and _condition_re().search(folded))
    return bool(_cues()[kind][1].search(folded))


def hits_of(outcome: ToolOutcome) -> list[dict[str, Any]]:
    result = outcome.result if outcome.ok else None
    return result.get("hits", []) if isinstance(result, dict) else []


def candidates(hits: list[dict[str, Any]], top: int = answerability.TOP_PASSAGES) -> list[tuple[int, str]]:
    """(position of the hit in the search result, sentence) for the top passages."""
    return [
        (position, sentence)
        for position, hit in enumerate(hits[:top])
        for sentence in sentences(str(hit.get("text", "")))
    ]


def refusal(kit: PlannerKit, state: DialogueState, evidence: answerability.Evidence | None = None) -> Step:
    """Not in the help centre: say so, say what we can help with, and offer a person (not to an agent)."""
    key = "dont_know_copilot" if state.copilot else "dont_know"
    step = kit.say(state, key, failed=True)
    step.evidence = evidence.as_dict() if evidence is not None else None
    return step


def answer_from_hits(kit: PlannerKit, state: DialogueState, outcome: ToolOutcome) -> Step:
    """The sentences of the retrieved passages that answer the question, each source cited once."""
    hits = hits_of(outcome)
    query = str(outcome.args.get("query", state.latest_text))
    top = candidates(hits)
    if not hits or not top:
        return refusal(kit, state)
    language = detect_language(query, default=state.language)
    evidence = answerability.gather_evidence(
        query, language, hits, kit.encode, [s for _, s in top], ignored=kit.name_words
    )
    if not kit.answerability.answerable(evidence):
        return refusal(kit, state, evidence)
    # The answer may quote every hit (a table further down the list often holds the fact).
    found = [(p, s) for p, s in candidates(hits, top=len(hits)) if not points_elsewhere(s)]
    if not found:
        return refusal(kit, state, evidence)
    vectors = kit.encode([query] + [s for _, s in found])
    similarity = vectors[1:] @ vectors[0]
    # Favour the best-ranked passages slightly: their context is the most likely answer.
    bonus = np.array([RANK_BONUS.get(position, -0.05) for position, _ in found])
    # MiniLM is an English model: in French and Dutch its similarities are weak, so the words the
    # customer used count too (shared content-word stems, or a glossary translation's stem).
    bonus += OVERLAP_WEIGHT * np.array([overlap(query, stems(s, language), language) for _, s in found])
    opens = bool(_opens_with_question_word().search(fold(query)))
    for kind in asks_for(query):
        weight = LEADING_CUE_BONUS if opens and kind in QUANTITIES else CUE_BONUS
        bonus += np.array([weight if fits(kind, s) else 0.0 for _, s in found])
    bonus += EXTREME_BONUS * np.array(extremes(query, [s for _, s in found]), dtype=float)
    order = np.argsort(-(similarity + bonus))
    chosen: list[int] = []
    for index in order[:8]:
        if len(chosen) == MAX_SENTENCES or (similarity[index] < MIN_EXTRA_SIMILARITY and chosen):
            break
        if any(float(vectors[1 + index] @ vectors[1 + other]) > SAME_FACT for other in chosen):
            continue
        chosen.append(int(index))
    # The closest sentence answers first; the rest follow in reading order, as each source wrote them.
    chosen = chosen[:1] + sorted(chosen[1:], key=lambda i: (found[i][0], i))
    return _cited(chosen, found, hits, evidence)


def _cited(
    chosen: list[int], found: list[tuple[int, str]], hits: list[dict[str, Any]], evidence: Any
) -> Step:
    """The chosen sentences with each source's [n] once, after its last sentence in a row."""
    citations: list[dict[str, Any]] = []
    parts: list[str] = []
    for number, index in enumerate(chosen):
        position, sentence = found[index]
        ref = position + 1
        if all(c["ref"] != ref for c in citations):
            citations.append(Citation.from_hit(ref, hits[position]).model_dump())
        following = found[chosen[number + 1]][0] + 1 if number + 1 < len(chosen) else None
        parts.append(sentence if following == ref else f"{sentence} [{ref}]")
    step = Step(text=" ".join(parts), citations=citations)
    step.evidence = evidence.as_dict() if evidence is not None else None
    return step


def answer_then_offer(kit: PlannerKit, state: DialogueState, outcome: ToolOutcome) -> Step | None:
    """The help centre's answer, then how to get it done on their own order; None when nothing answers."""
    answer = answer_from_hits(kit, state, outcome)
    if answer.failed:
        return None
    language = state.language
    if not detect_language(state.latest_text, default=""):
        # No word told us the language ("kost retourneren geld?"): follow the passages we quoted.
        hits = hits_of(outcome)
        cited = [hits[c["ref"] - 1] for c in answer.citations if 0 < c["ref"] <= len(hits)]
        locales = {str(h.get("locale") or "").split("-")[0] for h in cited}
        if len(locales) == 1 and (only := locales.pop()) in SUPPORTED_LANGUAGES:
            language = only
    answer.text = f"{answer.text} {kit.replies('offer_auth', language)}"
    return answer
