"""Do the retrieved passages answer the question? Decided before any answer is composed from them.

Similar words are not enough: "can you gift wrap my order?" retrieves passages about gift cards and
packaging, close in meaning, that never mention wrapping. The things the question is about must be in
the passages. Four signals, combined by a logistic model whose weights and threshold are fitted on the
dev split of the evaluation's questions (`parley eval calibrate`, written to answerability.yaml):

- `score`: the best hit's cosine similarity to the question (the index's calibrated relevance);
- `sentence`: the best similarity between the question and one sentence of the top passages;
- `title`: the best similarity between the question and a top article's title (help-centre titles are
  the questions they answer);
- `coverage`: the share of the question's content words (stopwords and filler removed, Snowball-stemmed,
  typos and en/fr/nl glossary translations forgiven) that one passage mentions: the best of the top
  passages, not their union. A passage that answers holds the question's words together; words scattered
  over three loosely related passages ("lantern" in one, "charge" in another) are what a question with no
  answer retrieves.

The intent decides what a "no" means, not whether it is one: an action request from a stranger that the
help centre cannot answer goes to sign-in, a question goes to an honest refusal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from assistant.planner.intents import Encoder
from assistant.planner.words import PassageWords, content_words, folded_words

TOP_PASSAGES = 3
FEATURES = ("score", "sentence", "title", "coverage")


@dataclass(frozen=True)
class Evidence:
    score: float
    sentence: float
    title: float
    coverage: float
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
    """The four signals for `question` against the top hits; `sentences` are the top passages' sentences
    (the answer's candidates, so their vectors come from the encoder's cache), `ignored` are words that
    say nothing about the topic here (the shop's own name)."""
    top = list(hits[:TOP_PASSAGES])
    if not top:
        return Evidence(0.0, 0.0, 0.0, 0.0)
    words = [w for w in content_words(question) if w not in ignored]
    coverage, missing = passage_coverage(words, language, top)
    titles = [str(h.get("title") or "") for h in top]
    vectors = encode([question, *titles, *sentences])
    similarities = vectors[1:] @ vectors[0]
    title = float(similarities[: len(titles)].max())
    sentence = float(similarities[len(titles) :].max()) if sentences else 0.0
    score = max(float(h.get("score", 0.0)) for h in hits)
    return Evidence(round(score, 4), round(sentence, 4), round(title, 4), round(coverage, 4), missing)


def passage_coverage(
    words: Sequence[str], language: str, hits: Sequence[dict[str, Any]]
) -> tuple[float, tuple[str, ...]]:
    """The best share of `words` that a single hit (title and text) mentions, and the words that no hit
    mentions. No words: nothing to miss (1.0)."""
    if not words:
        return 1.0, ()
    passages = [PassageWords([(f"{h.get('title', '')}\n{h.get('text', '')}", hit_language(h))]) for h in hits]
    mentioned = [{w for w in words if p.mentions(w, language)} for p in passages]
    best = max((len(found) for found in mentioned), default=0)
    missing = tuple(w for w in words if not any(w in found for found in mentioned))
    return best / len(words), missing


def name_words(name: str) -> frozenset[str]:
    """The words of the shop's name ("Maple & Moss" is in every passage: it says nothing about the topic)."""
    return frozenset(folded_words(name))
