"""Whether a customer's answer to "Shall I go ahead?" is an explicit yes to the change that waits, a clear no,
a reply that needs the question again, or something else entirely (a new request).

A pending WRITE has an id (`action_id`, a hash of the calls it would make), shown to the API and the widget.
Only an unhedged yes runs it: one yes word, every other word a filler from the lexicon, and every order or
item id named one that the pending change touches. A negation, a hedge, indifference, "the other one", an id
that is not the pending one, or the id of another action is never a yes. The words live in
confirmation_words.yaml (en, fr, nl); the rules here are pure functions.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

Answer = Literal["yes", "no", "again", "other"]
ACTION_ID_RE = re.compile(r"\bact-[0-9a-f]{10}\b")
_ORDER_ID_RE = re.compile(r"#?\s?\bw\s?(\d{7})\b")
_ITEM_ID_RE = re.compile(r"\b\d{8,12}\b")
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|'")
MAX_YES_WORDS = 12


@dataclass(frozen=True)
class Lexicon:
    yes_phrases: tuple[str, ...]
    indifferent_phrases: tuple[str, ...]
    other_phrases: tuple[str, ...]
    yes: frozenset[str]
    intensifiers: frozenset[str]
    negations: frozenset[str]
    hedges: frozenset[str]
    indifferent: frozenset[str]
    other: frozenset[str]
    filler: frozenset[str]


def fold(text: str) -> str:
    """Lower case, accents off, curly apostrophes straight, one space between words."""
    text = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'").replace("`", "'"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


@cache
def lexicon() -> Lexicon:
    raw = resources.files("assistant").joinpath("confirmation_words.yaml").read_text("utf-8")
    data: dict[str, Any] = yaml.load(raw, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds only strings

    def words(key: str) -> frozenset[str]:
        return frozenset(fold(w) for w in data[key])

    def phrases(key: str) -> tuple[str, ...]:
        # Longest first, so "ga je gang" wins over a shorter phrase inside it.
        return tuple(sorted((fold(p) for p in data["phrases"][key]), key=len, reverse=True))

    return Lexicon(
        yes_phrases=phrases("yes"),
        indifferent_phrases=phrases("indifferent"),
        other_phrases=phrases("other"),
        yes=words("yes"),
        intensifiers=words("intensifiers"),
        negations=words("negations"),
        hedges=words("hedges"),
        indifferent=words("indifferent"),
        other=words("other"),
        filler=words("filler"),
    )


@dataclass(frozen=True)
class PendingAction:
    """The change waiting for a yes: its id and the order / item ids it touches."""

    action_id: str
    ids: frozenset[str]


def action_id(actions: Sequence[Mapping[str, Any]]) -> str:
    """A stable id for the calls a pending change would make (same calls, same id, across workers)."""
    calls = [{"name": a.get("name", ""), "args": a.get("args", a.get("arguments", {}))} for a in actions]
    digest = hashlib.sha256(json.dumps(calls, sort_keys=True, default=str).encode()).hexdigest()
    return f"act-{digest[:10]}"


def _touched_ids(args: Mapping[str, Any]) -> Iterable[str]:
    for key in ("order_id", "item_ids", "new_item_ids"):
        value = args.get(key)
        for v in value if isinstance(value, list) else [value]:
            if v:
                yield str(v).lstrip("#").lower()


def pending_action(actions: Sequence[Mapping[str, Any]]) -> PendingAction:
    ids = {i for a in actions for i in _touched_ids(a.get("args", a.get("arguments", {})) or {})}
    return PendingAction(action_id=action_id(actions), ids=frozenset(ids))


def _named_ids(folded: str) -> tuple[set[str], str]:
    """Order ids ("#W1234567", "w 1234567") and item ids named in the text, and the text without them."""
    ids = {f"w{m}" for m in _ORDER_ID_RE.findall(folded)}
    rest = _ORDER_ID_RE.sub(" ", folded)
    ids |= set(_ITEM_ID_RE.findall(rest))
    return ids, _ITEM_ID_RE.sub(" ", rest)


def _replace_phrases(text: str, phrases: Iterable[str], token: str) -> tuple[str, bool]:
    found = False
    for phrase in phrases:
        pattern = re.compile(rf"(?<![a-z']){re.escape(phrase)}(?![a-z])")
        text, count = pattern.subn(f" {token} ", text)
        found = found or count > 0
    return text, found


def classify_confirmation(
    text: str, pending: PendingAction | None = None, button_action_id: str | None = None
) -> Answer:
    """'yes': an explicit, unhedged yes to `pending` (or with no pending change, a bare yes).
    'no': a clear refusal (a negation and no yes word). 'again': an answer that is neither (ask again).
    'other': no answer at all (a new request or question, nothing of yes or no in it).

    `button_action_id`: the id the widget's button carries; an id that is not the pending one is 'again'.
    """
    lex = lexicon()
    folded = fold(text)
    if not folded:
        return "other"
    named_actions = set(ACTION_ID_RE.findall(folded))
    folded = ACTION_ID_RE.sub(" ", folded)
    if button_action_id is not None:
        named_actions.add(button_action_id.lower())
    wrong_action = pending is not None and any(a != pending.action_id for a in named_actions)
    ids, rest = _named_ids(folded)
    wrong_id = pending is not None and bool(ids - pending.ids)
    rest, indifferent = _replace_phrases(rest, lex.indifferent_phrases, " ")
    rest, other = _replace_phrases(rest, lex.other_phrases, " ")
    rest, _ = _replace_phrases(rest, lex.yes_phrases, "yes")
    tokens = _TOKEN_RE.findall(rest)
    words = [t for t in tokens if t != "'"]
    has_yes = any(w in lex.yes for w in words)
    has_negation = any(w in lex.negations or w.endswith("n't") for w in words)
    hedged = "?" in text or any(w in lex.hedges for w in words)
    indifferent = indifferent or any(w in lex.indifferent for w in words)
    other = other or any(w in lex.other for w in words)
    doubt = hedged or indifferent or other or wrong_id or wrong_action
    if has_negation:
        return "no" if not has_yes and not doubt else "again"
    if has_yes or (words and all(w in lex.intensifiers for w in words)):
        allowed = lex.yes | lex.filler | lex.intensifiers
        if not doubt and len(words) <= MAX_YES_WORDS and all(w in allowed for w in words):
            return "yes"
        return "again"
    if doubt and (indifferent or other or wrong_id or wrong_action or len(words) <= 3):
        return "again"
    return "other"
