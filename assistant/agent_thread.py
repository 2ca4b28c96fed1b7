"""The agent's thread for one conversation (its LangGraph checkpoint): run it, stream its tokens, read it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langgraph.types import Command

from assistant.planner.state import AUTH_MARKER


def run_agent(
    agent: Any, run_input: Any, config: dict[str, Any], context: Any, on_token: Callable[[str], None] | None
) -> Any:
    """Run (or resume, or continue) the thread; the model's words go to on_token as they come.

    The thread is checkpointed when the run stops (at its end or at a change waiting for a yes), not after
    every step: a step's checkpoint cost more CPU than the offline planner's step itself (benchmarks.md).
    What a crash mid-run must not lose is kept elsewhere, written when it happens: the customer's message
    (the conversation store, before the run) and each change (write-ahead action records).
    """
    state: Any = {}
    # Token events cost a callback per piece of every model reply: asked for only when someone listens.
    modes = ["messages", "values"] if on_token is not None else ["values"]
    stream = agent.stream(run_input, config, context=context, stream_mode=modes, durability="exit")
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


class ThreadReader:
    """A thread's checkpoint read once between runs: a turn consults it up to five times before its run
    (pending change, known user, history for the guard and the contact notes, where the run starts)."""

    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self._snapshot: Any = None

    def get_state(self, config: dict[str, Any]) -> Any:
        if self._snapshot is None:
            self._snapshot = self.agent.get_state(config)
        return self._snapshot

    def forget(self) -> None:
        """The thread ran: the next read goes to the checkpoint again."""
        self._snapshot = None


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


def decisions(kind: str, count: int) -> Command:
    """Resume an interrupted run with the same decision ("approve"/"reject") for each of `count` changes."""
    return Command(resume={"decisions": [{"type": kind}] * count})
