"""The customer agent, composed on one page: the model, the tools, and the middleware in the order they run.

    guard (before the agent: sentiment, explicit asks, loops -> hand over to a human)
    confirm WRITE tools (human-in-the-loop: the customer must say yes to the listed change)
    record WRITE tools in the conversation as they run (write-ahead: started, then done / failed)
    retry tools on transient database errors
    redact card numbers (only what goes to a remote model)
    model fallback (remote model fails, times out or returns an invalid tool call -> offline planner)
    invalid tool call check (turns a bad tool call into an error the fallback catches)
    model gate (assistant/model_gate.py: own bounded pool, turn deadline, circuit breaker, reply cap)
    model call limit (a confused model cannot loop forever; it ends with a polite answer)

Tools are the shop's READ/WRITE tools plus the help-centre search, from one Toolkit; each call runs through
`Toolkit.run` with the conversation's customer scope taken from the run context.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NotRequired

from langchain.agents import AgentState, create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    HumanInTheLoopMiddleware,
    InterruptOnConfig,
    ModelFallbackMiddleware,
    ModelRequest,
    ModelResponse,
    PIIMiddleware,
    ToolRetryMiddleware,
    hook_config,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall
from langgraph.runtime import Runtime
from langgraph.types import Checkpointer
from sqlalchemy.exc import OperationalError

from assistant.breaker import CircuitBreaker
from assistant.guard.guard import SentimentGuard, TurnRecord, handover_message
from assistant.model_gate import ModelGate, ModelPool, PoliteCallLimit
from assistant.prompts import load_prompt
from assistant.store.actions import ActionLog
from assistant.tools.base import CustomerScope
from assistant.tools.outcomes import Facts
from assistant.tools.toolkit import Toolkit
from assistant.write_records import RecordWrites
from knowledge.settings import Settings

MODEL_CALL_LIMIT = 12


@dataclass
class TurnContext:
    """Per-run context: whose data this conversation may touch, and how the customer writes."""

    scope: CustomerScope
    conversation_id: str = ""
    language: str = "en"
    guard_enabled: bool = True
    deadline: float | None = None  # time.perf_counter() after which no model call starts or is waited for
    extra: dict[str, Any] = field(default_factory=dict)


class ParleyState(AgentState[Any]):
    guard_decision: NotRequired[dict[str, Any] | None]


# --- guard -------------------------------------------------------------------------------------
def guard_history(messages: Sequence[BaseMessage]) -> list[TurnRecord]:
    """The conversation as the guard reads it: customer, bot and human-agent turns, in order."""
    records = (turn_record(m) for m in messages)
    return [r for r in records if r is not None]


def turn_record(message: BaseMessage) -> TurnRecord | None:
    if isinstance(message, HumanMessage):
        return TurnRecord(role="customer", text=str(message.content), bot_failed=False)
    if isinstance(message, AIMessage) and message.content and not message.tool_calls:
        meta = message.response_metadata.get("parley", {}) if message.response_metadata else {}
        role: Literal["agent", "bot"] = "agent" if message.name == "human_agent" else "bot"
        return TurnRecord(role=role, text=str(message.content), bot_failed=bool(meta.get("failed")))
    return None


class GuardMiddleware(AgentMiddleware[ParleyState, TurnContext]):
    """Runs the sentiment guard on the customer's message before the agent does anything.

    The typed decision goes into the state (the service stores it with the message); a takeover ends the
    run with one handover message in the customer's language, so the bot says nothing else.
    """

    state_schema = ParleyState

    def __init__(self, guard: Any) -> None:
        super().__init__()
        self.guard = guard

    @hook_config(can_jump_to=["end"])
    def before_agent(self, state: ParleyState, runtime: Runtime[TurnContext]) -> dict[str, Any] | None:
        if runtime.context is not None and not runtime.context.guard_enabled:
            return None
        messages = state["messages"]
        if not messages or not isinstance(messages[-1], HumanMessage):
            return None
        decision = self.guard.evaluate(str(messages[-1].content), guard_history(messages[:-1]))
        update: dict[str, Any] = {"guard_decision": decision.model_dump(mode="json")}
        if decision.takeover:
            wait = self.guard.settings.expected_wait_minutes
            text = handover_message(decision.language, wait)
            update["messages"] = [
                AIMessage(content=text, response_metadata={"parley": {"handover": True, "failed": False}})
            ]
            update["jump_to"] = "end"
        return update


# --- invalid tool calls -> fallback ---------------------------------------------------------------
class InvalidToolCall(RuntimeError):
    pass


class RejectInvalidToolCalls(AgentMiddleware[ParleyState, TurnContext]):
    """A remote model's malformed or unknown tool call becomes an error, so the fallback model answers."""

    def __init__(self, toolkit: Toolkit) -> None:
        super().__init__()
        self.toolkit = toolkit

    def wrap_model_call(
        self,
        request: ModelRequest[TurnContext],
        handler: Callable[[ModelRequest[TurnContext]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        response = handler(request)
        for message in response.result:
            if not isinstance(message, AIMessage):
                continue
            if message.invalid_tool_calls:
                raise InvalidToolCall(f"invalid tool call: {message.invalid_tool_calls[0].get('error')}")
            unknown = [c["name"] for c in message.tool_calls if self.toolkit.spec(c["name"]) is None]
            if unknown:
                raise InvalidToolCall(f"unknown tool {unknown[0]!r}")
            for call in message.tool_calls:
                spec = self.toolkit.specs[call["name"]]
                try:
                    spec.args_model.model_validate(call["args"])
                except Exception as exc:  # pydantic.ValidationError; any shape error is the model's fault
                    raise InvalidToolCall(f"bad arguments for {call['name']}: {exc}") from exc
        return response


# --- models --------------------------------------------------------------------------------------
def build_openai_model(settings: Settings, streaming: bool = True) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or "not-needed",  # type: ignore[arg-type]
        # One attempt never outlives the turn's deadline (the gate stops waiting then in any case).
        timeout=min(settings.llm_timeout_s, settings.turn_deadline_s),
        max_retries=settings.llm_max_retries,
        temperature=settings.llm_temperature,
        streaming=streaming,
    )


def build_agent(
    settings: Settings,
    *,
    offline_model: BaseChatModel,
    toolkit: Toolkit,
    guard: SentimentGuard | None,
    checkpointer: Checkpointer,
    primary_model: BaseChatModel | None = None,
    confirm_writes: bool = True,
    actions: ActionLog | None = None,
    model_pool: ModelPool | None = None,
    breaker: CircuitBreaker | None = None,
) -> Any:
    """The agent graph. With a primary (remote) model, the offline planner is its fallback."""
    tools = toolkit.langchain_tools()
    tool_names = {t.name for t in tools}

    def describe_action(tool_call: ToolCall, state: Any, runtime: Any) -> str:
        """The change a WRITE call would make, in the customer's language, for their explicit yes."""
        messages: list[BaseMessage] = list(state.get("messages", [])) if isinstance(state, dict) else []
        context = getattr(runtime, "context", None)
        language = context.language if isinstance(context, TurnContext) else "en"
        args = dict(tool_call["args"])
        return toolkit.describe(tool_call["name"], args, Facts.from_messages(messages), language)

    middleware: list[AgentMiddleware[Any, Any]] = []
    if guard is not None:
        middleware.append(GuardMiddleware(guard))
    if confirm_writes:
        middleware.append(
            HumanInTheLoopMiddleware(
                interrupt_on={
                    name: InterruptOnConfig(
                        allowed_decisions=["approve", "reject"], description=describe_action
                    )
                    for name in toolkit.write_names
                    if name in tool_names
                }
            )
        )
    if actions is not None:  # write-ahead record of each WRITE, around its retries
        middleware.append(RecordWrites(actions, frozenset(toolkit.write_names)))
    # A locked or briefly unreachable database is retried; a tool that still fails tells the model so.
    middleware.append(
        ToolRetryMiddleware(max_retries=2, retry_on=(OperationalError,), initial_delay=0.2, max_delay=2.0)
    )
    model: BaseChatModel = offline_model
    if primary_model is not None:
        model = primary_model
        middleware.append(PIIMiddleware("credit_card", strategy="redact", apply_to_input=True))
        middleware.append(ModelFallbackMiddleware(offline_model))
        middleware.append(RejectInvalidToolCalls(toolkit))
        middleware.append(
            ModelGate(
                primary_model,
                model_pool or ModelPool(settings.model_concurrency),
                breaker or CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_s),
                deadline_s=settings.turn_deadline_s,
                slot_wait_s=settings.model_slot_wait_s,
                max_reply_chars=settings.max_reply_chars,
            )
        )
    middleware.append(PoliteCallLimit(MODEL_CALL_LIMIT, toolkit.replies))
    return create_agent(
        model,
        tools,
        system_prompt=load_prompt("system.md"),
        middleware=middleware,
        state_schema=ParleyState,
        context_schema=TurnContext,
        checkpointer=checkpointer,
        name="parley",
    )


def build_checkpointer(settings: Settings) -> Checkpointer:
    """SQLite file by default, PostgreSQL when checkpoint_url is a postgres URL."""
    url = settings.checkpoint_url or str(settings.data_dir / "checkpoints.sqlite")
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row

        conn = Connection.connect(
            url.replace("postgresql+psycopg://", "postgresql://"),
            autocommit=True,
            prepare_threshold=0,
            row_factory=dict_row,  # type: ignore[arg-type]
        )
        saver = PostgresSaver(conn)  # type: ignore[arg-type]
        saver.setup()
        return saver
    import sqlite3
    from pathlib import Path

    from langgraph.checkpoint.sqlite import SqliteSaver

    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    conn_sqlite = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn_sqlite.execute("PRAGMA journal_mode=WAL")
    conn_sqlite.execute("PRAGMA synchronous=NORMAL")
    saver_sqlite = SqliteSaver(conn_sqlite)
    saver_sqlite.setup()
    return saver_sqlite
