"""`parley demo`: the sample shop and help centre built once, a how-to, then the widget (or a terminal chat).

Idempotent: the shop is generated only when the demo customer is missing, and the help-centre ingest is
keyed by content hash, so a second run embeds nothing.
"""

from __future__ import annotations

from pathlib import Path

import typer

import knowledge
from knowledge.settings import Settings

SAMPLE_DATA = Path(knowledge.__file__).resolve().parent / "sample_data"


def sample_sources() -> list[Path]:
    return [SAMPLE_DATA / "help_center", SAMPLE_DATA / "faq.csv"]


def shop_is_loaded(settings: Settings) -> bool:
    from assistant.shop.generator import DEMO_USER_ID
    from assistant.shop.store import ShopStore

    store = ShopStore(str(settings.database_url))
    store.migrate()
    with store.transaction() as shop:
        return shop.get_user(DEMO_USER_ID) is not None


def prepare_demo(settings: Settings | None = None) -> Settings:
    """Load the sample shop and ingest the sample help centre where they are missing; print the how-to."""
    from assistant.shop.cli import generate_shop_command
    from knowledge.index import HelpCenterIndex

    settings = settings or Settings()
    settings.ensure_data_dir()
    if shop_is_loaded(settings):
        typer.echo(f"Sample shop already loaded in {settings.database_url}")
    else:
        generate_shop_command(
            seed=7,
            users=300,
            orders=600,
            out=None,
            load=True,
            database_url=settings.database_url,
            no_index=False,
            reindex=False,
        )
    report = HelpCenterIndex(settings).ingest(sample_sources(), prune=False, progress=False)
    typer.echo(
        f"Help centre: {len(report.added)} articles added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged ({report.seconds:.1f} s)"
    )
    typer.echo(how_to(settings))
    return settings


def how_to(settings: Settings) -> str:
    from assistant.shop import generator as g

    return f"""
{settings.shop_name} demo: things to try (offline assistant, no API key needed)
  Ask a question:      "how long does shipping take?", "can I return a sale item?"
  Check an order:      "where is my order?" then sign in as {g.DEMO_USER_EMAIL}
                       (or "{g.DEMO_USER_FIRST_NAME} {g.DEMO_USER_LAST_NAME}, zip {g.DEMO_USER_ZIP}")
  Cancel (pending):    "cancel order {g.DEMO_PENDING_ORDER_ID}", give a reason, then "yes"
  Return/exchange:     order {g.DEMO_DELIVERED_ORDER_ID} (delivered); {g.DEMO_PROCESSED_ORDER_ID} is processed
  Second customer:     {g.DEMO_SECOND_USER_EMAIL} (zip {g.DEMO_SECOND_USER_ZIP}), orders \
{g.DEMO_SECOND_DELIVERED_ORDER_ID}, {g.DEMO_SECOND_PENDING_ORDER_ID}
  Ask for a person:    "I want to talk to a human"
  Terminal chat:       parley chat   (scripted: parley chat --script turns.jsonl --json)
"""


def serve_demo(host: str, port: int, settings: Settings | None = None) -> None:
    """Serve the API with the widget; without the API package, fall back to an interactive terminal chat."""
    try:
        from ui.server import create_app
    except ImportError:  # a build without the web API (its extra dependencies) still has the terminal
        from rich.console import Console

        from assistant.chat_cli import interactive_chat
        from assistant.service import SupportService

        typer.echo("The web API is not installed in this build; starting a terminal chat instead.")
        interactive_chat(SupportService(settings or Settings()), None, Console(highlight=False))
        return
    import uvicorn

    from ui.server import server_options

    chosen = settings or Settings(expose_docs=True)  # the demo shows its API docs at /docs
    application = create_app(chosen, warm=True)
    typer.echo(f"Serving the widget on http://{host}:{port}/demo (Ctrl-C stops)")
    uvicorn.run(application, host=host, port=port, timeout_graceful_shutdown=5, **server_options(chosen))
