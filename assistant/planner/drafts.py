"""What makes a suggested reply one a human agent can send as it is (used by assistant/desk.py).

Written to the customer, never offering "a person" (the agent is one), never repeating what the bot
already said, never a help-centre sentence about how to reach a person, never a dangling [n] marker.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.planner.words import near_identical
from assistant.prompts import Replies
from knowledge.language import SUPPORTED_LANGUAGES

MAX_QUESTIONS_FOR_A_DRAFT = 3
BARE_ASK_WORDS = 3  # "can I speak to a person please?": nothing else said, so ask what it is about
UPSET_TRIGGERS = frozenset(
    {
        "negative_sentiment",
        "sentiment_trajectory",
        "shouting",
        "profanity",
        "threat_to_leave",
        "public_complaint",
        "repeated_request",
        "bot_failures",
        "bot_loop",
    }
)
# Help-centre sentences about reaching a person are for customers, not for the person answering them.
_ABOUT_REACHING_A_PERSON_RE = re.compile(
    r"human agent|talk to a person|transf[eè]r|conseiller|medewerker|doorverbind|"
    r"chat assistant|assistant de chat|chatassistent",
    re.I,
)
_MARKER_RE = re.compile(r"\s?\[(\d{1,2})\]")
_PERSON_OFFER_KEYS = (
    "dont_know",
    "transfer",
    "refusal_generic",
    "refusal_payment_history",
    "loop_next_step_stranger",
    "loop_next_step_customer",
)


def draft_is_sendable(text: str, bot_said: list[str], replies: Replies) -> bool:
    """Not an offer of a person (the agent is one), not what the bot already said, not empty."""
    if not text.strip() or _ABOUT_REACHING_A_PERSON_RE.search(text):
        return False
    offers = (replies(k, lang) for k in _PERSON_OFFER_KEYS for lang in SUPPORTED_LANGUAGES)
    if any(near_identical(text, offer, threshold=0.8) or offer in text for offer in offers):
        return False
    return not any(near_identical(text, earlier) for earlier in bot_said)


def finish_draft(text: str, citations: list[dict[str, Any]]) -> str:
    """Plain sentences for the customer: the [n] markers become the sources' links at the end."""
    body = _MARKER_RE.sub("", text).strip()
    links = []
    for citation in citations:
        url = str(citation.get("url") or "")
        if url and url not in links:
            links.append(url)
    return body + ("\n" + "\n".join(links) if links else "")
