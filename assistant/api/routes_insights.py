"""`GET /insights` (agent key): the desk's figures overall and by day, team, channel or agent, as JSON or
CSV; `GET /insights/chart.png` draws one of them (matplotlib) for places that cannot draw charts."""

from __future__ import annotations

import io
from typing import Any, Literal

from fastapi import HTTPException, Query
from fastapi.responses import Response

from assistant.api.deps import State, agent_router
from assistant.api.routes_agent import call
from assistant.api.schemas_desk import InsightsOut
from assistant.insights import facts_csv, facts_from_store, grouped, grouped_csv, insights_from_store
from assistant.routing.history import first_taken

router = agent_router("agent")
Group = Literal["day", "team", "channel", "agent"]
CHART_METRICS = (
    "conversations",
    "handoff_rate",
    "asa_s",
    "first_response_s",
    "resolution_s",
    "bot_resolution_rate",
    "ces_mean",
    "sla_breaches",
)


def _reader(state: State) -> Any:
    db = state.service.router.db
    return lambda ids: first_taken(db, ids)


@router.get(
    "/insights",
    summary="Desk insights: ASA, response and resolution times, handoff and honest bot resolution "
    "rates, CES, "
    "SLA breaches; by day, team, channel, agent; JSON or CSV",
    response_model=InsightsOut,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}},
)
async def insights(
    state: State,
    format: Literal["json", "csv"] = Query("json", description="csv: one row per conversation, or per group"),
    by: Group | None = Query(None, description="With format=csv: one row per day, team, channel or agent"),
    limit: int = Query(1000, ge=1, le=10_000, description="The latest conversations to count"),
) -> Any:
    store = state.service.conversations
    if format == "json":
        return await call(insights_from_store, store, limit, _reader(state))
    rows = await call(facts_from_store, store, limit, _reader(state))
    body = grouped_csv(grouped(rows, by)) if by else facts_csv(rows)
    name = f"parley-insights-{by or 'conversations'}.csv"
    return Response(
        body, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.get(
    "/insights/chart.png",
    summary="One figure by day, team, channel or agent as a PNG bar chart",
    responses={200: {"content": {"image/png": {}}}},
)
async def chart(
    state: State,
    metric: str = Query("asa_s", description=f"One of {', '.join(CHART_METRICS)}"),
    by: Group = Query("day"),
    limit: int = Query(1000, ge=1, le=10_000),
) -> Response:
    if metric not in CHART_METRICS:
        raise HTTPException(status_code=422, detail=f"metric must be one of {', '.join(CHART_METRICS)}")
    rows = await call(facts_from_store, state.service.conversations, limit, _reader(state))
    groups = grouped(rows, by)
    png = await call(_draw, [str(g[by]) for g in groups], [g.get(metric) for g in groups], metric, by)
    return Response(png, media_type="image/png")


def _draw(labels: list[str], values: list[Any], metric: str, by: str) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.subplots()
    axes.bar(labels, [0 if v is None else v for v in values], color="#2f5d46")
    axes.set_title(f"{metric.replace('_', ' ')} by {by}")
    axes.tick_params(axis="x", labelrotation=30)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
