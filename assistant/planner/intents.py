"""Intent detection for the offline planner: nearest neighbour over exemplar utterances, plus rules.

Exemplars live in intents.yaml (package data). Rules run first for the unambiguous cases a
nearest-neighbour vote gets wrong (an order id plus "cancel" is a cancellation, whatever else is said).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Protocol

import numpy as np
import yaml

from assistant.planner.slots import EMAIL_RE

Encoder = Callable[[list[str]], np.ndarray]

ACTION_INTENTS = {
    "order_status",
    "cancel_order",
    "return_items",
    "exchange_items",
    "modify_order_items",
    "modify_order_address",
    "modify_order_payment",
    "modify_user_address",
    "account_info",
}
# Below this cosine similarity the message is treated as a help-centre question.
MIN_INTENT_SIMILARITY = 0.45
# A vote for "a person" needs more: MiniLM reads short Dutch and French details ("niet meer nodig") as
# close to "a human"; real asks are caught by the rule above and by the guard's explicit-request patterns.
MIN_HUMAN_SIMILARITY = 0.6
CACHE_SIZE = 4096

_GENERAL_QUESTION_RE = re.compile(
    r"^\s*(how|what|when|which|do you|does|is|are|can i|can you tell|comment|quel|quelle|"
    r"quels|est-ce|hoe|wat|wanneer|kan ik|zijn er|is er)\b",
    re.I,
)
_FIRST_PERSON_ACTION_RE = re.compile(
    r"\b(i want|i'd like|i would like|i need|please|my order|my package|my parcel|do i have|have i got|"
    r"i have with you|my account|my payment|my gift card|my orders|je veux|je voudrais|"
    r"ma commande|ik wil|mijn bestelling|mijn pakket)\b",
    re.I,
)
_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "human",
        re.compile(
            r"\b(human|real person|live agent|speak to (an? )?(agent|person|someone)|"
            r"representative|conseiller|une vraie personne|medewerker|een mens)\b",
            re.I,
        ),
    ),
    ("cancel_order", re.compile(r"\b(cancel|annul\w*|annuleer\w*)\b", re.I)),
    ("exchange_items", re.compile(r"\b(exchange|swap|échang\w*|ruil\w*)\b", re.I)),
    ("return_items", re.compile(r"\b(return|send (it|them) back|retourn\w*|terugsturen)\b", re.I)),
    (
        "order_status",
        re.compile(
            r"\b(where is|track|tracking|status|shipped|arrive|suivi|où est|waar is|"
            r"volgen)\b",
            re.I,
        ),
    ),
]


# A question whether something can be done at all ("can I ...", "puis-je ...", "kan ik ...", "kunnen
# jullie ..."): "my order" in it names what it is about, not a request to act on it.
_POSSIBLE_RE = re.compile(
    r"^\W*(can i|can you|could i|could you|may i|do you|puis-je|pouvez-vous|peut-on|est-ce que (vous pouvez|"
    r"je peux|je pourrais)|vous pouvez|kan ik|kun je|kunnen jullie|kunt u|mag ik)\b",
    re.I,
)
# The changes the shop's tools make: asked about in so many words, they are a request, "can I" or not.
_CHANGE_RE = re.compile(
    r"\b(change|modify|update|switch|edit|changer|modifier|wijzig\w*|aanpass\w*|verander\w*|"
    r"adres|address|adresse|pay|payer|betal\w*|refund|rembours\w*|terugbetal\w*)\b",
    re.I,
)


def names_an_action(text: str) -> bool:
    """The words ask for something done: an action's own word ("cancel", "retourneren", "where is") or a
    request about the customer's order or account ("I'd like", "my order", "ma commande", "ik wil"). A
    message without them was read as an action by its similarity to the examples alone. A question
    whether something is possible ("Puis-je retirer ma commande dans un magasin ?") needs an action's
    word or a change the tools make; "my order" alone is what it is about."""
    if any(intent in ACTION_INTENTS and pattern.search(text) for intent, pattern in _RULES):
        return True
    if "?" in text and _POSSIBLE_RE.search(text):
        return bool(_CHANGE_RE.search(text))
    return bool(_FIRST_PERSON_ACTION_RE.search(text))


@dataclass(frozen=True)
class IntentResult:
    intent: str
    confidence: float
    source: str  # "rule" | "neighbour" | "default"


class Classifier(Protocol):
    """What the planner needs of intent detection (tests pass a fake that maps texts to intents)."""

    def classify(self, text: str, allow_human: bool = True) -> IntentResult: ...


class IntentClassifier:
    def __init__(self, encoder: Encoder) -> None:
        self._encode = encoder
        self._cache: dict[tuple[str, bool], IntentResult] = {}
        self._cache_lock = threading.Lock()

    @cached_property
    def _exemplars(self) -> tuple[list[str], np.ndarray]:
        raw = yaml.safe_load(resources.files("assistant.planner").joinpath("intents.yaml").read_text("utf-8"))
        labels: list[str] = []
        texts: list[str] = []
        for intent, utterances in raw.items():
            for utterance in utterances:
                labels.append(intent)
                texts.append(utterance)
        return labels, self._encode(texts)

    def classify(self, text: str, allow_human: bool = True) -> IntentResult:
        """allow_human=False when a person already has the conversation (copilot drafts for an agent)."""
        # The planner re-reads the whole conversation every step: remember recent answers.
        key = (text, allow_human)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._classify(text, allow_human)
            with self._cache_lock:  # API workers run turns in threads
                if len(self._cache) >= CACHE_SIZE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = cached
        return cached

    def _classify(self, text: str, allow_human: bool) -> IntentResult:
        stripped = text.strip()
        if not stripped:
            return IntentResult("question", 0.0, "default")
        labels, vectors = self._exemplars
        # An email in front of the request ("noah@... - I'd like the tent in orange") drowns the request
        # in the embedding; the vote is on the words around it.
        request = EMAIL_RE.sub(" ", stripped).strip(" -,.:;") or stripped
        similarities = vectors @ self._encode([request])[0]
        if not allow_human:
            similarities = np.where(np.array(labels) == "human", -1.0, similarities)
        best = int(np.argmax(similarities))
        neighbour = IntentResult(labels[best], float(similarities[best]), "neighbour")

        general_question = bool(_GENERAL_QUESTION_RE.search(stripped)) and not _FIRST_PERSON_ACTION_RE.search(
            stripped
        )
        for intent, pattern in _RULES:
            if intent == "human" and not allow_human:
                continue
            if pattern.search(stripped):
                # "How do returns work?" asks about the rule, not for an action on an order.
                if intent in ACTION_INTENTS and general_question and "#w" not in stripped.lower():
                    return IntentResult("question", neighbour.confidence, "rule")
                # "Return it for another size" may be an exchange; "exchange" itself never means a return.
                if intent == "return_items" and neighbour.intent in {
                    "modify_order_items",
                    "exchange_items",
                    "return_items",
                }:
                    return neighbour
                return IntentResult(intent, max(neighbour.confidence, 0.8), "rule")
        if neighbour.confidence < MIN_INTENT_SIMILARITY or (
            neighbour.intent == "human" and neighbour.confidence < MIN_HUMAN_SIMILARITY
        ):
            return IntentResult("question", neighbour.confidence, "default")
        if neighbour.intent in ACTION_INTENTS and general_question:
            return IntentResult("question", neighbour.confidence, "rule")
        # A pleasantry closes a conversation; a message that asks something ("Puis-je payer en trois fois
        # sans frais ?") is not one, however close its words are to "merci beaucoup".
        if neighbour.intent == "thanks" and "?" in stripped:
            return IntentResult("question", neighbour.confidence, "rule")
        # Nor is a question about a rule ("hoe laat moet ik bestellen zodat het vandaag nog vertrekt?") an
        # ask for a person because its words sit near "ik wil een medewerker": real asks name the person
        # (the rule above, the guard's explicit-request patterns).
        if neighbour.intent == "human" and general_question and "?" in stripped:
            return IntentResult("question", neighbour.confidence, "rule")
        return neighbour
