"""One ingest run: read the sources, compare with what the collection holds, embed only what changed."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowledge.chunking import Chunk, chunk_article
from knowledge.loaders import Article, LoadError, load_paths
from knowledge.records import IngestReport, StoredArticle, article_hash, chunk_metadata, is_within

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from knowledge.embeddings import Embedder
    from knowledge.settings import Settings

PAGE = 2000  # rows per collection.get / update / delete call


def stored_articles(collection: Collection) -> dict[str, StoredArticle]:
    """Article id -> (hash, source, chunk ids) of everything in the collection, a page at a time."""
    stored: dict[str, StoredArticle] = {}
    offset = 0
    while True:
        rows = collection.get(limit=PAGE, offset=offset, include=["metadatas"])
        if not rows["ids"]:
            return stored
        for chunk_id, meta in zip(rows["ids"], rows["metadatas"] or [], strict=True):
            article_id = str(meta.get("article_id", ""))
            entry = stored.setdefault(
                article_id, StoredArticle(str(meta.get("article_hash", "")), str(meta.get("source", "")))
            )
            entry.chunk_ids.append(chunk_id)
        offset += len(rows["ids"])


def _unique_articles(loaded: list[Article], report: IngestReport) -> dict[str, Article]:
    articles: dict[str, Article] = {}
    for article in loaded:
        first = articles.get(article.id)
        if first is not None:
            reason = f"duplicate article id {article.id!r} (first read from {first.source})"
            report.errors.append(LoadError(article.source, reason))
            continue
        articles[article.id] = article
    return articles


def run_ingest(
    collection: Collection,
    embedder: Embedder,
    settings: Settings,
    paths: list[Path],
    prune: bool,
    progress: bool,
) -> IngestReport:
    """Index the articles under `paths` into `collection`: embed only new or changed ones; with `prune`,
    delete the articles that came from these folders/files but are gone from them."""
    started = time.perf_counter()
    loaded = load_paths(paths, settings.max_source_file_bytes)
    report = IngestReport(files_read=loaded.files_read, errors=list(loaded.errors), ignored=loaded.ignored)
    articles = _unique_articles(loaded.articles, report)
    stored = stored_articles(collection)

    to_embed: list[tuple[str, Chunk, dict[str, Any]]] = []
    to_relabel: list[tuple[str, dict[str, Any]]] = []  # chunks whose vector is reused as is
    to_delete: list[str] = []
    for article in articles.values():
        chunks = chunk_article(article, settings.chunk_size, settings.chunk_overlap)
        hash_of_article = article_hash(article, chunks)
        previous = stored.get(article.id)
        if previous is not None and previous.article_hash == hash_of_article:
            report.unchanged.append(article.id)
            if previous.source != article.source:  # moved file: same content, new home for --prune
                rows = collection.get(ids=previous.chunk_ids, include=["metadatas"])
                for chunk_id, meta in zip(rows["ids"], rows["metadatas"] or [], strict=True):
                    to_relabel.append((chunk_id, {**meta, "source": article.source}))
            continue
        (report.updated if previous is not None else report.added).append(article.id)
        old_ids = set(previous.chunk_ids) if previous is not None else set()
        new_ids: set[str] = set()
        for chunk in chunks:
            chunk_id = f"{article.id}::{chunk.content_hash[:16]}"
            while chunk_id in new_ids:  # the same paragraph twice in one article
                chunk_id += "+"
            new_ids.add(chunk_id)
            meta = chunk_metadata(article, chunk, hash_of_article)
            if chunk_id in old_ids:
                to_relabel.append((chunk_id, meta))
            else:
                to_embed.append((chunk_id, chunk, meta))
        to_delete.extend(sorted(old_ids - new_ids))

    embed_and_write(collection, embedder, settings.embedding_batch_size, to_embed, progress)
    report.chunks_embedded = len(to_embed)
    for start in range(0, len(to_relabel), PAGE):
        batch = to_relabel[start : start + PAGE]
        collection.update(ids=[i for i, _ in batch], metadatas=[m for _, m in batch])  # type: ignore[misc]

    if prune:
        roots = [p.resolve() for p in paths]
        failed_sources = {str(Path(e.path).resolve()) for e in report.errors}
        for article_id, previous in stored.items():
            if article_id in articles or previous.source in failed_sources:
                continue
            if any(is_within(Path(previous.source), root) for root in roots):
                report.deleted.append(article_id)
                to_delete.extend(previous.chunk_ids)
    for start in range(0, len(to_delete), PAGE):
        collection.delete(ids=to_delete[start : start + PAGE])
    report.chunks_deleted = len(to_delete)
    report.changed = bool(to_embed or to_relabel or to_delete)
    report.seconds = time.perf_counter() - started
    return report


def embed_and_write(
    collection: Collection,
    embedder: Embedder,
    batch_size: int,
    items: list[tuple[str, Chunk, dict[str, Any]]],
    progress: bool,
) -> None:
    if not items:
        return
    from knowledge.progress import progress_bar

    step = max(1, batch_size) * 4
    # Longest first over the whole run (not only inside each write batch): batches of similar length
    # waste less work on padding, as SentenceTransformer.encode itself does for one big call.
    items = sorted(items, key=lambda item: len(item[1].embedding_text), reverse=True)
    with progress_bar("[bold]embedding chunks", remaining=True, show=progress) as bar:
        task = bar.add_task("embed", total=len(items))

        def write(batch: list[tuple[str, Chunk, dict[str, Any]]], vectors: Any) -> None:
            collection.upsert(
                ids=[chunk_id for chunk_id, _, _ in batch],
                embeddings=vectors,
                documents=[chunk.text for _, chunk, _ in batch],
                metadatas=[meta for _, _, meta in batch],  # type: ignore[misc]
            )
            bar.advance(task, len(batch))

        # Chroma writes batch n while the model embeds batch n+1 (one write in flight: order and memory
        # stay bounded; a failed write stops the run with its error).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-write") as writer:
            pending: Future[None] | None = None
            for start in range(0, len(items), step):
                batch = items[start : start + step]
                vectors = embedder.encode([chunk.embedding_text for _, chunk, _ in batch])
                if pending is not None:
                    pending.result()
                pending = writer.submit(write, batch, vectors)
            if pending is not None:
                pending.result()
