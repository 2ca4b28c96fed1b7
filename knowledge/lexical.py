"""Language-aware lexical analysis for BM25: folded tokens, per-language stopwords, Snowball stems.

"Refunds", "refunded" and "refund" all become "refund"; "remboursements" and "remboursement" the same French
stem; "verzending"/"verzendingen" the same Dutch one. Each text is analysed in its own language (a chunk in
the language its article declares, a query in the language it is written in), with the stopword lists in
`knowledge/lexicons/retrieval_stopwords_{en,fr,nl}.txt` and the Snowball stemmers (`snowballstemmer`).
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


def language_of(locale: str | None) -> str:
    """'en' / 'fr' / 'nl' of a locale such as "fr-BE"; anything else is analysed as English."""
    language = (locale or "").split("-", 1)[0].lower()
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def analyze(text: str, language: str = DEFAULT_LANGUAGE) -> list[str]:
    """BM25 terms of `text` in `language`: folded words, stopwords dropped, stemmed."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    stop = retrieval_stopwords(language)
    return [stem(word, language) for word in _WORD.findall(fold(text)) if word not in stop]
