"""Operations: health (store and index) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import State
from assistant.api.metrics import CONTENT_TYPE
from assistant.api.schemas import HealthResponse

router = APIRouter(tags=["ops"])


def check_store(state: State) -> str:
    state.service.conversations.list_conversations(limit=1)
    return "ok"


def check_index(state: State) -> str:
    client = state.service.help_center.index.client
    collection = client.get_collection(state.settings.help_collection)
    chunks = collection.count()
    if chunks == 0:
        raise RuntimeError("help-centre index is empty (run `parley ingest`)")
    return "ok"


@router.get(
    "/healthz",
    summary="Store and index health",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "A dependency is down; `checks` says why"}},
)
async def healthz(state: State) -> Any:
    checks: dict[str, str] = {}
    for name, check in (("store", check_store), ("index", check_index)):
        try:
            checks[name] = await run_in_threadpool(check, state)
        except Exception as exc:
            checks[name] = f"down: {type(exc).__name__}: {exc}"[:300]
    healthy = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    return body if healthy else JSONResponse(status_code=503, content=body)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
async def metrics(state: State) -> Response:
    return Response(content=state.metrics.render(), media_type=CONTENT_TYPE)
