"""The agent's thread for one conversation (its LangGraph checkpoint): run it, stream its tokens, read it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langgraph.types import Command

from assistant.planner.state import AUTH_MARKER


class TokenSink:
    """Where the model's words go while a run is under way: `on_token` (None: nobody listens), at most
    `limit` characters in all (a huge model reply is not streamed). `live`: the model streams its words
    (a remote model), so they go out piece by piece; otherwise (the offline planner writes a reply at once)
    each reply goes out whole when the model's step ends, which spares LangGraph's "messages" stream mode:
    it runs every step of the graph on a thread pool of its own (thread starts and hand-offs each turn)."""

    def __init__(self, on_token: Callable[[str], None] | None, limit: int, live: bool = True) -> None:
        self.on_token = on_token
        self.limit = limit
        self.live = live
        self.sent = 0

    def modes(self) -> list[str]:
        if self.on_token is None:
            return ["values"]
        return ["messages", "values"] if self.live else ["updates", "values"]

    def send(self, piece: str) -> None:
        if self.on_token is None or not piece or self.sent >= self.limit:
            return
        piece = piece[: self.limit - self.sent]
        self.sent += len(piece)
        self.on_token(piece)

    def take(self, mode: str, chunk: Any) -> None:
        """A "messages" chunk (a piece of the model's reply) or an "updates" chunk (what each step wrote)."""
        if mode == "messages":
            message, metadata = chunk
            if metadata.get("langgraph_node") == "model" and not getattr(message, "tool_call_chunks", None):
                self.send(str(message.content or ""))
            return
        update = chunk.get("model") if isinstance(chunk, dict) else None
        if not isinstance(update, dict):  # another step, an interrupt, or a step that wrote nothing
            return
        for message in update.get("messages", []):
            if isinstance(message, AIMessage) and not message.tool_calls:
                self.send(str(message.content or ""))


def run_agent(agent: Any, run_input: Any, config: dict[str, Any], context: Any, tokens: TokenSink) -> Any:
    """Run (or resume, or continue) the thread; the model's words go to `tokens` as they come.

    The thread is checkpointed when the run stops (at its end or at a change waiting for a yes), not after
    every step: a step's checkpoint cost more CPU than the offline planner's step itself (benchmarks.md).
    What a crash mid-run must not lose is kept elsewhere, written when it happens: the customer's message
    (the conversation store, before the run) and each change (write-ahead action records).
    """
    state: Any = {}
    stream = agent.stream(run_input, config, context=context, stream_mode=tokens.modes(), durability="exit")
    for mode, chunk in stream:
        if mode == "values":
            state = chunk
        else:
            tokens.take(mode, chunk)
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
