"""Operations: liveness (/livez), readiness (/readyz), health (store and index) and Prometheus metrics.

- `/livez`: the process answers (restart it only when this fails).
- `/readyz`: warm-up finished and store and index answer: route customers here only when this is 200.
- `/healthz`: the dependency checks alone (a damaged or missing index shows here as "degraded"); with a
  remote model, also its circuit breaker. An open circuit makes the status "degraded" but not a 503: the
  offline planner answers meanwhile.

Each check says one status word (ok, down, degraded, empty, warming up); the reason is in the server log.
`/metrics` exists only with `expose_metrics` (off by default).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import State
from assistant.api.metrics import CONTENT_TYPE
from assistant.api.schemas import HealthResponse

router = APIRouter(tags=["ops"])
metrics_router = APIRouter(tags=["ops"])  # included only with settings.expose_metrics
log = logging.getLogger(__name__)
STATUS_WORDS = frozenset({"ok", "down", "degraded", "empty", "warming up"})


class IndexEmpty(RuntimeError):
    """The index answers but holds nothing yet."""


def check_store(state: State) -> str:
    state.service.conversations.list_conversations(limit=1)
    return "ok"


def check_index(state: State) -> str:
    """Returns "ok" or raises: the index reads a row, so a corrupt or moved index fails here."""
    from knowledge.chroma import IndexUnavailable, KnowledgeIndexError

    try:
        return str(state.service.help_center.index.health())
    except IndexUnavailable as exc:
        log.error("help-centre index unavailable: %s", exc)
        raise RuntimeError("unavailable (damaged or missing index; see the server log)") from exc
    except KnowledgeIndexError as exc:
        if "empty" in str(exc):
            raise IndexEmpty("help-centre index is empty (run `parley ingest`)") from exc
        raise


def check_model(state: State) -> str | None:
    """The remote model's circuit breaker ("ok" while closed); None with the offline provider."""
    if state.service.provider != "openai":
        return None
    return state.service.parts.model_breaker.status().describe()


def status_word(value: Any) -> str:
    """What a check may say in public: a status word. The reason goes to the server log only (issue 11:
    /healthz showed exception text, with database URLs and file paths in it)."""
    word = str(value)
    return word if word in STATUS_WORDS else "degraded"


async def run_checks(state: State) -> dict[str, str]:
    checks: dict[str, str] = {}
    for name, check in (("store", check_store), ("index", check_index)):
        try:
            checks[name] = status_word(await run_in_threadpool(check, state))
        except IndexEmpty:
            log.warning("health check %s: the help-centre index is empty (run `parley ingest`)", name)
            checks[name] = "empty"
        except Exception as exc:
            log.warning("health check %s failed: %s: %s", name, type(exc).__name__, exc)
            checks[name] = "down"
    return checks


@router.get(
    "/healthz",
    summary="Store and index health",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "A dependency is down; `checks` says why"}},
)
async def healthz(state: State) -> Any:
    checks = await run_checks(state)
    healthy = all(v == "ok" for v in checks.values())
    model = check_model(state)
    if model is not None:
        checks["model"] = model
    body = {"status": "ok" if healthy and model in (None, "ok") else "degraded", "checks": checks}
    return body if healthy else JSONResponse(status_code=503, content=body)


@router.get("/livez", summary="Liveness: the process answers", response_model=HealthResponse)
async def livez() -> Any:
    return {"status": "ok", "checks": {}}


@router.get(
    "/readyz",
    summary="Readiness: warmed up, store and index answer",
    response_model=HealthResponse,
    responses={
        503: {"model": HealthResponse, "description": "Not ready yet, or degraded; `checks` says why"}
    },
)
async def readyz(request: Request, state: State) -> Any:
    checks = {"warm_up": "ok" if getattr(request.app.state, "warmed", False) else "warming up"}
    checks.update(await run_checks(state))
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ready else "degraded", "checks": checks}
    return body if ready else JSONResponse(status_code=503, content=body)


@metrics_router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
async def metrics(state: State) -> Response:
    return Response(content=state.metrics.render(), media_type=CONTENT_TYPE)
