"""The served app: the HTTP API (`assistant.api`) plus the widget's static files and the demo shop page.

This is what `parley serve` and `parley demo` run. The API itself knows nothing of the widget: the UI layer
mounts its own files on top of it, so imports go one way (ui -> api).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from assistant.api.app import create_app as create_api_app
from assistant.service import SupportService
from knowledge.settings import Settings

WIDGET_DIR = Path(__file__).resolve().parent / "widget"


def create_app(settings: Settings, service: SupportService | None = None, warm: bool = False) -> FastAPI:
    """The API for these settings with `/widget/*`, `/demo` and `/` (a redirect to the demo page)."""
    app = create_api_app(settings, service=service, warm=warm)
    app.mount("/widget", StaticFiles(directory=WIDGET_DIR), name="widget")

    @app.get("/demo", include_in_schema=False)
    async def demo() -> FileResponse:
        return FileResponse(WIDGET_DIR / "demo.html", media_type="text/html")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/demo")

    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn (`--factory`): each worker reads Settings from the environment and warms up."""
    return create_app(Settings(), warm=True)


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options for the HTTP edges (issue 11): the pure-Python h11 parser with a limit on all request
    headers together (httptools, uvicorn's default when installed, accepted a 64 MB header), and uvicorn's
    own X-Forwarded-For handling off (it believes any proxy on 127.0.0.1); the API reads that header only
    from `settings.trusted_proxies` (assistant/api/client_ip.py)."""
    return {
        "http": "h11",
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "proxy_headers": False,
        "server_header": False,
        # Longer than a customer's pause between messages (the widget keeps its connection): uvicorn's 5 s
        # closed idle connections just as clients reused them (httpx ReadError, 2 in 2,741 soak turns).
        "timeout_keep_alive": 75,
    }
