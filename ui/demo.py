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
  Ask a question:      "how long does shipping take?", "how long do refunds take?"
  Check an order:      "where is my order?" then give {g.DEMO_USER_EMAIL}: the assistant mails a
                       6-digit code (the demo's own SMTP sink keeps it: open /dev/outbox), type it back
  Cancel (pending):    "cancel order {g.DEMO_PENDING_ORDER_ID}", give a reason, then "yes"
  Return/exchange:     order {g.DEMO_DELIVERED_ORDER_ID} (delivered); {g.DEMO_PROCESSED_ORDER_ID} is processed
  Second customer:     {g.DEMO_SECOND_USER_EMAIL}, orders \
{g.DEMO_SECOND_DELIVERED_ORDER_ID}, {g.DEMO_SECOND_PENDING_ORDER_ID}
  Ask for a person:    "I want to talk to a human"
  Terminal chat:       parley chat --user-id {g.DEMO_USER_ID}   (the operator's own test: no code needed;
                       scripted: parley chat --script turns.jsonl --json)
"""


def serve_demo(host: str, port: int, settings: Settings | None = None) -> None:
    """Serve the API with the widget; without the API package, fall back to an interactive terminal chat."""
    try:
        from ui.server import create_app
    except ImportError:  # a build without the web API (its extra dependencies) still has the terminal
        from rich.console import Console

        from assistant.chat_cli import interactive_chat

        typer.echo("The web API is not installed in this build; starting a terminal chat instead.")
        interactive_chat(settings or Settings(), None, Console(highlight=False))
        return
    import uvicorn

    from ui.outbox import DevOutbox, outbox_router
    from ui.server import server_options

    # A real SMTP server on loopback receives the sign-in codes; /dev/outbox shows them (demo only).
    outbox = DevOutbox().start()
    try:
        # The demo shows its API docs at /docs.
        chosen = demo_settings(settings or Settings(expose_docs=True), outbox.port)
        application = create_app(chosen, warm=True)
        application.include_router(outbox_router(outbox))
        typer.echo(DEMO_BANNER)
        typer.echo(f"Serving the widget on http://{host}:{port}/demo (Ctrl-C stops)")
        typer.echo(f"Sign-in codes: http://{host}:{port}/dev/outbox (SMTP sink on 127.0.0.1:{outbox.port})")
        uvicorn.run(application, host=host, port=port, timeout_graceful_shutdown=5, **server_options(chosen))
    finally:
        outbox.stop()


DEMO_BANNER = """
!! DEMO MODE: shipped secrets (customer token secret, agent key) are accepted and mail goes to a local
!! sink shown at /dev/outbox. Never expose this server; `parley serve` refuses to run with these secrets."""


def demo_settings(settings: Settings, smtp_port: int) -> Settings:
    """The demo's settings: mail goes to the local SMTP sink on this port (plain SMTP, no login)."""
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_starttls": False,
            "smtp_username": None,
            "email_address": settings.email_address or "help@demo.parley.invalid",
        }
    )
