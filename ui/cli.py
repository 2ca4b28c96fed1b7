"""`parley serve` (API + widget), `parley demo` and `parley console` (the Streamlit agent console)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

CONSOLE_APP = Path(__file__).resolve().parent / "console.py"


def register(app: typer.Typer) -> None:
    """Add this package's commands to `parley`."""
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.command("console")(console)


def console_command(port: int, host: str) -> list[str]:
    """The streamlit command line (no secrets on it: the key travels in the environment)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(CONSOLE_APP),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        host,
        "--client.toolbarMode",
        "minimal",
        "--browser.gatherUsageStats",
        "false",
    ]


def console(
    api_url: str | None = typer.Option(
        None, "--api-url", help="The Parley API (default: PARLEY_API_URL or http://127.0.0.1:8000)"
    ),
    port: int = typer.Option(8501, "--port", min=1, max=65535),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface the console listens on"),
    refresh: float = typer.Option(5.0, "--refresh", min=1.0, max=3600.0, help="Queue refresh, seconds"),
) -> None:
    """Open the agent console (queue, conversations, suggested replies, insights, team) in a browser.

    Each agent signs in in the browser with their own agent key; the key is kept in that browser session
    only, never in the environment or on a command line."""
    from knowledge.settings import Settings

    settings = Settings()
    url = (api_url or settings.api_url).rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise typer.BadParameter(f"must start with http:// or https:// (got {url!r})", param_hint="--api-url")
    # Nothing secret goes to Streamlit: a key left in the environment is dropped.
    env = {k: v for k, v in os.environ.items() if k != "PARLEY_AGENT_KEY"}
    env.update({"PARLEY_API_URL": url, "PARLEY_CONSOLE_REFRESH_S": str(refresh)})
    typer.echo(f"Parley console on http://{host}:{port} (API {url}); sign in with your agent key")
    try:
        completed = subprocess.run(console_command(port, host), env=env, check=False)
    except KeyboardInterrupt:
        return
    if completed.returncode not in (0, -2, 130):
        raise typer.Exit(completed.returncode)


UNSAFE_EXIT_CODE = 2
INSECURE_BANNER = """
!! INSECURE DEMO: {problems}.
!! Anybody who knows these secrets can sign in as any customer or open every agent route. Never expose
!! this server; set PARLEY_CUSTOMER_TOKEN_SECRET and PARLEY_AGENT_KEYS to random values of 32+ bytes."""


def unsafe_message(problems: list[str]) -> str:
    """Why `parley serve` will not start, and what to do about it."""
    return (
        "parley serve: refusing to start with unsafe secrets: "
        + "; ".join(problems)
        + '.\nSet PARLEY_CUSTOMER_TOKEN_SECRET and PARLEY_AGENT_KEYS (JSON: {"name": "key"}) to random '
        "values of 32 bytes or more, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'.\n"
        "For a local demo only: parley demo, or parley serve --insecure-demo."
    )


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="uvicorn worker processes"),
    log_level: str = typer.Option("info", "--log-level"),
    insecure_demo: bool = typer.Option(
        False, "--insecure-demo", help="Run even with default or short secrets (a local demo, never exposed)"
    ),
) -> None:
    """Serve the HTTP API, the widget (/widget/widget.js) and the demo shop page (/demo).

    Refuses to start (exit code 2) while the customer token secret or an agent key is a shipped default or
    shorter than 32 bytes, unless --insecure-demo is given."""
    import uvicorn

    from assistant.identity.policy import weak_secrets
    from knowledge.settings import Settings

    settings = Settings()
    problems = weak_secrets(settings.customer_token_secret, settings.agent_keys)
    if problems and not insecure_demo:
        typer.echo(unsafe_message(problems), err=True)
        raise typer.Exit(UNSAFE_EXIT_CODE)
    if problems:
        typer.echo(INSECURE_BANNER.format(problems="; ".join(problems)), err=True)

    typer.echo(f"Parley API on http://{host}:{port} (demo page: http://{host}:{port}/demo)")
    uvicorn.run(
        "ui.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=5,
    )


def demo(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port of the demo server.")] = 8000,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Build the sample shop and help centre, print how to try it.")
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Interface to serve on.")] = "127.0.0.1",
) -> None:
    """Build the sample shop and help centre (once), print how to try it, then serve the widget."""
    from ui.demo import prepare_demo, serve_demo

    prepare_demo()
    if not no_serve:
        serve_demo(host, port)
