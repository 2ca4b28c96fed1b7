"""Agent routes (key required): the queue, transcripts with everything behind them, ownership (claim, hand
back, close, transfer, assign), suggestions, insights. Each route calls AgentDesk, the router or the store
and maps its exceptions to 404 / 409 / 422."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi import HTTPException, Query
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import AgentName, State, agent_router, message_text
from assistant.api.schemas import (
    AgentMessageOut,
    AgentMessageRequest,
    DecisionRequest,
    DecisionResponse,
    SuggestionOut,
    error_docs,
)
from assistant.api.schemas_desk import (
    AssignRequest,
    DeskConversationDetail,
    DeskConversationOut,
    DeskQueueEntryOut,
    InsightsOut,
    MeOut,
    StatusRequest,
    TransferRequest,
)
from assistant.insights import insights_from_store
from assistant.routing.context import ConflictError
from assistant.routing.directory import DeskAgent
from assistant.routing.effort import conversation_effort
from assistant.routing.history import customer_history, first_taken
from assistant.store.conversations import ConversationConflict, ConversationNotFound
from assistant.store.models import ConversationStatus, SuggestionChoice

router = agent_router("agent", "/v1/agent", error_docs({429: "Rate limited"}))
CONVERSATION_DOC = error_docs(
    {404: "Unknown conversation", 409: "The conversation's state or owner forbids this"}
)
T = TypeVar("T")


@contextmanager
def desk_errors() -> Iterator[None]:
    try:
        yield
    except ConversationNotFound as exc:
        raise HTTPException(status_code=404, detail="conversation not found") from exc
    except (ConversationConflict, ConflictError) as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    except LookupError as exc:
        raise HTTPException(status_code=404, detail=str(exc).strip("'\"")) from exc
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc


async def call(fn: Callable[..., T], *args: Any) -> T:
    with desk_errors():
        return await run_in_threadpool(fn, *args)


@router.get(
    "/queue",
    summary="Conversations waiting for a human, most urgent first",
    response_model=list[DeskQueueEntryOut],
)
async def queue(
    state: State,
    limit: int = Query(50, ge=1, le=500),
    team: str | None = Query(None, max_length=64, description="Only this team's queue"),
) -> list[dict[str, Any]]:
    """Queue order: priority (guard severity + rules), ageing, verified customers, fair share per origin;
    conversations deferred to a team's opening come last, with `routing.deferred_until`."""
    entries = await call(state.desk.queue, limit, team)
    return [e.as_dict() for e in entries]


