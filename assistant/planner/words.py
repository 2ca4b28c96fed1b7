"""The words of a question and of a passage, as the answerability check and the sentence choice compare them.

Folded (lower case, no accents), stopwords and chat filler dropped, cut to their Snowball stem in the text's
own language ("returns", "returned" -> "return"; "remboursements" -> "rembours"), so "can I return it?" and
"You can return items..." share "return". Typos are forgiven where a word is long enough to be recognised
("retrun" -> "return", "hikking" -> "hiking"): one edit for 5+ letters, two for 9+. The word lists are
package data (`assistant/planner/answer_words.yaml`, with the stopwords of `knowledge/lexicons/`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from knowledge.language import SUPPORTED_LANGUAGES, fold, stopwords
from knowledge.lexical import snowball_stemmer, synonym_groups

_WORD_RE = re.compile(r"[a-z0-9]+")


@cache
def lexicon() -> dict[str, Any]:
    """answer_words.yaml: filler words, question cues and the small en/fr/nl glossary."""
    text = resources.files("assistant.planner").joinpath("answer_words.yaml").read_text("utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


@cache
def ignored_words() -> frozenset[str]:
    """Stopwords and chat filler of all three languages: a customer mixes them ("hoi, can I...")."""
    filler = lexicon()["filler"]
    words = set().union(*(stopwords(lang) for lang in SUPPORTED_LANGUAGES))
    words |= {fold(w) for lang in SUPPORTED_LANGUAGES for w in filler.get(lang, [])}
    return frozenset(words)


@lru_cache(maxsize=100_000)
def stem(word: str, language: str) -> str:
    """The Snowball stem of a folded word in `language` (numbers and short words stay as they are)."""
    if len(word) < 4 or word.isdigit():
        return word
    return str(snowball_stemmer(language).stemWord(word))


def folded_words(text: str) -> list[str]:
    """Folded words; French elisions ("l'étiquette") and hyphens split."""
    return _WORD_RE.findall(fold(text))


def content_words(text: str) -> list[str]:
    """The words that carry meaning: not a stopword or filler of en/fr/nl, 3+ letters, not a bare number."""
    ignored = ignored_words()
    seen: dict[str, None] = {}
    for word in folded_words(text):
        if len(word) >= 3 and not word.isdigit() and word not in ignored:
            seen.setdefault(word)
    return list(seen)


def stems(text: str, language: str) -> set[str]:
    """Stems of the content words (each word also under its glossary translations' stems)."""
    return {stem(w, language) for w in content_words(text)}


@cache
def glossary() -> dict[str, frozenset[str]]:
    """Shop words across languages: folded word -> the folded words that mean the same in en/fr/nl."""
    # The glossary of answer_words.yaml, and the retrieval's synonyms (knowledge/lexicons/synonyms.txt: "amex"
    # is mentioned by a passage that says "American Express"); a phrase of several words is mentioned
    # when all its words are.
    groups: list[list[str]] = lexicon().get("glossary", []) + [list(g) for g in synonym_groups()]
    table: dict[str, set[str]] = {}
    for group in groups:
        folded = {fold(w) for w in group}
        for word in folded:
            table.setdefault(word, set()).update(folded - {word})
    return {word: frozenset(others) for word, others in table.items()}


@lru_cache(maxsize=8)
def glossary_by_stem(language: str) -> dict[str, frozenset[str]]:
    """The glossary keyed by each word's stem in `language`, so another form of a listed word finds its
    translations too ("ouverts" -> "ouvert" -> "open")."""
    table: dict[str, set[str]] = {}
    for word, others in glossary().items():
        table.setdefault(stem(word, language), set()).update(others | {word})
    return {key: frozenset(words) for key, words in table.items()}


def translations(word: str, language: str) -> frozenset[str]:
    """The glossary's words that mean the same as `word` (found by the word itself or by its stem)."""
    by_stem = glossary_by_stem(language).get(stem(word, language), frozenset())
    return glossary().get(word, frozenset()) | by_stem


def within_edits(a: str, b: str, limit: int) -> bool:
    """Damerau-Levenshtein distance (adjacent swaps count once) of a and b is at most `limit`."""
    if abs(len(a) - len(b)) > limit:
        return False
    if a == b:
        return True
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


def typo_limit(word: str) -> int:
    return 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0


class PassageWords:
    """The words of some passages, for asking "does the passage mention this word of the question?"."""

    def __init__(self, texts: Iterable[tuple[str, str]]) -> None:
        """`texts`: (text, language) pairs; each passage is stemmed in its own language."""
        self.words: set[str] = set()
        self.stems: set[str] = set()
        for text, language in texts:
            found = [w for w in folded_words(text) if len(w) >= 3]
            self.words.update(found)
            self.stems.update(stem(w, language) for w in found)

    def _has(self, term: str) -> bool:
        """A glossary word or phrase (all of its words) is in the passages, as it is or by its stem."""
        return all(
            w in self.words or any(stem(w, lang) in self.stems for lang in SUPPORTED_LANGUAGES)
            for w in folded_words(term)
        )

    def mentions(self, word: str, language: str) -> bool:
        """The folded question word, its stem, a glossary translation, or a near spelling (a typo)."""
        if word in self.words or stem(word, language) in self.stems:
            return True
        if any(self._has(t) for t in translations(word, language)):
            return True
        limit = typo_limit(word)
        if limit == 0:
            return False
        return any(
            within_edits(word, candidate, limit) for candidate in self.words if candidate[0] == word[0]
        )


_MARKER_RE = re.compile(r"\s?\[\d{1,2}\]")


@lru_cache(maxsize=4096)
def _trigrams(text: str) -> tuple[dict[str, int], float]:
    """The text's character trigram counts and their norm (cached: the loop check compares every reply
    with the canned replies of three languages and with everything the bot said, on every turn)."""
    normal = " ".join(folded_words(_MARKER_RE.sub("", text)))
    counts: dict[str, int] = {}
    for i in range(len(normal) - 2):
        counts[normal[i : i + 3]] = counts.get(normal[i : i + 3], 0) + 1
    return counts, sum(c * c for c in counts.values()) ** 0.5


def near_identical(a: str, b: str, threshold: float = 0.9) -> bool:
    """The same reply, give or take citation markers, case, punctuation and a few words."""
    (ta, norm_a), (tb, norm_b) = _trigrams(a), _trigrams(b)
    if not ta or not tb:
        return False
    if len(ta) > len(tb):
        ta, tb = tb, ta
    dot = sum(count * tb.get(gram, 0) for gram, count in ta.items())
    return dot / (norm_a * norm_b) >= threshold
