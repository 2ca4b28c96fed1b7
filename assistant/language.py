"""Which of our languages (en, fr, nl) a customer writes in. One detector serves the guard and the planner."""

from __future__ import annotations

from assistant.guard.detectors import LANGUAGES, fold, stopwords, tokens
from assistant.guard.detectors import detect_language as _detect_by_stopwords

SUPPORTED_LANGUAGES = LANGUAGES


def detect_language(text: str, default: str = "en") -> str:
    """The guard's stopword detector; a message with no stopword at all ("ok", an email address) keeps
    `default`, usually the language the conversation is already in."""
    words = tokens(fold(text[:5000]))
    if not any(w in stopwords(lang) for lang in LANGUAGES for w in words):
        return default
    return _detect_by_stopwords(text)
