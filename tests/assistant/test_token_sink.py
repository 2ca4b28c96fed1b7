"""TokenSink: which LangGraph stream modes a run asks for, and what reaches the listener from each."""

from __future__ import annotations

from langchain_core.messages import AIMessage, AIMessageChunk, ToolMessage

from assistant.agent_thread import TokenSink


def sink(live: bool, limit: int = 100) -> tuple[TokenSink, list[str]]:
    pieces: list[str] = []
    return TokenSink(pieces.append, limit, live=live), pieces


def test_nobody_listening_asks_for_the_final_state_only() -> None:
    assert TokenSink(None, 100).modes() == ["values"]


def test_a_streaming_model_sends_its_pieces_as_they_come() -> None:
    tokens, pieces = sink(live=True)
    assert tokens.modes() == ["messages", "values"]
    tokens.take("messages", (AIMessageChunk(content="Hello "), {"langgraph_node": "model"}))
    tokens.take("messages", (AIMessageChunk(content="there"), {"langgraph_node": "model"}))
    tokens.take("messages", (AIMessageChunk(content="ignored"), {"langgraph_node": "tools"}))
    call = AIMessageChunk(content="", tool_call_chunks=[{"name": "x", "args": "{}", "id": "1", "index": 0}])
    tokens.take("messages", (call, {"langgraph_node": "model"}))
    assert pieces == ["Hello ", "there"]


def test_the_offline_planner_sends_each_reply_whole_from_the_model_step() -> None:
    """No "messages" mode (LangGraph would run every step on a thread pool of its own): the model step's
    update carries the reply; tool calls, tool results and other steps send nothing."""
    tokens, pieces = sink(live=False)
    assert tokens.modes() == ["updates", "values"]
    tokens.take(
        "updates",
        {"model": {"messages": [AIMessage(content="", tool_calls=[{"name": "x", "args": {}, "id": "1"}])]}},
    )
    tokens.take("updates", {"tools": {"messages": [ToolMessage(content="result", tool_call_id="1")]}})
    tokens.take("updates", {"model": {"messages": [AIMessage(content="Your order is pending.")]}})
    tokens.take("updates", {"__interrupt__": ()})
    tokens.take("updates", {"HumanInTheLoopMiddleware.after_model": None})
    assert pieces == ["Your order is pending."]


def test_at_most_the_limit_is_sent_in_all() -> None:
    tokens, pieces = sink(live=True, limit=8)
    for piece in ["Hello ", "", "world", "again"]:
        tokens.take("messages", (AIMessageChunk(content=piece), {"langgraph_node": "model"}))
    assert pieces == ["Hello ", "wo"]
