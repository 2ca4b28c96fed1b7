"""Shop data commands: import-orders, export-orders, generate-shop (registered on `parley`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from assistant.shop.schema import ShopData
    from knowledge.settings import Settings

DATABASE_URL_HELP = (
    "SQLAlchemy URL of the database (default: PARLEY_DATABASE_URL or a SQLite file in the data dir)."
)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _settings(database_url: str | None) -> Settings:
    from knowledge.settings import Settings

    settings = Settings()
    if database_url:
        settings.database_url = database_url
    return settings


def _load_into_database(data: ShopData, settings: Settings, replace: bool) -> None:
    """Migrate, then import in one transaction with a progress bar; print the summary."""
    from sqlalchemy.exc import SQLAlchemyError

    from assistant.shop.store import ShopDataError, ShopStore
    from knowledge.progress import progress_bar

    assert settings.database_url is not None  # Settings derives one when none is configured
    store = ShopStore(settings.database_url)
    total = len(data.products) + len(data.users) + len(data.orders)
    try:
        store.migrate()
        with progress_bar("importing", transient=True) as bar:
            task = bar.add_task("import", total=total)
            summary = store.import_data(data, replace=replace, progress=lambda n: bar.advance(task, n))
    except ShopDataError as exc:
        raise _fail(f"nothing was imported: {exc}") from None
    except SQLAlchemyError as exc:
        raise _fail(f"nothing was imported: database error: {exc.__class__.__name__}: {exc}") from None
    typer.echo(f"Imported {summary.describe()} into {_redacted(settings.database_url)}")


def _index_orders(data: ShopData, settings: Settings, reindex: bool) -> None:
    from assistant.shop.orders_index import OrdersIndex
    from knowledge.embeddings import EmbeddingError
    from knowledge.index import KnowledgeIndexError

    index = OrdersIndex(settings)
    try:
        if reindex:
            index.reset()
        embedded = index.index_orders(data.orders.values(), prune=True)
    except (KnowledgeIndexError, EmbeddingError) as exc:
        raise _fail(f"the orders were stored, but indexing them failed: {exc}") from None
    typer.echo(
        f"Indexed orders into collection {index.collection_name!r}: {embedded} embedded, "
        f"{len(data.orders) - embedded} unchanged"
    )


def _redacted(url: str) -> str:
    """The URL without its password (safe to print)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def import_orders(
    path: Path = typer.Argument(..., help="The shop data file (τ² retail db.json shape)."),
    fmt: str = typer.Option("tau2", "--format", help="File format; only 'tau2' for now."),
    database_url: str | None = typer.Option(None, "--database-url", help=DATABASE_URL_HELP),
    append: bool = typer.Option(False, "--append", help="Add to the shop instead of replacing it."),
    no_index: bool = typer.Option(False, "--no-index", help="Do not (re)index the orders in Chroma."),
    reindex: bool = typer.Option(
        False, "--reindex", help="Drop the orders collection and embed every order."
    ),
) -> None:
    """Import products, users and orders from a file, in one transaction, then index the orders."""
    from assistant.shop.tau2_io import check_format, read_tau2
    from assistant.shop.validation import ShopDataError

    try:
        check_format(fmt)
        data = read_tau2(path)
    except ShopDataError as exc:
        raise _fail(str(exc)) from None
    settings = _settings(database_url)
    _load_into_database(data, settings, replace=not append)
    if not no_index:
        if append:
            from assistant.shop.store import ShopStore

            assert settings.database_url is not None
            data = ShopStore(
                settings.database_url
            ).export_data()  # index the whole shop, not only the new part
        _index_orders(data, settings, reindex)


def export_orders(
    path: Path = typer.Argument(..., help="Where to write the shop data."),
    fmt: str = typer.Option("tau2", "--format", help="File format; only 'tau2' for now."),
    database_url: str | None = typer.Option(None, "--database-url", help=DATABASE_URL_HELP),
) -> None:
    """Export the whole shop (products, users, orders) to a file."""
    from sqlalchemy.exc import SQLAlchemyError

    from assistant.shop.store import ShopDataError, ShopStore
    from assistant.shop.tau2_io import check_format, write_tau2

    try:
        check_format(fmt)
    except ShopDataError as exc:
        raise _fail(str(exc)) from None
    settings = _settings(database_url)
    assert settings.database_url is not None
    store = ShopStore(settings.database_url)
    try:
        store.migrate()
        data = store.export_data()
        write_tau2(data, path)
    except SQLAlchemyError as exc:
        raise _fail(f"database error: {exc.__class__.__name__}: {exc}") from None
    except OSError as exc:
        raise _fail(f"cannot write {path}: {exc.strerror or exc}") from None
    typer.echo(
        f"Exported {len(data.products)} products, {len(data.users)} users, "
        f"{len(data.orders)} orders to {path}"
    )


def generate_shop_command(
    seed: int = typer.Option(7, "--seed", help="Same seed, same shop."),
    users: int = typer.Option(300, "--users", help="Customers, the demo customers included."),
    orders: int = typer.Option(600, "--orders", help="Orders, the demo customers' orders included."),
    out: Path | None = typer.Option(None, "--out", help="Write the shop as τ² JSON to this file."),
    load: bool = typer.Option(False, "--load", help="Load it into the database (replacing the shop there)."),
    database_url: str | None = typer.Option(None, "--database-url", help=DATABASE_URL_HELP),
    no_index: bool = typer.Option(
        False, "--no-index", help="With --load: do not index the orders in Chroma."
    ),
    reindex: bool = typer.Option(False, "--reindex", help="With --load: drop the orders collection first."),
) -> None:
    """Generate the fictional "Maple & Moss" sample shop (deterministic for a seed)."""
    from assistant.shop.generator import DEMO_USER_EMAIL, DEMO_USER_ID, SHOP_NAME, generate_shop
    from assistant.shop.tau2_io import write_tau2

    if out is None and not load:
        raise _fail("nothing to do: give --out FILE.json and/or --load")
    try:
        data = generate_shop(seed=seed, users=users, orders=orders)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(
        f"Generated {SHOP_NAME}: {len(data.products)} products, {len(data.users)} users, {len(data.orders)} "
        f"orders (seed {seed}; demo customer {DEMO_USER_ID} <{DEMO_USER_EMAIL}>)"
    )
    if out is not None:
        try:
            write_tau2(data, out)
        except OSError as exc:
            raise _fail(f"cannot write {out}: {exc.strerror or exc}") from None
        typer.echo(f"Wrote {out}")
    if load:
        settings = _settings(database_url)
        _load_into_database(data, settings, replace=True)
        if not no_index:
            _index_orders(data, settings, reindex)


def register(app: typer.Typer) -> None:
    """Add this package's commands to `parley`."""
    app.command("import-orders")(import_orders)
    app.command("export-orders")(export_orders)
    app.command("generate-shop")(generate_shop_command)
