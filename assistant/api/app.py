"""The FastAPI app: `create_app(settings)` wires routes, limits, CORS and the error format.

The widget's static files and the demo page are mounted one layer up, by `ui.server`, which is what
`parley serve` runs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from assistant.api import (
    routes_agent,
    routes_channels,
    routes_contacts,
    routes_customer,
    routes_desk,
    routes_insights,
    routes_ops,
    routes_queue,
)
from assistant.api.deps import ApiState
from assistant.api.limits import BodySizeLimitMiddleware
from assistant.identity.policy import policy_warning
from assistant.service import SupportService
from knowledge.settings import Settings

log = logging.getLogger(__name__)

DESCRIPTION = """
Parley's HTTP API.

* **Customers** start a conversation (optionally with a signed `customer_token` from the shop) and keep the
  returned `secret`; every later call sends it as `X-Conversation-Secret`. An unknown id and a wrong or
  missing secret give the same 404.
* **Agents** authenticate with `Authorization: Bearer <key>` (or `X-Agent-Key`).
* Every error is JSON: `{"detail": "a readable reason"}`.
"""


def readable_validation_error(exc: RequestValidationError) -> str:
    """One sentence out of pydantic's error list, e.g. `body.text: Field required`."""
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        if error.get("type") == "json_invalid":
            ctx = error.get("ctx") or {}
            parts.append(f"request body is not valid JSON ({ctx.get('error', 'parse error')})")
        elif error.get("type") == "missing" and location == "body":
            parts.append("request body is required")
        else:
            parts.append(f"{location}: {error.get('msg', 'invalid value')}")
    return "; ".join(parts) or "invalid request"


# --- warm-up and readiness (retrieval work, issue 15) ------------------------------------------------
def warm_up(service: SupportService) -> list[str]:
    """Load the embedding model, intents, guard, index and its BM25 snapshot before the first customer
    waits for them (`parley serve` runs this before uvicorn opens the port). A damaged or missing index
    does not stop the server: it is logged and returned, and /readyz reports it until it is repaired."""
    problems: list[str] = []
    _ = service.parts.agent, service.parts.guard, service.conversations
    try:
        service.help_center.index.warm()
    except Exception as exc:  # the assistant still starts: search degrades to a handover
        log.error("help-centre index unavailable at start-up: %s", exc)
        problems.append(f"index: {type(exc).__name__}")
    # The intent exemplars are embedded on the first classification: do it now, not for a customer.
    service.parts.planner.intents.classify("hello")
    return problems


# -----------------------------------------------------------------------------------------------------


def create_app(
    settings: Settings,
    service: SupportService | None = None,
    warm: bool = False,
    cors: Sequence[str] | None = None,
) -> FastAPI:
    """The app for these settings. `warm=True` loads models at startup (what `parley serve` does)."""
    state = ApiState(settings=settings, service=service or SupportService(settings))
    warning = policy_warning(settings.identity_policy)  # τ²-bench's identity policy says so at every start
    if warning is not None:
        log.warning(warning)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            await run_in_threadpool(warm_up, state.service)
        app.state.warmed = True  # readiness (/readyz): the first customer is served as fast as the 100th
        yield
        if "turn_pool" in state.__dict__:  # turns under way finish (their replies are stored), then it ends
            state.__dict__.pop("turn_pool").shutdown(wait=True)

    app = FastAPI(  # /docs, /redoc and /openapi.json only with settings.expose_docs (off by default)
        title="Parley API",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if settings.expose_docs else None,
        redoc_url="/redoc" if settings.expose_docs else None,
        openapi_url="/openapi.json" if settings.expose_docs else None,
        openapi_tags=[
            {"name": "customer", "description": "The widget's calls (conversation secret required)"},
            {"name": "agent", "description": "Human agents (agent key required)"},
            {"name": "ops", "description": "Health and metrics"},
        ],
    )
    app.state.parley = state
    app.state.warmed = False

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": readable_validation_error(exc)})

    @app.exception_handler(OperationalError)
    async def store_down(request: Request, exc: OperationalError) -> JSONResponse:
        state.metrics.errors.labels(kind="store").inc()
        log.exception("database error")
        return JSONResponse(status_code=503, content={"detail": "storage is unavailable, try again shortly"})

    app.include_router(routes_customer.router)
    app.include_router(routes_agent.router)
    app.include_router(routes_ops.router)
    if settings.expose_metrics:
        app.include_router(routes_ops.metrics_router)
    app.include_router(routes_channels.router)
    app.include_router(routes_contacts.router)
    app.include_router(routes_desk.router)  # desk: teams, agents, macros
    app.include_router(routes_queue.router)  # desk: the customer's queue position, close, CES
    app.include_router(routes_insights.router)  # desk: GET /insights (JSON, CSV, PNG)

    # Last added = outermost: CORS headers then also reach the 413s of the size limit.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(cors if cors is not None else settings.cors_origins),
        allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
        allow_headers=["Content-Type", "Accept", "X-Conversation-Secret", "Authorization", "X-Agent-Key"],
        expose_headers=["Retry-After"],
        max_age=600,
    )
    return app


def openapi_document(settings: Settings) -> dict[str, Any]:
    return create_app(settings).openapi()
