"""The agent's thread for one conversation (its LangGraph checkpoint): run it, stream its tokens, read it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage

from assistant.planner.state import AUTH_MARKER


def run_agent(
    agent: Any, run_input: Any, config: dict[str, Any], context: Any, on_token: Callable[[str], None] | None
) -> Any:
    """Run (or resume, or continue) the thread; the model's words go to on_token as they come."""
    state: Any = {}
    stream = agent.stream(run_input, config, context=context, stream_mode=["messages", "values"])
    for mode, chunk in stream:
        if mode == "values":
            state = chunk
        elif on_token is not None:
            message, metadata = chunk
            if (
                metadata.get("langgraph_node") == "model"
                and message.content
                and not getattr(message, "tool_call_chunks", None)
            ):
                on_token(str(message.content))
    return state


def thread_messages(agent: Any, config: dict[str, Any]) -> list[BaseMessage]:
    snapshot = agent.get_state(config)
    values = snapshot.values if snapshot and snapshot.values else {}
    return list(values.get("messages", []))


def unfinished_run(agent: Any, config: dict[str, Any]) -> bool:
    """The thread's last run stopped between steps (a crash), not at a question for the customer."""
    snapshot = agent.get_state(config)
    return bool(snapshot and snapshot.next and not snapshot.interrupts)


def last_tool_call_index(agent: Any, config: dict[str, Any]) -> int:
    messages = thread_messages(agent, config)
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, AIMessage) and message.tool_calls:
            return index
    return len(messages)


def knows_user(agent: Any, config: dict[str, Any]) -> bool:
    return any(
        isinstance(m, SystemMessage) and AUTH_MARKER in str(m.content) for m in thread_messages(agent, config)
    )
