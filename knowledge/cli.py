"""CLI commands of this package (`parley ingest`, `parley search`), registered on `parley` by assistant.cli.

Exit codes of `parley ingest`: 0 = every file was read; 1 = the run finished but some files were reported
and skipped (the good ones are indexed: a partial success must not look like a clean one in CI or cron);
2 = nothing could be done (bad arguments, embedding-model mismatch, unreachable Chroma server).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer


@contextmanager
def _exit_on_index_error(errors: Any) -> Iterator[None]:
    """An index or embedding problem is one red line and exit code 2, not a traceback."""
    from rich.markup import escape

    from knowledge.embeddings import EmbeddingError
    from knowledge.index import KnowledgeIndexError

    try:
        yield
    except (KnowledgeIndexError, EmbeddingError) as exc:
        errors.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    """Add this package's commands to `parley`."""
    app.command("ingest")(ingest)
    app.command("search")(search)


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Folders or files: .md .html .txt .json .jsonl .csv")],
    prune: Annotated[
        bool, typer.Option("--prune", help="Delete indexed articles that are gone from these folders/files.")
    ] = False,
    collection: Annotated[
        str | None,
        typer.Option("--collection", help="Chroma collection (default: settings.help_collection)."),
    ] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Index help-centre articles: embeds only new or changed articles (keyed by content hash)."""
    from rich.console import Console
    from rich.markup import escape

    from knowledge.index import HelpCenterIndex
    from knowledge.settings import get_settings

    console = Console()
    errors = Console(stderr=True)
    index = HelpCenterIndex(get_settings(), collection_name=collection)
    with _exit_on_index_error(errors):
        report = index.ingest(paths, prune=prune, progress=progress)

    for problem in report.errors:
        errors.print(f"[yellow]skipped[/yellow] {escape(str(problem))}", highlight=False, soft_wrap=True)
    console.print(
        f"[bold]{index.collection_name}[/bold]: "
        f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.deleted)} deleted articles; {report.chunks_embedded} chunks embedded, "
        f"{report.chunks_deleted} chunks deleted; {report.files_read} files read, "
        f"{len(report.errors)} errors, {len(report.ignored)} ignored; {report.seconds:.1f} s",
        highlight=False,
        soft_wrap=True,
    )
    if not report.ok:
        raise typer.Exit(1)


def search(
    query: Annotated[str, typer.Argument(help="What the customer asked.")],
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=100, help="How many chunks.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
    locale: Annotated[
        str | None, typer.Option("--locale", help="Only articles in this locale (en, en-us).")
    ] = None,
    collection: Annotated[str | None, typer.Option("--collection", help="Chroma collection.")] = None,
) -> None:
    """Search the help centre; score = cosine similarity of query and chunk (higher = more relevant)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from knowledge.index import HelpCenterIndex
    from knowledge.settings import get_settings

    errors = Console(stderr=True)
    if not query.strip():
        errors.print("[red]error:[/red] the query is empty")
        raise typer.Exit(2)
    index = HelpCenterIndex(get_settings(), collection_name=collection)
    with _exit_on_index_error(errors):
        hits = index.search(query, k=k, locale=locale)

    if as_json:
        payload = [
            {
                "article_id": h.article_id,
                "title": h.title,
                "section": h.section,
                "url": h.url,
                "locale": h.locale,
                "score": round(h.score, 4),
                "text": h.text,
            }
            for h in hits
        ]
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not hits:
        errors.print(
            f"no results (is the collection {index.collection_name!r} empty? run `parley ingest PATH`)"
        )
        return
    table = Table(title=f"top {len(hits)} for: {query}", show_lines=True)
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("article")
    table.add_column("title / section")
    table.add_column("text")
    for rank, hit in enumerate(hits, start=1):
        snippet = " ".join(hit.text.split())
        snippet = snippet if len(snippet) <= 240 else snippet[:237] + "..."
        heading = (
            escape(hit.title) if not hit.section else f"{escape(hit.title)}\n[dim]{escape(hit.section)}[/dim]"
        )
        table.add_row(str(rank), f"{hit.score:.3f}", escape(hit.article_id), heading, escape(snippet))
    Console().print(table)
