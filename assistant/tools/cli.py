"""CLI commands of this package, registered on the `parley` app by assistant.cli."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to `parley`."""
    app.command("replay-actions")(replay_actions)


def replay_actions(
    db: Path = typer.Option(..., "--db", help="τ² retail db.json to start from."),
    actions: Path = typer.Option(
        ...,
        "--actions",
        help="JSON: a list of {name, arguments} calls, a τ² task, or tasks.json with --task.",
    ),
    out: Path = typer.Option(..., "--out", help="Where to write the final db (τ² db.json shape)."),
    task: str | None = typer.Option(None, "--task", help="Task id, when --actions is a list of τ² tasks."),
    database_url: str | None = typer.Option(
        None,
        "--database-url",
        help="Replay in this database (its shop tables are REPLACED); default: a temporary SQLite file.",
    ),
) -> None:
    """Replay tool calls as the trusted operator on a fresh copy of a shop; print one JSON line per call."""
    import json
    import tempfile

    from assistant.shop.store import ShopStore
    from assistant.tools.base import ToolResult
    from assistant.tools.replay import (
        ReplayInputError,
        ToolCall,
        load_shop_data,
        load_tool_calls,
        replay_calls,
        sqlite_url,
    )

    try:
        calls = load_tool_calls(actions, task)
        data = load_shop_data(db)
    except ReplayInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    def show(index: int, call: ToolCall, result: ToolResult) -> None:
        line: dict[str, object] = {"index": index, "name": call.name, "ok": result.ok}
        if result.ok:
            line["output"] = result.output
        else:
            line["error"] = result.error
        typer.echo(json.dumps(line, ensure_ascii=False))

    with tempfile.TemporaryDirectory(prefix="parley-replay-") as tmp:
        store = ShopStore(database_url or sqlite_url(Path(tmp) / "shop.db"))
        try:
            store.migrate()
            store.import_data(data, replace=True)
            results = replay_calls(store, calls, on_result=show)
            final = store.export_data()
        finally:
            from assistant.tools.replay import dispose_store

            dispose_store(store)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(final.to_tau2(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    failed = sum(not r.ok for r in results)
    typer.echo(
        f"{len(results)} calls, {len(results) - failed} ok, {failed} refused; final db: {out}", err=True
    )
