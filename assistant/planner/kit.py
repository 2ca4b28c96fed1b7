"""What every planner flow works with besides the dialogue state: the reply templates, the tools' vocabulary,
the sentence encoder, the answer threshold and the answerability model."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from assistant.planner.answerability import AnswerabilityModel, fitted_model, name_words
from assistant.planner.intents import Encoder
from assistant.planner.state import DialogueState, Step
from assistant.prompts import Replies
from assistant.tools.toolkit import Toolkit
from assistant.tools.wording import order_summary


@dataclass
class PlannerKit:
    replies: Replies
    tools: Toolkit
    encode: Encoder
    min_answer_score: float = 0.35
    answerability: AnswerabilityModel = field(default_factory=fitted_model)
    # τ²-bench's identity policy: an email or name + zip signs in (assistant/identity/policy.py). Else the
    # planner never looks a customer up by what they typed: it asks for the email a code will be sent to.
    lookup_signs_in: bool = False

    @property
    def name_words(self) -> frozenset[str]:
        """The shop's name: in every passage, so it says nothing about what a question is about."""
        return name_words(self.replies.shop_name)

    def text(self, state: DialogueState, key: str, **values: Any) -> str:
        return self.replies(key, state.language, **values)

    def status(self, state: DialogueState, status: str) -> str:
        """An order status in the customer's language ("en attente" for pending; replies.yaml `status_*`)."""
        key = "status_" + re.sub(r"\W+", "_", status.lower()).strip("_")
        return self.text(state, key) if self.replies.has(key) else status

    def summary(self, state: DialogueState, order: dict[str, Any]) -> str:
        """An order in a list: id, item names and its status in the customer's language."""
        return order_summary(order, self.status(state, str(order["status"])))

    def say(self, state: DialogueState, key: str, failed: bool = False, **values: Any) -> Step:
        return Step(text=self.replies(key, state.language, **values), failed=failed)
