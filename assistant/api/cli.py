"""`parley serve` and `parley issue-token`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to `parley`."""
    app.command("serve")(serve)
    app.command("issue-token")(issue_token)


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="uvicorn worker processes"),
    log_level: str = typer.Option("info", "--log-level"),
) -> None:
    """Serve the HTTP API, the widget (/widget/widget.js) and the demo shop page (/demo)."""
    import uvicorn

    typer.echo(f"Parley API on http://{host}:{port} (demo page: http://{host}:{port}/demo)")
    uvicorn.run(
        "assistant.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        timeout_graceful_shutdown=5,
    )


def issue_token(
    user_id: str = typer.Argument(..., help="Shop user id, e.g. emma_laurent_1001"),
    ttl: int = typer.Option(3600, "--ttl", min=1, help="Seconds the token stays valid"),
) -> None:
    """Print a signed customer token (what the shop's backend would issue) for the widget's
    data-customer-token."""
    from assistant.api.tokens import issue_customer_token
    from assistant.settings import get_settings

    try:
        token = issue_customer_token(user_id, get_settings().customer_token_secret, ttl=ttl)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(token)
