"""Language-aware lexical analysis for BM25: folded tokens, per-language stopwords, Snowball stems.

"Refunds", "refunded" and "refund" all become "refund"; "remboursements" and "remboursement" the same French
stem; "verzending"/"verzendingen" the same Dutch one. Each text is analysed in its own language (a chunk in
the language its article declares, a query in the language it is written in), with the stopword lists in
`knowledge/lexicons/retrieval_stopwords_{en,fr,nl}.txt` and the Snowball stemmers (`snowballstemmer`).
A query is also searched for the synonyms of its phrases (`knowledge/lexicons/synonyms.txt`: "amex" finds
the passage that says "American Express").
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

from knowledge.language import DEFAULT_LANGUAGE, LANGUAGES, data_lines, fold

_WORD = re.compile(r"[a-z0-9]+")
_SNOWBALL_NAMES = {"en": "english", "fr": "french", "nl": "dutch"}


@cache
def retrieval_stopwords(language: str) -> frozenset[str]:
    """The words BM25 ignores in `language` (package data; unknown languages use English)."""
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    return frozenset(
        row[0] for row in data_lines("knowledge.lexicons", f"retrieval_stopwords_{language}.txt")
    )


@cache
def snowball_stemmer(language: str) -> Any:
    """The Snowball stemmer of 'en' / 'fr' / 'nl' (English for anything else), built once."""
    import snowballstemmer

    return snowballstemmer.stemmer(_SNOWBALL_NAMES.get(language, "english"))


@lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    """The Snowball stem of one folded word (numbers and one-letter words are kept as they are)."""
    if len(word) < 3 or word.isdigit():
        return word
    return str(snowball_stemmer(language).stemWord(word))


@cache
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """The groups of `knowledge/lexicons/synonyms.txt`, each a tuple of folded phrases."""
    rows = data_lines("knowledge.lexicons", "synonyms.txt")
    return tuple(tuple(fold(phrase) for phrase in row if phrase) for row in rows)


@cache
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])")


def synonyms_in(text: str) -> list[str]:
    """The other phrases of every synonym group one of whose phrases `text` says (folded, in file order)."""
    folded = fold(text)
    found: list[str] = []
    for group in synonym_groups():
        if any(_phrase_pattern(phrase).search(folded) for phrase in group):
            found.extend(p for p in group if not _phrase_pattern(p).search(folded) and p not in found)
    return found


def analyze_query(text: str, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """BM25 terms of a query: its own terms, then those of its phrases' synonyms (each term once more at
    most, so a synonym adds the help centre's word without outweighing what the customer wrote)."""
    terms = analyze(text, language)
    extra = analyze(" ".join(synonyms_in(text)), language)
    return terms + [t for t in dict.fromkeys(extra) if t not in terms]


def language_of(locale: str | None) -> str:
    """'en' / 'fr' / 'nl' of a locale such as "fr-BE"; anything else is analysed as English."""
    language = (locale or "").split("-", 1)[0].lower()
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def analyze(text: str, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """BM25 terms of `text` in `language`: folded words, stopwords dropped, stemmed."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    stop = retrieval_stopwords(language)
    return [stem(word, language) for word in _WORD.findall(fold(text)) if word not in stop]
