"""The guard's detectors: pure functions from a message (and its history) to scores.

Every detector is deterministic and cheap (regular expressions and word lists, VADER for English
sentiment); only the repeat detector needs vectors, and it takes them as an argument. What they match is
package data in `assistant/guard/lexicons/`: word lists (sentiment, markers, profanity), the sentiment
modifiers (negations, boosters) and the request / threat / complaint regular expressions (`patterns.yaml`),
each read and compiled once, on first use.

All text matching runs on `fold(text)`: lower case, accents removed, curly apostrophes straightened, so
"Je veux parler à quelqu'un" and "je veux parler a quelqu’un" are the same string.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

from knowledge.language import (
    LANGUAGES,
    MAX_ANALYSED_CHARS,
    data_lines,
    fold,
    tokens,
)

# --------------------------------------------------------------------------------------------------
# Lexicon loading (package data)
# --------------------------------------------------------------------------------------------------


LEXICONS = "assistant.guard.lexicons"


def _data_lines(name: str) -> list[list[str]]:
    return data_lines(LEXICONS, name)


@cache
def _yaml_data(name: str) -> dict[str, Any]:
    data = yaml.safe_load(resources.files(LEXICONS).joinpath(name).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{LEXICONS}/{name}: expected a mapping at the top level")
    return data


@dataclass(frozen=True)
class WordScores:
    """Exact words and prefixes (entries ending in `*`) with a score."""

    exact: dict[str, float]
    prefixes: tuple[tuple[str, float], ...]  # longest first

    def lookup(self, token: str) -> float | None:
        if token in self.exact:
            return self.exact[token]
        for prefix, score in self.prefixes:
            if token.startswith(prefix):
                return score
        return None


def _word_scores(rows: list[list[str]]) -> WordScores:
    exact: dict[str, float] = {}
    prefixes: list[tuple[str, float]] = []
    for row in rows:
        word, score = fold(row[0]), float(row[1])
        if word.endswith("*"):
            prefixes.append((word[:-1], score))
        else:
            exact[word] = score
    prefixes.sort(key=lambda p: -len(p[0]))
    return WordScores(exact, tuple(prefixes))


@cache
def sentiment_lexicon(language: str) -> WordScores:
    return _word_scores(_data_lines(f"sentiment_{language}.txt"))


@cache
def english_corrections() -> dict[str, float]:
    return {fold(row[0]): float(row[1]) for row in _data_lines("sentiment_en_extra.txt")}


@cache
def markers(language: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(kind, pattern) pairs: frustration and sarcasm phrases matched on word boundaries."""
    out = []
    for row in _data_lines(f"markers_{language}.txt"):
        kind, phrase = row[0], fold(row[1])
        out.append((kind, re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)")))
    return tuple(out)


@dataclass(frozen=True)
class ProfanityEntry:
    pattern: re.Pattern[str]
    weight: float
    language: str
    strict: bool  # counts only when the message is in this list's language


@cache
def profanity_entries() -> tuple[ProfanityEntry, ...]:
    entries = []
    for language in LANGUAGES:
        for row in _data_lines(f"profanity_{language}.txt"):
            word = fold(row[0])
            weight = float(row[1])
            strict = len(row) > 2 and row[2] == "strict"
            body = re.escape(word[:-1]) + r"\w*" if word.endswith("*") else re.escape(word)
            pattern = re.compile(r"(?<!\w)" + body + r"(?!\w)")
            entries.append(ProfanityEntry(pattern, weight, language, strict))
    return tuple(entries)


@cache
def handover_templates() -> dict[str, dict[str, str]]:
    text = resources.files(LEXICONS).joinpath("handover.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, str]] = json.loads(text)
    return data


# --------------------------------------------------------------------------------------------------
# Sentiment
# --------------------------------------------------------------------------------------------------


@cache
def sentiment_modifiers(kind: str, language: str) -> frozenset[str]:
    """The folded `negations` or `boosters` of a language (lexicons/sentiment_modifiers.yaml)."""
    words = _yaml_data("sentiment_modifiers.yaml")[kind].get(language, ())
    return frozenset(fold(str(word)) for word in words)


_VADER_NEGATION_SCALAR = -0.74  # VADER's own factors, so scores of all three languages are comparable
_VADER_BOOST = 0.293
_VADER_ALPHA = 15.0


@lru_cache(maxsize=1)
def _vader() -> object:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(english_corrections())  # this instance only; VADER's module stays untouched
    return analyzer


def vader_compound(text: str) -> float:
    analyzer = _vader()
    scores: dict[str, float] = analyzer.polarity_scores(text)  # type: ignore[attr-defined]
    return float(scores["compound"])


def _normalise(total: float) -> float:
    return total / math.sqrt(total * total + _VADER_ALPHA)


def lexicon_compound(text: str, language: str) -> float:
    """VADER-like compound score in [-1, 1] for French or Dutch from the small package lexicons."""
    lexicon = sentiment_lexicon(language)
    negations = sentiment_modifiers("negations", language)
    boosters = sentiment_modifiers("boosters", language)
    total = 0.0
    # Negation stops at punctuation: in "pas de problème, merci" the "pas" does not reach "merci".
    for clause in re.split(r"[,.;:!?]+", fold(text)):
        total += _clause_score(tokens(clause), language, lexicon, negations, boosters)
    if total:
        total += math.copysign(0.292 * min(text.count("!"), 4), total)
    return _normalise(total) if total else 0.0


def _clause_score(
    toks: list[str], language: str, lexicon: WordScores, negations: frozenset[str], boosters: frozenset[str]
) -> float:
    total = 0.0
    for i, tok in enumerate(toks):
        value = lexicon.lookup(tok)
        if value is None:
            continue
        if i > 0 and toks[i - 1] in boosters:
            value += math.copysign(_VADER_BOOST, value)
        window = toks[max(0, i - 3) : i]
        negated = any(t in negations for t in window)
        # French "ne ... plus" negates ("je ne suis plus content"); a bare "plus" means "more".
        if language == "fr" and "plus" in window and ("ne" in window or "n" in window):
            negated = True
        if negated:
            value *= _VADER_NEGATION_SCALAR
        total += value
    return total


@dataclass(frozen=True)
class SentimentResult:
    compound: float  # the guard's score: base adjusted by frustration and sarcasm markers
    base: float  # VADER (en) or the lexicon score (fr/nl)
    frustration_markers: int
    sarcasm_markers: int
    matched: tuple[str, ...]


_FRUSTRATION_STEP = 0.45  # each "how many times" / "toujours pas" pushes the score this much down


def sentiment(text: str, language: str) -> SentimentResult:
    text = text[:MAX_ANALYSED_CHARS]
    base = vader_compound(text) if language == "en" else lexicon_compound(text, language)
    folded = fold(text)
    frustration = sarcasm = 0
    matched: list[str] = []
    # English markers also apply to fr/nl messages: "thanks for nothing" is common in any chat.
    marker_langs = {language, "en"}
    for lang in sorted(marker_langs):
        for kind, pattern in markers(lang):
            if pattern.search(folded):
                matched.append(pattern.pattern)
                if kind == "sarcasm":
                    sarcasm += 1
                else:
                    frustration += 1
    score = base
    if sarcasm:
        # Sarcasm reads as praise to a lexicon; a sarcastic "great" is at least mildly negative, and
        # the sarcasm itself is frustration on top ("thanks for nothing" is never neutral).
        score = -max(abs(score), 0.3)
    score -= _FRUSTRATION_STEP * (frustration + sarcasm)
    score = max(-1.0, min(1.0, score))
    return SentimentResult(
        round(score, 4), round(base, 4), frustration, sarcasm, tuple(_readable(p) for p in matched)
    )


def _readable(pattern: str) -> str:
    return pattern.removeprefix(r"(?<!\w)").removesuffix(r"(?!\w)").replace("\\", "")


def trajectory(scores: Sequence[float], turns: int) -> float | None:
    """Mean compound of the last `turns` customer messages, or None while there are fewer."""
    if turns <= 0 or len(scores) < turns:
        return None
    window = scores[-turns:]
    return float(sum(window) / len(window))


# --------------------------------------------------------------------------------------------------
# Pattern detectors: explicit request, threat to leave, public/formal complaint
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatternHit:
    score: float  # 1.0 when a pattern matched, else 0.0
    matched: str  # the matched text ("" when none)

    @property
    def hit(self) -> bool:
        return self.score > 0


def _first_match(patterns: Sequence[re.Pattern[str]], folded: str) -> PatternHit:
    for pattern in patterns:
        m = pattern.search(folded)
        if m:
            return PatternHit(1.0, m.group(0).strip())
    return PatternHit(0.0, "")


_FRAGMENT = re.compile(r"\{([a-z_]+)\}")  # `{name}`; regex quantifiers ({0,40}) have digits


def _expand(pattern: str, fragments: dict[str, str]) -> str:
    return _FRAGMENT.sub(lambda m: fragments[m.group(1)], pattern)


@cache
def pattern_table(kind: str) -> dict[str, tuple[re.Pattern[str], ...]]:
    """The compiled patterns of `kind` (explicit_request, threat_to_leave, public_complaint) per language,
    from lexicons/patterns.yaml (verbose regular expressions, `{name}` standing for a fragment)."""
    data = _yaml_data("patterns.yaml")
    fragments = {name: str(text) for name, text in data.get("fragments", {}).items()}
    return {
        language: tuple(re.compile(_expand(str(p), fragments), re.VERBOSE) for p in patterns)
        for language, patterns in data[kind].items()
    }


@cache
def _masked_swear() -> re.Pattern[str]:
    return re.compile(str(_yaml_data("patterns.yaml")["masked_swear"]), re.VERBOSE)


def _all_languages_first(kind: str, folded: str, language: str) -> PatternHit:
    """Try the message's own language first, then the others: customers mix languages, and a short
    "medewerker aub" may be detected as English."""
    table = pattern_table(kind)
    order = [language] + [lang for lang in LANGUAGES if lang != language]
    for lang in order:
        found = _first_match(table.get(lang, ()), folded)
        if found.hit:
            return found
    return PatternHit(0.0, "")


def explicit_request(text: str, language: str) -> PatternHit:
    return _all_languages_first("explicit_request", fold(text[:MAX_ANALYSED_CHARS]), language)


def threat_to_leave(text: str, language: str) -> PatternHit:
    return _all_languages_first("threat_to_leave", fold(text[:MAX_ANALYSED_CHARS]), language)


def public_complaint(text: str, language: str) -> PatternHit:
    return _all_languages_first("public_complaint", fold(text[:MAX_ANALYSED_CHARS]), language)


# --------------------------------------------------------------------------------------------------
# Profanity and shouting
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfanityResult:
    score: float  # sum of weights of the swear words found
    words: tuple[str, ...]


def profanity(text: str, language: str) -> ProfanityResult:
    folded = fold(text[:MAX_ANALYSED_CHARS])
    # One weight per word position: "fuck" is in the English and the Dutch list but counts once.
    weights: dict[tuple[int, int], tuple[float, str]] = {}
    for entry in profanity_entries():
        if entry.strict and entry.language != language:
            continue
        for m in entry.pattern.finditer(folded):
            previous = weights.get(m.span())
            if previous is None or previous[0] < entry.weight:
                weights[m.span()] = (entry.weight, m.group(0))
    for m in _masked_swear().finditer(folded):  # "f***", "sh*t": the customer meant it
        weights.setdefault(m.span(), (1.0, m.group(0)))
    ordered = [weights[span] for span in sorted(weights)]
    return ProfanityResult(sum(w for w, _ in ordered), tuple(word for _, word in ordered))


@dataclass(frozen=True)
class ShoutingResult:
    upper_ratio: float  # share of upper-case letters; 0 when the message is too short to judge
    letters: int
    exclamation_run: int  # longest run of "!" (with "?" mixed in: "?!?!")


_EXCLAMATION_RUN = re.compile(r"[!?¡]*![!?¡]*")


def shouting(text: str, min_letters: int) -> ShoutingResult:
    text = text[:MAX_ANALYSED_CHARS]
    letters = [ch for ch in text if ch.isalpha()]
    cased = [ch for ch in letters if ch.isupper() or ch.islower()]  # scripts without case do not count
    upper = sum(1 for ch in cased if ch.isupper())
    ratio = upper / len(cased) if len(cased) >= min_letters else 0.0
    runs = [m.group(0).count("!") + m.group(0).count("?") for m in _EXCLAMATION_RUN.finditer(text)]
    return ShoutingResult(round(ratio, 4), len(cased), max(runs, default=0))


# --------------------------------------------------------------------------------------------------
# Loops: repeats and bot failures
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatResult:
    repeats: int  # earlier customer messages at or above the similarity threshold
    max_similarity: float


def repeated_request(vectors: np.ndarray, threshold: float) -> RepeatResult:
    """vectors[-1] is the current message, the rows before it earlier customer messages (L2-normalised)."""
    if vectors.ndim != 2 or vectors.shape[0] < 2:
        return RepeatResult(0, 0.0)
    sims = vectors[:-1] @ vectors[-1]
    return RepeatResult(int(np.sum(sims >= threshold)), float(np.max(sims)))


def bot_failures_in_a_row(bot_failed_flags: Sequence[bool]) -> int:
    """How many of the latest bot answers, counting back from the newest, said they could not help."""
    count = 0
    for failed in reversed(bot_failed_flags):
        if not failed:
            break
        count += 1
    return count


def char_ngram_vectors(texts: list[str], n: int = 3) -> np.ndarray:
    """L2-normalised hashed character-trigram counts: the repeat detector's fallback when no embedding
    model can be loaded (catches verbatim and near-verbatim repeats, not paraphrases)."""
    dim = 2048
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for row, text in enumerate(texts):
        padded = f" {' '.join(tokens(fold(text[:MAX_ANALYSED_CHARS])))} "
        for i in range(max(0, len(padded) - n + 1)):
            gram = padded[i : i + n]
            # a stable hash (Python's str hash is salted per process)
            h = int.from_bytes(gram.encode("utf-8")[:8].ljust(8, b"\0"), "little") * 2654435761
            out[row, h % dim] += 1.0
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    result: np.ndarray = out / norms
    return result
