"""Fakes for remote parts the tests cannot reach: a chat model that plays a script of replies."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class ScriptedModel(BaseChatModel):
    """A chat model that answers with the next scripted message (what a remote model would send)."""

    script: list[AIMessage]

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.script.pop(0))])


def guard_decision(sentiment: float = 0.0, takeover: bool = False, **signals: float) -> Any:
    """A complete GuardDecision with just the fields a test cares about."""
    from assistant.records import GuardDecision

    return GuardDecision(
        takeover=takeover, reason="test", sentiment=sentiment, severity=0.5, language="en", signals=signals
    )
