"""The `parley` command. Each part of Parley registers its own commands; heavy imports stay inside them."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="parley",
    help="Parley: an open-source AI support desk (offline by default, no API key needed).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _register_all() -> None:
    from assistant import chat_cli
    from assistant.api import cli as api_cli
    from assistant.channels import cli as channels_cli
    from assistant.shop import cli as shop_cli
    from assistant.tools import cli as tools_cli
    from eval import cli as eval_cli
    from eval.guard import cli as guard_cli
    from knowledge import cli as knowledge_cli
    from ui import cli as ui_cli

    for module in (knowledge_cli, shop_cli, tools_cli, chat_cli, guard_cli, eval_cli, api_cli, ui_cli):
        module.register(app)
    channels_cli.register(app)  # parley worker


@app.command()
def version() -> None:
    """Print Parley's version."""
    from importlib.metadata import version as dist_version

    typer.echo(dist_version("parley"))


_register_all()

if __name__ == "__main__":
    app()
