"""Do the retrieved passages answer the question? Decided before any answer is composed from them.

Similar words are not enough: "can you gift wrap my order?" retrieves passages about gift cards and
packaging, close in meaning, that never mention wrapping. The things the question is about must be in
the passages. Five signals, combined by a logistic model whose weights and threshold are fitted on the
dev split of the evaluation's questions (`parley eval calibrate`, written to answerability.yaml):

- `score`: the best hit's cosine similarity to the question (the index's calibrated relevance);
- `sentence`: the best similarity between the question and one sentence of the top passages;
- `title`: the best similarity between the question and a top article's title (help-centre titles are
  the questions they answer);
- `coverage`: the share of the question's content words (stopwords and filler removed, Snowball-stemmed,
  typos and en/fr/nl glossary translations forgiven) that one passage mentions: the best of the top
  passages, not their union. A passage that answers holds the question's words together; words scattered
  over three loosely related passages ("lantern" in one, "charge" in another) are what a question with no
  answer retrieves;
- `focus`: whether that same passage holds what a "can I / do you / puis-je / kunnen jullie" question asks
  to do or have (1 when the question has no such word). The missing word of a question without an answer
  is most often this one ("can I *rent* the tent", "can I *reserve* the jacket", "als cadeau *inpakken*"),
  while the words an answerable question's passage lacks are mostly its context ("i live in toronto").

The intent decides what a "no" means, not whether it is one: an action request from a stranger that the
help centre cannot answer goes to sign-in, a question goes to an honest refusal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from assistant.planner.intents import Encoder
from assistant.planner.words import PassageWords, content_words, folded_words, lexicon
from knowledge.language import fold

TOP_PASSAGES = 3
FEATURES = ("score", "sentence", "title", "coverage", "focus")


@dataclass(frozen=True)
class Evidence:
    score: float
    sentence: float
    title: float
    coverage: float
    focus: float = 1.0
    missing: tuple[str, ...] = ()  # the question's words no passage mentions (for the trace and the report)

    def vector(self) -> list[float]:
        return [float(getattr(self, name)) for name in FEATURES]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"missing": list(self.missing)}


@dataclass(frozen=True)
class AnswerabilityModel:
    """p(answerable) = sigmoid(bias + weights . features); answer when p >= threshold."""

    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, evidence: Evidence) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, evidence.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def answerable(self, evidence: Evidence) -> bool:
        return self.probability(evidence) >= self.threshold


@cache
def fitted_model() -> AnswerabilityModel:
    """The model fitted on the dev split (answerability.yaml, package data)."""
    text = resources.files("assistant.planner").joinpath("answerability.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    weights = tuple(float(data["weights"][name]) for name in FEATURES)
    return AnswerabilityModel(weights, float(data["bias"]), float(data["threshold"]))


def hit_language(hit: dict[str, Any]) -> str:
    return str(hit.get("locale") or "en").split("-")[0] or "en"


def gather_evidence(
    question: str,
    language: str,
    hits: Sequence[dict[str, Any]],
    encode: Encoder,
    sentences: Sequence[str],
    ignored: frozenset[str] = frozenset(),
) -> Evidence:
    """The five signals for `question` against the top hits; `sentences` are the top passages' sentences
    (the answer's candidates, so their vectors come from the encoder's cache), `ignored` are words that
    say nothing about the topic here (the shop's own name)."""
    top = list(hits[:TOP_PASSAGES])
    if not top:
        return Evidence(0.0, 0.0, 0.0, 0.0)
    words = [w for w in content_words(question) if w not in ignored]
    coverage, missing, best = best_passage(words, language, top)
    asked = focus_word(question, ignored)
    focus = 1.0 if asked is None or best is None else float(best.mentions(asked, language))
    titles = [str(h.get("title") or "") for h in top]
    vectors = encode([question, *titles, *sentences])
    similarities = vectors[1:] @ vectors[0]
    title = float(similarities[: len(titles)].max())
    sentence = float(similarities[len(titles) :].max()) if sentences else 0.0
    score = max(float(h.get("score", 0.0)) for h in hits)
    return Evidence(round(score, 4), round(sentence, 4), round(title, 4), round(coverage, 4), focus, missing)


def passage_coverage(
    words: Sequence[str], language: str, hits: Sequence[dict[str, Any]]
) -> tuple[float, tuple[str, ...]]:
    """The best share of `words` that a single hit (title and text) mentions, and the words that no hit
    mentions. No words: nothing to miss (1.0)."""
    coverage, missing, _ = best_passage(words, language, hits)
    return coverage, missing


def best_passage(
    words: Sequence[str], language: str, hits: Sequence[dict[str, Any]]
) -> tuple[float, tuple[str, ...], PassageWords | None]:
    """The best share of `words` that a single hit (title and text) mentions, the words that no hit
    mentions, and that best passage (the first of equals). No words: nothing to miss (1.0)."""
    passages = [PassageWords([(f"{h.get('title', '')}\n{h.get('text', '')}", hit_language(h))]) for h in hits]
    if not words:
        return 1.0, (), passages[0] if passages else None
    mentioned = [{w for w in words if p.mentions(w, language)} for p in passages]
    counts = [len(found) for found in mentioned]
    best = max(range(len(passages)), key=lambda i: counts[i]) if passages else None
    missing = tuple(w for w in words if not any(w in found for found in mentioned))
    return (
        (counts[best] if best is not None else 0) / len(words),
        missing,
        (passages[best] if best is not None else None),
    )


@cache
def _focus_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    patterns = lexicon()["focus"]
    return re.compile(str(patterns["ask"])), re.compile(str(patterns["verb_last"]))


def focus_word(question: str, ignored: frozenset[str] = frozenset()) -> str | None:
    """What a "can I / do you / puis-je / kunnen jullie" question asks to do or have: the first content
    word after the modal and its subject, the last one in a Dutch question (its verb); None otherwise."""
    ask, verb_last = _focus_patterns()
    folded = fold(question)
    dutch = verb_last.search(folded)
    if dutch:
        words = [w for w in content_words(dutch.group(1)) if w not in ignored]
        return words[-1] if words else None
    found = ask.search(folded)
    if found is None:
        return None
    rest = found.group(1) if found.group(1) is not None else found.group(2) or ""
    words = [w for w in content_words(rest) if w not in ignored]
    return words[0] if words else None


def name_words(name: str) -> frozenset[str]:
    """The words of the shop's name ("Maple & Moss" is in every passage: it says nothing about the topic)."""
    return frozenset(folded_words(name))
