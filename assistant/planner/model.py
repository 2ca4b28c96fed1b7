"""The offline planner behind LangChain's chat-model interface, so `create_agent` runs it like any LLM."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import ConfigDict

from assistant.planner.planner import OfflinePlanner
from assistant.planner.state import Step

_CHUNK_RE = re.compile(r"\S+\s*")


def step_to_message(step: Step) -> AIMessage:
    metadata = {"parley": {"failed": step.failed, "citations": step.citations, "intent": step.intent}}
    if step.tool is not None:
        call_id = f"call_{uuid.uuid4().hex[:12]}"
        return AIMessage(
            content="",
            tool_calls=[{"name": step.tool, "args": step.args, "id": call_id, "type": "tool_call"}],
            response_metadata=metadata,
        )
    return AIMessage(content=step.text, response_metadata=metadata)


class OfflinePlannerChatModel(BaseChatModel):
    """Deterministic, no generative model: intent + slots + flows, extractive grounded answers."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    planner: OfflinePlanner

    @property
    def _llm_type(self) -> str:
        return "parley-offline-planner"

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        # The planner knows the shop's tools by name; binding changes nothing.
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        message = step_to_message(self.planner.next_step(messages))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = step_to_message(self.planner.next_step(messages))
        if message.tool_calls:
            call = message.tool_calls[0]
            chunk = AIMessageChunk(
                content="",
                tool_call_chunks=[
                    {
                        "name": call["name"],
                        "args": json.dumps(call["args"]),
                        "id": call["id"],
                        "index": 0,
                        "type": "tool_call_chunk",
                    }
                ],
                response_metadata=message.response_metadata,
                chunk_position="last",
            )
            yield ChatGenerationChunk(message=chunk)
            return
        pieces = _CHUNK_RE.findall(str(message.content)) or [""]
        for position, piece in enumerate(pieces):
            last = position == len(pieces) - 1
            chunk = AIMessageChunk(
                content=piece,
                response_metadata=message.response_metadata if last else {},
                chunk_position="last" if last else None,
            )
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)
