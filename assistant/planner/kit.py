"""What every planner flow works with besides the dialogue state: the reply templates, the tools' vocabulary,
the sentence encoder, the answer threshold and the answerability model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.planner.answerability import AnswerabilityModel, fitted_model, name_words
from assistant.planner.intents import Encoder
from assistant.planner.state import DialogueState, Step
from assistant.prompts import Replies
from assistant.tools.toolkit import Toolkit


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

    def say(self, state: DialogueState, key: str, failed: bool = False, **values: Any) -> Step:
        return Step(text=self.replies(key, state.language, **values), failed=failed)