@router.get(
    "/conversations", summary="Conversations, newest activity first", response_model=list[DeskConversationOut]
)
async def list_conversations(
    state: State,
    status: ConversationStatus | None = Query(None, description="Only conversations in this status"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[dict[str, Any]]:
    conversations = await call(state.service.conversations.list_conversations, status, limit)
    return [c.model_dump(mode="json") for c in conversations]


@router.get(
    "/conversations/{conversation_id}",
    summary="Full transcript with tool calls, citations, guard decisions, customer profile and orders",
    response_model=DeskConversationDetail,
    responses=CONVERSATION_DOC,
)
async def conversation_detail(conversation_id: str, state: State) -> dict[str, Any]:
    def load() -> dict[str, Any]:
        store = state.service.conversations
        router = state.service.router
        conversation = store.get(conversation_id)
        messages = store.messages(conversation_id)
        customer, orders = state.desk.customer_profile(conversation)
        history = (
            customer_history(router.db, conversation.user_id, conversation_id) if conversation.user_id else []
        )
        effort = conversation_effort(conversation, messages, topic=conversation.topic, now=router.db.now())
        return {
            "conversation": conversation.model_dump(mode="json"),
            "messages": [m.model_dump(mode="json") for m in messages],
            "customer": customer,
            "orders": orders,
            "suggestions": [s.model_dump(mode="json") for s in store.suggestions(conversation_id)],
            "sla": router.queue.sla_of(conversation_id).as_dict(),
            "effort": effort.as_dict(),
            "history": history,
        }

    return await call(load)


# Ownership actions that take only the agent: (path, AgentDesk method, summary), one route each.
OWNERSHIP_ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("claim", "claim", "Take the conversation (the bot goes silent)"),
    ("handback", "hand_back", "Give the conversation back to the bot"),
    ("close", "close", "Close the conversation"),
)


def _ownership_route(method: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def route(conversation_id: str, state: State, agent: AgentName) -> dict[str, Any]:
        action = getattr(state.desk, method)
        return (await call(action, conversation_id, agent)).model_dump(mode="json")

    return route


for _path, _method, _summary in OWNERSHIP_ACTIONS:
    router.post(
        f"/conversations/{{conversation_id}}/{_path}",
        summary=_summary,
        response_model=DeskConversationOut,
        responses=CONVERSATION_DOC,
        name=_method,
    )(_ownership_route(_method))


@router.post(
    "/conversations/{conversation_id}/messages",
    summary="Write to the customer (only the agent who claimed the conversation)",
    response_model=AgentMessageOut,
    status_code=201,
    responses={**CONVERSATION_DOC, **error_docs({422: "Empty or too long"})},
)
async def send(
    conversation_id: str, body: AgentMessageRequest, state: State, agent: AgentName
) -> dict[str, Any]:
    text = message_text(body.text, state)
    return (await call(state.desk.send, conversation_id, agent, text)).model_dump(mode="json")


@router.post(
    "/conversations/{conversation_id}/suggestions",
    summary="Generate 1-3 suggested replies (WRITE actions are proposed, never run)",
    response_model=list[SuggestionOut],
    status_code=201,
    responses=CONVERSATION_DOC,
)
async def suggest(conversation_id: str, state: State, agent: AgentName) -> list[dict[str, Any]]:
    return [s.model_dump(mode="json") for s in await call(state.desk.suggest, conversation_id, agent)]


@router.get(
    "/conversations/{conversation_id}/suggestions",
    summary="Suggested replies of this conversation",
    response_model=list[SuggestionOut],
    responses=CONVERSATION_DOC,
)
async def list_suggestions(conversation_id: str, state: State) -> list[dict[str, Any]]:
    def load() -> list[dict[str, Any]]:
        state.service.conversations.get(conversation_id)  # 404 for unknown ids
        return [s.model_dump(mode="json") for s in state.service.conversations.suggestions(conversation_id)]

    return await call(load)


@router.post(
    "/conversations/{conversation_id}/suggestions/{suggestion_id}",
    summary="Accept, edit or reject a suggestion (accepted and edited ones are sent)",
    response_model=DecisionResponse,
    responses={**CONVERSATION_DOC, **error_docs({422: "Edited without text"})},
)
async def decide(
    conversation_id: str,
    suggestion_id: int,
    body: DecisionRequest,
    state: State,
    agent: AgentName,
) -> dict[str, Any]:
    if not 0 < suggestion_id < 2**31:
        raise HTTPException(status_code=404, detail=f"suggestion {suggestion_id} not found")
    text = message_text(body.text, state) if body.text is not None and body.choice == "edited" else body.text
    suggestion, sent = await call(
        state.desk.decide, conversation_id, suggestion_id, agent, SuggestionChoice(body.choice), text
    )
    return {
        "suggestion": suggestion.model_dump(mode="json"),
        "sent": sent.model_dump(mode="json") if sent is not None else None,
    }


@router.get(
    "/insights",
    summary="ASA, response and resolution times, handoff and honest bot resolution rates, CES, SLA breaches",
    response_model=InsightsOut,
)
async def insights(state: State, limit: int = Query(1000, ge=1, le=10_000)) -> dict[str, Any]:
    """Computed from the store by assistant.insights (the console and GET /insights show the same numbers)."""
    router = state.service.router
    return await call(
        insights_from_store, state.service.conversations, limit, lambda ids: first_taken(router.db, ids)
    )


# --- desk: who am I, status, transfer, assign -------------------------------------------------------------
def is_manager(state: State, agent: str) -> bool:
    managers = state.settings.desk_managers
    return not managers or agent in managers


def require_manager(state: State, agent: str) -> None:
    if not is_manager(state, agent):
        raise HTTPException(status_code=403, detail="only desk managers may do this (settings.desk_managers)")


async def _changed_conversation(
    state: State, conversation_id: str, change: Callable[[], None]
) -> dict[str, Any]:
    """A desk change (off the event loop, like every call), answered with the conversation as it is now."""

    def run() -> dict[str, Any]:
        change()
        return state.service.conversations.get(conversation_id).model_dump(mode="json")

    return await call(run)


@router.get("/me", summary="This key's agent name, desk entry and rights", response_model=MeOut)
async def me(state: State, agent: AgentName) -> dict[str, Any]:
    desk: DeskAgent | None = await call(state.service.router.directory.find_agent, agent)
    return {"agent": agent, "manager": is_manager(state, agent), "desk": desk}


@router.post(
    "/me/status",
    summary="Go online, away or offline (online: waiting conversations are assigned at once)",
    response_model=DeskAgent,
    responses=error_docs({404: "This agent is not on the desk"}),
)
async def set_my_status(body: StatusRequest, state: State, agent: AgentName) -> DeskAgent:
    return await call(state.service.router.set_status, agent, body.status)


@router.post(
    "/conversations/{conversation_id}/transfer",
    summary="Transfer your conversation to another agent (needs a free slot) or a team, with a note",
    response_model=DeskConversationOut,
    responses=CONVERSATION_DOC,
)
async def transfer(
    conversation_id: str, body: TransferRequest, state: State, agent: AgentName
) -> dict[str, Any]:
    def change() -> None:
        state.service.router.transfer(
            conversation_id, agent, to_agent=body.to_agent, to_team=body.to_team, note=body.note
        )

    return await _changed_conversation(state, conversation_id, change)


@router.post(
    "/conversations/{conversation_id}/assign",
    summary="Give a waiting conversation to a named agent (refused for an offline or full agent)",
    response_model=DeskConversationOut,
    responses={**CONVERSATION_DOC, **error_docs({403: "Not a desk manager"})},
)
async def assign(conversation_id: str, body: AssignRequest, state: State, agent: AgentName) -> dict[str, Any]:
    require_manager(state, agent)
    return await _changed_conversation(
        state, conversation_id, lambda: state.service.router.assign_to(conversation_id, body.agent, agent)
    )
