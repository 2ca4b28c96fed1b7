"""From an agent run to the words a customer reads: the reply path shared by customer turns and the
copilot drafts a human agent sees.

A run ends either waiting for the customer's yes to a WRITE (an interrupt: the reply lists the change and
asks) or with the model's final message, whose `[n]` markers are checked against the hits of the run's
last help-centre search: a marker that points at nothing retrieved is removed.

A remote model's answer from the help centre is then checked sentence by sentence (`support_check`): each
sentence must be supported by the passage it cites (most of its content words, stemmed, are in the passage;
with an encoder, also a sentence of the passage close in meaning). A sentence whose citation points at the
wrong passage is re-cited to the retrieved passage that supports it; a sentence no retrieved passage
supports is removed; when nothing supported is left, the reply says it does not know (or, where the caller
gives one, the extractive answer is used).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import numpy as np
from langchain_core.messages import AIMessage, BaseMessage

from assistant.confirmations import pending_action
from assistant.prompts import Replies
from assistant.records import Citation, ToolCallRecord
from knowledge.language import SUPPORTED_LANGUAGES, detect_language, fold, stopwords
from knowledge.lexical import snowball_stemmer

_CITATION_RE = re.compile(r"\s?\[(\d{1,2})\]")
_SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+|(?<=\])\s+(?=[A-ZÀ-Ý])")
_WORD_RE = re.compile(r"[a-z0-9]+")
LEXICAL_SUPPORT = 0.6  # share of a sentence's content words found in the passage: supported on its own
LEXICAL_WITH_MEANING = 0.4  # ...or this much, with a passage sentence at least MEANING_SUPPORT close
MEANING_SUPPORT = 0.65
Encoder = Callable[[list[str]], np.ndarray]


def verify_citations(text: str, trace: Sequence[ToolCallRecord]) -> tuple[str, list[Citation], list[int]]:
    """Keep only [n] markers that point at a hit of the latest help-centre search of this run.

    Returns the text without invalid markers, the citations and the invalid numbers that were removed.
    """
    searches = [t for t in trace if t.name == "search_help_center" and t.ok]
    hits: list[dict[str, Any]] = (searches[-1].output or {}).get("hits", []) if searches else []
    citations: dict[int, Citation] = {}
    invalid: list[int] = []

    def check(match: re.Match[str]) -> str:
        ref = int(match.group(1))
        if 1 <= ref <= len(hits):
            citations.setdefault(ref, Citation.from_hit(ref, hits[ref - 1]))
            return match.group(0)
        invalid.append(ref)
        return ""

    cleaned = _CITATION_RE.sub(check, text)
    return cleaned, sorted(citations.values(), key=lambda c: c.ref), invalid


@lru_cache(maxsize=50_000)
def _stem(word: str, language: str) -> str:
    return word if len(word) < 4 or word.isdigit() else str(snowball_stemmer(language).stemWord(word))


@cache
def _common() -> frozenset[str]:
    return frozenset().union(*(stopwords(lang) for lang in SUPPORTED_LANGUAGES))


def claim_words(text: str, language: str) -> set[str]:
    """The stems a sentence's claim rests on (numbers included: "5 to 7 business days")."""
    common = _common()
    words = _WORD_RE.findall(fold(_CITATION_RE.sub("", text)))
    return {_stem(w, language) for w in words if (len(w) >= 3 or w.isdigit()) and w not in common}


def _rarity(claim: set[str], among: Sequence[dict[str, Any]], language: str) -> dict[str, float]:
    """Inverse document frequency of each claimed stem over the retrieved passages (1.0 each without them)."""
    if not among:
        return dict.fromkeys(claim, 1.0)
    seen = [
        claim_words(
            f"{p.get('title', '')} {p.get('text', '')}", str(p.get("locale") or language).split("-")[0]
        )
        for p in among
    ]
    n = len(seen)
    return {w: float(np.log((n + 1) / (sum(w in words for words in seen) + 0.5))) for w in claim}


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END_RE.split(text.strip()) if s.strip()]


