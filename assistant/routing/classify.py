"""What a handed-over conversation is about: topic, language and the customer's journey stage.

Pure functions over what the conversation already holds (customer messages, the bot's tool calls, the
guard's decision, the customer's orders), so each rule has an allowed and a refused test.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from assistant.routing.models import Stage
from knowledge.language import detect_language, fold

GENERAL = "general"
# Guard triggers that make a handover a complaint, whatever the orders say.
COMPLAINT_TRIGGERS = frozenset(
    {
        "negative_sentiment",
        "sentiment_trajectory",
        "profanity",
        "shouting",
        "threat_to_leave",
        "public_complaint",
    }
)
IN_TRANSIT_STATUSES = frozenset({"pending", "processed"})
AFTER_DELIVERY_STATUSES = frozenset({"delivered", "return requested", "exchange requested"})
ORDER_ID_RE = re.compile(r"#?W\d{7}\b", re.IGNORECASE)


@dataclass(frozen=True)
class TopicLexicon:
    words: Mapping[str, tuple[str, ...]]
    tools: Mapping[str, tuple[str, ...]]


@cache
def topic_lexicon() -> TopicLexicon:
    text = resources.files("assistant.routing").joinpath("topics.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)["topics"]
    return TopicLexicon(
        words={t: tuple(fold(str(w)) for w in v.get("words", [])) for t, v in data.items()},
        tools={t: tuple(str(n) for n in v.get("tools", [])) for t, v in data.items()},
    )


def topics() -> list[str]:
    return [*topic_lexicon().words, GENERAL]


def _mentions(folded: str, phrase: str) -> bool:
    return re.search(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", folded) is not None


def classify_topic(customer_texts: Sequence[str], tool_names: Iterable[str] = ()) -> str:
    """The topic with the most keyword matches in the customer's words, tools the bot ran as tie-breaks."""
    lexicon = topic_lexicon()
    folded = fold(" ".join(customer_texts))[:20_000]
    tools = set(tool_names)
    best, best_score = GENERAL, 0.0
    for topic, words in lexicon.words.items():
        score = sum(1.0 for w in words if _mentions(folded, w))
        score += 0.5 * len(tools.intersection(lexicon.tools.get(topic, ())))
        if score > best_score:
            best, best_score = topic, score
    return best


def conversation_language(
    decision: Mapping[str, Any], customer_texts: Sequence[str], known: str | None
) -> str:
    """The guard's language for the handover message, else the conversation's, else detected."""
    language = decision.get("language") or known
    if language:
        return str(language)
    return detect_language(" ".join(customer_texts[-3:]), default="en")


def mentioned_order_ids(texts: Iterable[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        for match in ORDER_ID_RE.findall(text):
            order_id = "#" + match.lstrip("#").upper()
            if order_id not in found:
                found.append(order_id)
    return found


def journey_stage(
    trigger: str | None, orders: Sequence[Mapping[str, Any]], mentioned: Sequence[str] = ()
) -> Stage:
    """complaint (an upset customer, whatever the orders) > the order talked about > the latest order.

    No orders (anonymous, or a customer who has not bought yet) is a pre-purchase question.
    """
    if trigger in COMPLAINT_TRIGGERS:
        return Stage.COMPLAINT
    if not orders:
        return Stage.PRE_PURCHASE
    by_id = {str(o.get("order_id")): o for o in orders}
    talked_about = [by_id[i] for i in mentioned if i in by_id]
    order = talked_about[-1] if talked_about else orders[-1]
    status = str(order.get("status", "")).lower()
    if status in IN_TRANSIT_STATUSES:
        return Stage.IN_TRANSIT
    if status in AFTER_DELIVERY_STATUSES:
        return Stage.AFTER_DELIVERY
    return Stage.PRE_PURCHASE  # cancelled: the customer is choosing again


def order_value(orders: Sequence[Mapping[str, Any]], mentioned: Sequence[str] = ()) -> float:
    """What the order talked about is worth (paid), else the customer's largest open order."""

    def paid(order: Mapping[str, Any]) -> float:
        return sum(
            float(p.get("amount", 0))
            for p in order.get("payment_history") or []
            if p.get("transaction_type") == "payment"
        )

    by_id = {str(o.get("order_id")): o for o in orders}
    talked_about = [by_id[i] for i in mentioned if i in by_id]
    if talked_about:
        return round(paid(talked_about[-1]), 2)
    return round(max((paid(o) for o in orders), default=0.0), 2)
