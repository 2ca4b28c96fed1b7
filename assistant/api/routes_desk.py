"""Desk management (agent key; changes need a desk manager, see settings.desk_managers): teams with skills,
business hours and a lead webhook; agents with capacity, working hours and status; canned responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Path, Query

from assistant.api.deps import AgentName, State, agent_router
from assistant.api.routes_agent import call, require_manager
from assistant.api.schemas import error_docs
from assistant.api.schemas_desk import DeskConfigOut, RenderedMacro, StatusRequest
from assistant.routing.classify import topics
from assistant.routing.directory import AgentSpec, DeskAgent, Team, TeamSpec
from assistant.routing.macros import VARIABLES, Macro, MacroSpec, render, search, variables_for
from assistant.routing.models import Stage
from assistant.routing.notices import languages
from assistant.routing.sla import BAND_NAMES

T = TypeVar("T")
MacroId = Annotated[int, Path(ge=1, lt=2**31, description="The macro's id")]
router = agent_router(
    "desk",
    "/v1/desk",
    error_docs(
        {
            403: "Not a desk manager",
            404: "No such team, agent or macro",
            409: "The desk's state forbids it",
            422: "Invalid input (hours, skills, capacity...)",
        }
    ),
)


def _may_save(state: State, agent: str, path_id: str, body_id: str, what: str) -> None:
    """A PUT of a team or an agent: a desk manager only, with the same id in the path and the body."""
    require_manager(state, agent)
    if path_id != body_id:
        raise HTTPException(status_code=422, detail=f"the {what} in the path and in the body differ")


async def _as_manager(state: State, agent: str, change: Callable[..., T], *args: Any) -> T:
    """A change only a desk manager may make, run off the event loop like every call."""
    require_manager(state, agent)
    return await call(change, *args)


@router.get(
    "/config",
    summary="Topics, journey stages, SLA bands and targets, priority rules",
    response_model=DeskConfigOut,
)
async def config(state: State) -> dict[str, Any]:
    settings = state.settings
    return {
        "topics": topics(),
        "stages": [s.value for s in Stage],
        "bands": list(BAND_NAMES),
        "languages": languages(),
        "sla": settings.desk_sla,
        "rules": settings.desk_priority_rules,
        "variables": list(VARIABLES),
    }


# --- teams -----------------------------------------------------------------------------------------
@router.get("/teams", summary="Teams with their skills, hours and members", response_model=list[Team])
async def list_teams(state: State) -> list[Team]:
    return await call(state.service.router.directory.teams)


@router.put("/teams/{team_id}", summary="Create or update a team", response_model=Team)
async def save_team(team_id: str, body: TeamSpec, state: State, agent: AgentName) -> Team:
    _may_save(state, agent, team_id, body.id, "team id")
    return await call(state.service.router.directory.save_team, body)


@router.delete(
    "/teams/{team_id}", summary="Delete a team (refused while it has open conversations)", status_code=204
)
async def delete_team(team_id: str, state: State, agent: AgentName) -> None:
    await _as_manager(state, agent, state.service.router.directory.delete_team, team_id)


# --- agents ----------------------------------------------------------------------------------------
@router.get("/agents", summary="Agents: status, capacity, load, teams", response_model=list[DeskAgent])
async def list_agents(state: State) -> list[DeskAgent]:
    return await call(state.service.router.directory.agents)


@router.put(
    "/agents/{name}", summary="Add or update an agent (name = the agent key's name)", response_model=DeskAgent
)
async def save_agent(name: str, body: AgentSpec, state: State, agent: AgentName) -> DeskAgent:
    _may_save(state, agent, name, body.name, "agent name")
    if body.name not in state.settings.agent_keys:
        raise HTTPException(status_code=422, detail=f"{body.name!r} has no agent key (settings.agent_keys)")
    return await call(state.service.router.directory.save_agent, body)


@router.delete(
    "/agents/{name}", summary="Remove an agent (refused while they hold conversations)", status_code=204
)
async def delete_agent(name: str, state: State, agent: AgentName) -> None:
    await _as_manager(state, agent, state.service.router.directory.delete_agent, name)


@router.post(
    "/agents/{name}/status",
    summary="Set an agent's status (yourself, or anyone as a manager)",
    response_model=DeskAgent,
)
async def set_status(name: str, body: StatusRequest, state: State, agent: AgentName) -> DeskAgent:
    if name != agent:
        require_manager(state, agent)
    return await call(state.service.router.set_status, name, body.status)


@router.post("/sweep", summary="Run the desk's clock work now (opening, re-assignment, SLA escalation)")
async def sweep(state: State, agent: AgentName) -> dict[str, Any]:
    report = await _as_manager(state, agent, state.service.router.sweep)
    return report.as_dict()


# --- canned responses ----------------------------------------------------------------------------
@router.get(
    "/macros", summary="Canned responses, searched by words (title, body, tags)", response_model=list[Macro]
)
async def list_macros(
    state: State,
    q: str = Query("", max_length=200, description="Words that must all appear"),
    language: str | None = Query(None, pattern=r"^[a-z]{2}$", description="Put this language first"),
) -> list[Macro]:
    macros: list[Macro] = await call(state.service.router.macros.all)
    return search(macros, q, language)


@router.post("/macros", summary="Add a canned response", response_model=Macro, status_code=201)
async def create_macro(body: MacroSpec, state: State, agent: AgentName) -> Macro:
    return await call(state.service.router.macros.create, body, agent)


@router.delete("/macros/{macro_id}", summary="Delete a canned response", status_code=204)
async def delete_macro(macro_id: MacroId, state: State, agent: AgentName) -> None:
    await _as_manager(state, agent, state.service.router.macros.delete, macro_id)


@router.get(
    "/macros/{macro_id}/render",
    summary="A canned response filled in for one conversation (customer name, order id...)",
    response_model=RenderedMacro,
)
async def render_macro(
    macro_id: MacroId, state: State, agent: AgentName, conversation_id: str = Query(..., max_length=64)
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        macro = state.service.router.macros.get(macro_id)
        conversation = state.service.conversations.get(conversation_id)
        customer, orders = state.desk.customer_profile(conversation)
        values = variables_for(customer, orders, agent, state.settings.shop_name)
        text, missing = render(macro.body, values)
        return {"macro": macro, "text": text, "missing": missing}

    return await call(run)