@dataclass
class SupportCheck:
    """Is each sentence of a model's answer supported by a retrieved passage? (lexical, + meaning when an
    encoder is given). `fallback(hits)` is the answer to use when nothing supported is left."""

    encode: Encoder | None = None
    fallback: Callable[[list[dict[str, Any]]], str | None] | None = None

    def supports(self, sentence: str, passage: dict[str, Any], among: Sequence[dict[str, Any]] = ()) -> bool:
        """`among`: the passages retrieved with this one. A word most of them share (the shop's name, "refund"
        in a refund search) is weak evidence; a word none of them has is strong evidence of an invention."""
        language = str(passage.get("locale") or "en").split("-")[0]
        claim = claim_words(sentence, detect_language(sentence, default=language))
        if not claim:
            return True  # nothing claimed ("Happy to help!")
        text = f"{passage.get('title', '')} {passage.get('text', '')}"
        source = claim_words(text, language) | claim_words(text, detect_language(sentence, default=language))
        weight = _rarity(claim, among, language)
        lexical = sum(weight[w] for w in claim & source) / sum(weight[w] for w in claim)
        if lexical >= LEXICAL_SUPPORT or self.encode is None:
            return lexical >= LEXICAL_SUPPORT
        if lexical < LEXICAL_WITH_MEANING:
            return False
        pieces = split_sentences(str(passage.get("text", ""))) or [text]
        vectors = self.encode([_CITATION_RE.sub("", sentence), *pieces])
        return float((vectors[1:] @ vectors[0]).max()) >= MEANING_SUPPORT

    def check(self, text: str, hits: Sequence[dict[str, Any]]) -> tuple[str, list[str]]:
        """The text with only supported sentences (re-cited where the marker was wrong), and the removed."""
        kept: list[str] = []
        removed: list[str] = []
        changed = False
        for sentence in split_sentences(text):
            refs = [int(r) for r in _CITATION_RE.findall(sentence) if 1 <= int(r) <= len(hits)]
            if refs and all(self.supports(sentence, hits[r - 1], hits) for r in refs):
                kept.append(sentence)
                continue
            if not claim_words(sentence, "en") and not refs:
                kept.append(sentence)
                continue
            better = next(
                (i for i, hit in enumerate(hits, start=1) if self.supports(sentence, hit, hits)), None
            )
            changed = True
            if better is None:
                removed.append(sentence)
            else:
                bare = _CITATION_RE.sub("", sentence).rstrip()
                end = bare[-1:] if bare[-1:] in (".", "!", "?") else ""
                kept.append(f"{bare[: len(bare) - len(end)]} [{better}]{end}")
        return (" ".join(kept) if changed else text), removed


def pending_interrupts(agent: Any, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The WRITE calls this thread is waiting to have confirmed (LangChain human-in-the-loop requests)."""
    snapshot = agent.get_state(config)
    return [i.value for i in getattr(snapshot, "interrupts", ()) if isinstance(i.value, dict)]


@dataclass
class ComposedReply:
    text: str
    citations: list[Citation] = field(default_factory=list)
    invalid_citations: list[int] = field(default_factory=list)
    awaiting: dict[str, Any] | None = None  # {"actions": [...], "action_id": ...} while a WRITE waits
    failed: bool = False  # the bot could not help (counted by the guard's loop detection)
    empty: bool = False  # the run ended with no final message at all
    guard_handover: bool = False  # the guard ended the run with its handover message
    unsupported: list[str] = field(default_factory=list)  # model sentences no retrieved passage supports


def compose_reply(
    agent: Any,
    config: dict[str, Any],
    run_messages: Sequence[BaseMessage],
    trace: Sequence[ToolCallRecord],
    language: str,
    replies: Replies,
    support: SupportCheck | None = None,
) -> ComposedReply:
    interrupts = pending_interrupts(agent, config)
    if interrupts:
        actions = interrupts[0].get("action_requests", [])
        descriptions = "; ".join(a.get("description", a["name"]) for a in actions)
        awaiting = {"actions": actions, "action_id": pending_action(actions).action_id}
        return ComposedReply(text=replies("confirm", language, description=descriptions), awaiting=awaiting)
    final = next((m for m in reversed(run_messages) if isinstance(m, AIMessage) and not m.tool_calls), None)
    raw = str(final.content) if final is not None else replies("clarify", language)
    meta = (final.response_metadata or {}).get("parley", {}) if final is not None else {}
    searches = [t for t in trace if t.name == "search_help_center" and t.ok]
    hits: list[dict[str, Any]] = (searches[-1].output or {}).get("hits", []) if searches else []
    removed: list[str] = []
    text, citations, invalid = verify_citations(raw, trace)
    if final is not None and not meta and hits:
        # A remote model's answer from the help centre: every sentence must rest on a retrieved passage.
        checker = support or SupportCheck()
        checked, removed = checker.check(text, hits)
        if not checked.strip():
            fallback = checker.fallback(hits) if checker.fallback is not None else None
            checked = fallback or replies("dont_know", language)
        text, citations, _ = verify_citations(checked, trace)
    searched = any(t.name == "search_help_center" for t in trace)
    failed = bool(meta.get("failed")) or final is None or (searched and not citations and not meta)
    return ComposedReply(
        text,
        citations,
        invalid,
        failed=failed,
        empty=final is None,
        guard_handover=bool(meta.get("handover")),
        unsupported=removed,
    )
