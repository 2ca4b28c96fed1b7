"""The agent graph directly (assistant/agent.py): the guard ends a run with one handover message, a remote
model's unknown or malformed tool call becomes an error the fallback answers, WRITE calls interrupt."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from assistant.agent import TurnContext, build_agent, guard_history
from assistant.guard.guard import TurnRecord
from assistant.records import GuardDecision, GuardTrigger
from assistant.tools import CustomerScope, Toolkit
from knowledge.settings import Settings
from tests.assistant.fakes import ScriptedModel


class AlwaysTakeOver:
    """A guard that hands every message over (what an angry message does to the real one)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.seen: list[tuple[str, list[TurnRecord]]] = []

    def evaluate(self, text: str, history: Sequence[TurnRecord]) -> GuardDecision:
        self.seen.append((text, list(history)))
        return GuardDecision(
            takeover=True,
            trigger=GuardTrigger.EXPLICIT_REQUEST,
            reason="asked for a person",
            sentiment=0.0,
            severity=0.5,
            language="fr",
            signals={},
        )


def settings_for(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "parley", _env_file=None)  # type: ignore[call-arg]


def test_a_guard_takeover_ends_the_run_with_one_handover_message(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    guard = AlwaysTakeOver(settings)
    model = ScriptedModel(script=[AIMessage(content="this must never be said")])
    agent = build_agent(
        settings,
        offline_model=model,
        toolkit=Toolkit(None),
        guard=guard,
        checkpointer=InMemorySaver(),  # type: ignore[arg-type]
    )
    config: dict[str, Any] = {"configurable": {"thread_id": "g"}}
    state = agent.invoke(
        {"messages": [("user", "un humain svp")]}, config, context=TurnContext(scope=CustomerScope.customer())
    )
    last = state["messages"][-1]
    assert isinstance(last, AIMessage) and "membre de notre équipe" in str(last.content)
    assert state["guard_decision"]["takeover"] is True and model.script  # the model was never called


def test_a_remote_models_unknown_tool_falls_back_to_the_offline_model(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    bad = ScriptedModel(
        script=[AIMessage(content="", tool_calls=[{"name": "drop_all_orders", "args": {}, "id": "1"}])]
    )
    offline = ScriptedModel(script=[AIMessage(content="The offline planner answers.")])
    agent = build_agent(
        settings,
        offline_model=offline,
        primary_model=bad,
        toolkit=Toolkit(None),
        guard=None,
        checkpointer=InMemorySaver(),
    )
    state = agent.invoke(
        {"messages": [("user", "hi")]},
        {"configurable": {"thread_id": "f"}},
        context=TurnContext(scope=CustomerScope.customer()),
    )
    assert state["messages"][-1].content == "The offline planner answers."


def test_guard_history_reads_customer_bot_and_agent_turns() -> None:
    from langchain_core.messages import HumanMessage, ToolMessage

    messages = [
        HumanMessage("where is my order"),
        AIMessage(content="", tool_calls=[{"name": "get_order_details", "args": {}, "id": "1"}]),
        ToolMessage(content="{}", tool_call_id="1"),
        AIMessage(content="I don't know", response_metadata={"parley": {"failed": True}}),
        AIMessage(content="Hi, Sam here", name="human_agent"),
    ]
    history = guard_history(messages)
    assert [(r.role, r.bot_failed) for r in history] == [("customer", False), ("bot", True), ("agent", False)]
