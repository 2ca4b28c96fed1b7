"""The customer agent, composed on one page: the model, the tools, and the middleware in the order they run.

    guard (before the agent: sentiment, explicit asks, loops -> hand over to a human)
    confirm WRITE tools (human-in-the-loop: the customer must say yes to the listed change)
    retry tools on transient database errors
    redact card numbers (only what goes to a remote model)
    model fallback (remote model fails, times out or returns an invalid tool call -> offline planner)
    invalid tool call check (turns a bad tool call into an error the fallback catches)
    model call limit (a confused model cannot loop forever)

Tools are the shop's READ/WRITE tools plus the help-centre search; each call runs through
assistant.tools.execute_tool with the conversation's customer scope taken from the run context.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, NotRequired

from langchain.agents import AgentState, create_agent
from langchain.agents.middleware import (
    AgentMiddleware,
    HumanInTheLoopMiddleware,
    InterruptOnConfig,
    ModelCallLimitMiddleware,
    ModelFallbackMiddleware,
    ModelRequest,
    ModelResponse,
    PIIMiddleware,
    ToolRetryMiddleware,
    hook_config,
)
from langchain.tools import ToolRuntime
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolCall
from langchain_core.tools import InjectedToolArg, StructuredTool
from langgraph.runtime import Runtime
from langgraph.types import Checkpointer
from pydantic import ConfigDict
from sqlalchemy.exc import OperationalError

from assistant.prompts import load_prompt
from assistant.shop.store import ShopStore
from assistant.tools.base import RETAIL_TOOLS, CustomerScope, HelpCenterSearch, ToolKind, execute_tool
from knowledge.settings import Settings

MODEL_CALL_LIMIT = 12


@dataclass
class TurnContext:
    """Per-run context: whose data this conversation may touch, and how the customer writes."""

    scope: CustomerScope
    conversation_id: str = ""
    language: str = "en"
    guard_enabled: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class ParleyState(AgentState[Any]):
    guard_decision: NotRequired[dict[str, Any] | None]


# --- tools -------------------------------------------------------------------------------------
def build_tools(shop: ShopStore, help_center: HelpCenterSearch | None) -> list[StructuredTool]:
    """The shop's tools as LangChain tools; the customer scope comes from each run's context."""
    import assistant.tools  # noqa: F401  (registers the tools)

    def bind(name: str) -> StructuredTool:
        spec = RETAIL_TOOLS[name]

        def run(runtime: ToolRuntime[TurnContext], **kwargs: Any) -> tuple[str, dict[str, Any]]:
            result = execute_tool(shop, runtime.context.scope, name, kwargs, help_center=help_center)
            return result.content, result.model_dump(mode="json")

        # The tool node validates the injected `runtime` with the arguments; the strict model (unknown
        # arguments are errors) still checks what the model sent, in execute_tool and RejectInvalidToolCalls.
        namespace: dict[str, Any] = {"model_config": ConfigDict(extra="ignore")}
        if not spec.args_model.model_fields:
            # LangChain calls a tool whose schema has no fields with no arguments at all, which would drop
            # the injected runtime; declared here it is still injected and hidden from the model.
            namespace["__annotations__"] = {"runtime": Annotated[Any, InjectedToolArg]}
        lenient = type(spec.args_model.__name__, (spec.args_model,), namespace)
        return StructuredTool.from_function(
            func=run,
            name=name,
            description=spec.description,
            args_schema=lenient,
            response_format="content_and_artifact",
            metadata={"kind": spec.kind.value, "hands_over": spec.hands_over},
            tags=[spec.kind.value],
        )

    names = [n for n in RETAIL_TOOLS if help_center is not None or n != "search_help_center"]
    return [bind(n) for n in names]


def write_tools() -> list[str]:
    return [name for name, spec in RETAIL_TOOLS.items() if spec.kind is ToolKind.WRITE]


# --- confirmation of WRITE tools ----------------------------------------------------------------
def describe_action(tool_call: ToolCall, state: Any = None, runtime: Any = None) -> str:
    """The change a WRITE tool call would make, in words a customer can say yes or no to."""
    from assistant.confirmations import describe_tool_call

    messages: list[BaseMessage] = list(state.get("messages", [])) if isinstance(state, dict) else []
    return describe_tool_call(tool_call["name"], dict(tool_call["args"]), messages)


# --- guard -------------------------------------------------------------------------------------
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
        from assistant.guard.guard import TurnRecord, handover_message

        if runtime.context is not None and not runtime.context.guard_enabled:
            return None
        messages = state["messages"]
        if not messages or not isinstance(messages[-1], HumanMessage):
            return None
        history = [_turn_record(m, TurnRecord) for m in messages[:-1]]
        decision = self.guard.evaluate(str(messages[-1].content), [h for h in history if h is not None])
        update: dict[str, Any] = {"guard_decision": decision.model_dump(mode="json")}
        if decision.takeover:
            wait = self.guard.settings.expected_wait_minutes
            text = handover_message(decision.language, wait)
            update["messages"] = [
                AIMessage(content=text, response_metadata={"parley": {"handover": True, "failed": False}})
            ]
            update["jump_to"] = "end"
        return update


def _turn_record(message: BaseMessage, record_type: Any) -> Any:
    if isinstance(message, HumanMessage):
        return record_type(role="customer", text=str(message.content), bot_failed=False)
    if isinstance(message, AIMessage) and message.content and not message.tool_calls:
        meta = message.response_metadata.get("parley", {}) if message.response_metadata else {}
        role = "agent" if message.name == "human_agent" else "bot"
        return record_type(role=role, text=str(message.content), bot_failed=bool(meta.get("failed")))
    return None


# --- invalid tool calls -> fallback ---------------------------------------------------------------
class InvalidToolCall(RuntimeError):
    pass


class RejectInvalidToolCalls(AgentMiddleware[ParleyState, TurnContext]):
    """A remote model's malformed or unknown tool call becomes an error, so the fallback model answers."""

    def __init__(self, tool_names: set[str]) -> None:
        super().__init__()
        self.tool_names = tool_names

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
            unknown = [c["name"] for c in message.tool_calls if c["name"] not in self.tool_names]
            if unknown:
                raise InvalidToolCall(f"unknown tool {unknown[0]!r}")
            for call in message.tool_calls:
                spec = RETAIL_TOOLS[call["name"]]
                try:
                    spec.args_model.model_validate(call["args"])
                except Exception as exc:  # pydantic.ValidationError; any shape error is the model's fault
                    raise InvalidToolCall(f"bad arguments for {call['name']}: {exc}") from exc
        return response


