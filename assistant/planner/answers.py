"""Answers from the help centre: the retrieved sentences closest to the question, each with its citation.

Extractive on purpose: every sentence of an offline answer is a sentence of a cited passage, so nothing is
invented. Below the relevance threshold the planner says it does not know and offers a person.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import numpy as np

from assistant.planner.kit import PlannerKit
from assistant.planner.state import DialogueState, Step
from assistant.records import Citation
from assistant.tools.outcomes import ToolOutcome
from knowledge.language import SUPPORTED_LANGUAGES, detect_language, fold, stopwords

OVERLAP_WEIGHT = 0.3  # tried 0.3 and 0.5 on the sample-shop questions: 0.651 vs 0.634 fact recall
_ASKS_FOR_A_NUMBER_RE = re.compile(
    r"\b(how long|how much|how many|how soon|when|what time|which day|combien|quand|hoe lang|hoeveel|"
    r"wanneer|hoe laat)\b",
    re.I,
)
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý0-9\"'(])")
_MARKDOWN_RE = re.compile(r"(^|\n)#+\s*|\*\*|__|`")


def hits_of(outcome: ToolOutcome) -> list[dict[str, Any]]:
    result = outcome.result if outcome.ok else None
    return result.get("hits", []) if isinstance(result, dict) else []


def answer_from_hits(kit: PlannerKit, state: DialogueState, outcome: ToolOutcome) -> Step:
    """An extractive answer: the retrieved sentences closest to the question, each with its source."""
    hits = hits_of(outcome)
    # Citation numbers are positions in the search result, so they can be checked against it.
    relevant = [(i, h) for i, h in enumerate(hits) if float(h.get("score", 0.0)) >= kit.min_answer_score]
    if not relevant:
        return kit.say(state, "dont_know", failed=True)
    query = str(outcome.args.get("query", state.latest_text))
    candidates: list[tuple[int, str]] = []
    for rank, (_, hit) in enumerate(relevant[:3]):
        for sentence in sentences(str(hit.get("text", ""))):
            candidates.append((rank, sentence))
    if not candidates:
        return kit.say(state, "dont_know", failed=True)
    vectors = kit.encode([query] + [s for _, s in candidates])
    similarity = vectors[1:] @ vectors[0]
    # Favour the best-ranked article slightly: its context is the most likely answer.
    bonus = np.array([0.05 if hit_index == 0 else 0.0 for hit_index, _ in candidates])
    # MiniLM is an English model: in French and Dutch its similarities are weak, so the words the
    # customer used count too (shared content-word stems).
    asked = content_stems(query)
    if asked:
        overlap = np.array([len(asked & content_stems(sentence)) / len(asked) for _, sentence in candidates])
        bonus += OVERLAP_WEIGHT * overlap
    if _ASKS_FOR_A_NUMBER_RE.search(query):
        # "How long / how much / when": the sentence with the number is the answer, not its preamble.
        bonus += np.array([0.05 if re.search(r"\d", sentence) else 0.0 for _, sentence in candidates])
    order = np.argsort(-(similarity + bonus))
    chosen: list[int] = []
    for index in order[:8]:
        if len(chosen) == 3 or (similarity[index] < 0.25 and chosen):
            break
        # Help centres repeat themselves; one sentence per fact is enough.
        if any(float(vectors[1 + index] @ vectors[1 + other]) > 0.8 for other in chosen):
            continue
        chosen.append(int(index))
    # The closest sentence answers first; the rest follow in reading order, as each source wrote them.
    chosen = chosen[:1] + sorted(chosen[1:], key=lambda i: (candidates[i][0], i))
    citations: list[dict[str, Any]] = []
    lines = []
    for index in chosen:
        rank, sentence = candidates[index]
        position, hit = relevant[rank]
        ref = position + 1
        if all(c["ref"] != ref for c in citations):
            citations.append(Citation.from_hit(ref, hit).model_dump())
        lines.append(f"{sentence} [{ref}]")
    return Step(text=" ".join(lines), citations=citations)


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


@cache
def _common_words() -> frozenset[str]:
    return frozenset().union(*(stopwords(lang) for lang in SUPPORTED_LANGUAGES))


def content_stems(text: str) -> set[str]:
    """Words that carry meaning (4+ letters, not a stopword of en/fr/nl), cut to 5 letters as a crude stem."""
    common = _common_words()
    return {w[:5] for w in re.findall(r"[a-z0-9]+", fold(text.lower())) if len(w) >= 4 and w not in common}


def sentences(text: str) -> list[str]:
    cleaned = _MARKDOWN_RE.sub(r"\1", text)
    found: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n(?=[-*] )|\n", cleaned):
        paragraph = paragraph.strip(" -*\t")
        if len(paragraph) < 3:
            continue
        for sentence in _SENTENCE_RE.split(paragraph):
            sentence = sentence.strip()
            if 15 <= len(sentence) <= 400:
                found.append(sentence)
    return found
