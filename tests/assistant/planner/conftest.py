"""Planner unit-test helpers: a fake intent classifier, a bag-of-words encoder, and builders for the
messages a conversation leaves behind (customer turns, tool calls and their results)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import numpy as np
import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from assistant.planner.intents import IntentResult
from assistant.planner.planner import OfflinePlanner
from assistant.tools import Toolkit


class FakeIntents:
    """Maps exact texts to intents (everything else is a help-centre question)."""

    def __init__(self, intents: dict[str, str]) -> None:
        self.intents = intents

    def classify(self, text: str, allow_human: bool = True) -> IntentResult:
        intent = self.intents.get(text, "question")
        if intent == "human" and not allow_human:
            intent = "question"
        return IntentResult(
            intent, 0.9 if text in self.intents else 0.2, "rule" if text in self.intents else "default"
        )


def bag_of_words(texts: list[str]) -> np.ndarray:
    """Unit vectors of hashed words: texts sharing words are similar, deterministic and instant."""
    vectors = np.zeros((len(texts), 256), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1.0
        norm = float(np.linalg.norm(vectors[row]))
        if norm:
            vectors[row] /= norm
    return vectors


class Conversation:
    """Builds the message list the agent graph would hold."""

    def __init__(self) -> None:
        self.messages: list[BaseMessage] = []
        self._calls = 0

    def customer(self, text: str) -> Conversation:
        self.messages.append(HumanMessage(text))
        return self

    def bot(self, text: str) -> Conversation:
        self.messages.append(AIMessage(content=text))
        return self

    def tool(self, name: str, args: dict[str, Any], result: Any, status: str = "success") -> Conversation:
        self._calls += 1
        call_id = f"call_{self._calls}"
        self.messages.append(AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}]))
        content = result if isinstance(result, str) else json.dumps(result)
        self.messages.append(ToolMessage(content=content, tool_call_id=call_id, name=name, status=status))  # type: ignore[arg-type]
        return self


@pytest.fixture
def make_planner() -> Any:
    def make(intents: dict[str, str] | None = None) -> OfflinePlanner:
        return OfflinePlanner(
            bag_of_words,
            Toolkit(None),
            shop_name="Test Shop",
            intents=FakeIntents(intents or {}),
            identity_policy="tau2_benchmark",  # these flows sign in by email / name + zip, as τ²-bench does
        )

    return make