# --- models --------------------------------------------------------------------------------------
def build_openai_model(settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.llm_model,
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or "not-needed",  # type: ignore[arg-type]
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        temperature=settings.llm_temperature,
        streaming=True,
    )


def build_agent(
    settings: Settings,
    *,
    offline_model: BaseChatModel,
    tools: list[StructuredTool],
    guard: Any | None,
    checkpointer: Checkpointer,
    primary_model: BaseChatModel | None = None,
    confirm_writes: bool = True,
) -> Any:
    """The agent graph. With a primary (remote) model, the offline planner is its fallback."""
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
                    for name in write_tools()
                    if name in {t.name for t in tools}
                }
            )
        )
    # A locked or briefly unreachable database is retried; a tool that still fails tells the model so.
    middleware.append(
        ToolRetryMiddleware(max_retries=2, retry_on=(OperationalError,), initial_delay=0.2, max_delay=2.0)
    )
    model: BaseChatModel = offline_model
    if primary_model is not None:
        model = primary_model
        middleware.append(PIIMiddleware("credit_card", strategy="redact", apply_to_input=True))
        middleware.append(ModelFallbackMiddleware(offline_model))
        middleware.append(RejectInvalidToolCalls({t.name for t in tools}))
    middleware.append(ModelCallLimitMiddleware(run_limit=MODEL_CALL_LIMIT, exit_behavior="end"))
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
    saver_sqlite = SqliteSaver(conn_sqlite)
    saver_sqlite.setup()
    return saver_sqlite


def tool_trace(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """The tool calls of a run with their arguments and results, for the store, the API and the eval."""
    from langchain_core.messages import ToolMessage

    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    trace: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, AIMessage):
            continue
        for call in message.tool_calls:
            result = results.get(call["id"] or "")
            artifact = getattr(result, "artifact", None) if result is not None else None
            entry: dict[str, Any] = {"name": call["name"], "arguments": dict(call["args"]), "id": call["id"]}
            if isinstance(artifact, dict):
                entry.update(
                    ok=artifact.get("ok"), output=artifact.get("output"), error=artifact.get("error")
                )
                entry["kind"] = artifact.get("kind")
            elif result is not None:
                content = str(result.content)
                rejected = content.startswith("User rejected")
                entry.update(ok=False if rejected else result.status != "error", output=None)
                entry["error"] = content if (rejected or result.status == "error") else None
                entry["rejected"] = rejected
            else:
                entry.update(ok=None, output=None, error="not run")
            spec = RETAIL_TOOLS.get(call["name"])
            entry.setdefault("kind", spec.kind.value if spec else None)
            trace.append(entry)
    return trace


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
