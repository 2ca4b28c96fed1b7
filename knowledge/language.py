"""Which of our languages (en, fr, nl) a text is in, and the text normal form every matcher uses.

One detector serves the index, the guard and the planner. `fold` is the form all word matching runs on:
lower case, accents removed, curly apostrophes straightened, so "Je veux parler à quelqu'un" and
"je veux parler a quelqu’un" are the same string. Stopword lists are package data (`knowledge/lexicons/`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

LANGUAGES: tuple[str, ...] = ("en", "fr", "nl")
SUPPORTED_LANGUAGES = LANGUAGES
DEFAULT_LANGUAGE = "en"
# The first part of a message carries its language; a 1 MB paste should not cost a second.
MAX_ANALYSED_CHARS = 5000

_TOKEN = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def fold(text: str) -> str:
    """Lower case, accents stripped, typographic apostrophes made plain: the form every pattern matches."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u00a0", " ")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(folded: str) -> list[str]:
    """Word tokens of folded text; French elisions are split ("j'en" -> "j", "en")."""
    out: list[str] = []
    for tok in _TOKEN.findall(folded):
        if "'" in tok:
            out.extend(part for part in tok.split("'") if part)
        else:
            out.append(tok)
    return out


def data_lines(package: str, name: str) -> list[list[str]]:
    """Rows of a tab-separated package data file; `#` starts a comment, blank lines are skipped."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    rows = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if line.strip():
            rows.append([col.strip() for col in line.split("\t")])
    return rows


@cache
def stopwords(language: str) -> frozenset[str]:
    return frozenset(fold(row[0]) for row in data_lines("knowledge.lexicons", f"stopwords_{language}.txt"))


def _detection_tokens(text: str) -> list[str]:
    """Tokens for language detection: hyphenated words also count by their parts, so the French
    inversions of a question ("puis-je", "pouvez-vous", "est-ce") count their pronouns."""
    out: list[str] = []
    for tok in tokens(fold(text[:MAX_ANALYSED_CHARS])):
        out.append(tok)
        if "-" in tok:
            out.extend(part for part in tok.split("-") if part)
    return out


def stopword_language(text: str) -> str:
    """'en', 'fr' or 'nl' by stopword counts (ties and messages without stopwords: English)."""
    toks = _detection_tokens(text)
    counts: dict[str, float] = {lang: sum(1 for t in toks if t in stopwords(lang)) for lang in LANGUAGES}
    # Accented letters are a strong hint for French when the stopwords are few ("déçu, arnaque").
    counts["fr"] += 0.5 * len(re.findall(r"[éèêàçùâîô]", text[:MAX_ANALYSED_CHARS].lower()))
    best = max(LANGUAGES, key=lambda lang: (counts[lang], lang == DEFAULT_LANGUAGE))
    return best if counts[best] > 0 else DEFAULT_LANGUAGE


def detect_language(text: str, default: str = "en") -> str:
    """The stopword detector; a message with no stopword at all ("ok", an email address) keeps `default`,
    usually the language the conversation is already in."""
    words = _detection_tokens(text)
    if not any(w in stopwords(lang) for lang in LANGUAGES for w in words):
        return default
    return stopword_language(text)
