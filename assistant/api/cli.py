"""`parley issue-token` (`parley serve`, which also serves the widget, is in ui.cli)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to `parley`."""
    app.command("issue-token")(issue_token)


def issue_token(
    user_id: str = typer.Argument(..., help="Shop user id, e.g. emma_laurent_1001"),
    ttl: int = typer.Option(3600, "--ttl", min=1, help="Seconds the token stays valid"),
) -> None:
    """Print a signed customer token (what the shop's backend would issue) for the widget's
    data-customer-token."""
    from assistant.identity.tokens import issue_customer_token
    from knowledge.settings import get_settings

    try:
        token = issue_customer_token(user_id, get_settings().customer_token_secret, ttl=ttl)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(token)
