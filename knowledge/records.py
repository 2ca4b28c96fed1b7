"""What the help-centre index stores and returns: search hits, ingest reports, per-chunk metadata."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.chunking import Chunk
from knowledge.loaders import Article, LoadError


@dataclass
class SearchHit:
    """One retrieved chunk.

    `score` is always the cosine similarity between the query and the chunk embedding (about 0..1 for
    MiniLM; higher = more relevant), also when hybrid search decided the order: it is the calibrated
    number that settings.min_answer_score is compared with. `fused_score` is the reciprocal-rank-fusion
    score that ordered the hits when hybrid search is on (None otherwise); it only means "rank".
    """

    chunk_id: str
    article_id: str
    title: str
    section: str
    url: str
    locale: str
    text: str
    score: float
    fused_score: float | None = None
    chunk_index: int = 0


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    chunks_embedded: int = 0
    chunks_deleted: int = 0
    files_read: int = 0
    errors: list[LoadError] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    seconds: float = 0.0
    changed: bool = False  # something was embedded, relabelled or deleted (a new collection revision)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class StoredArticle:
    article_hash: str
    source: str
    chunk_ids: list[str] = field(default_factory=list)


def article_hash(article: Article, chunks: list[Chunk]) -> str:
    digest = hashlib.sha256()
    for part in (article.id, article.title, article.url, article.locale, ",".join(article.tags)):
        digest.update(part.encode())
        digest.update(b"\x00")
    for chunk in chunks:
        digest.update(chunk.content_hash.encode())
    return digest.hexdigest()


def locale_filter(locale: str | None) -> dict[str, Any] | None:
    """Chroma `where` for a locale: "en" matches en, en-us, en-gb...; "en-us" matches only en-us."""
    if not locale:
        return None
    normalised = locale.strip().lower().replace("_", "-")
    if "-" in normalised:
        return {"locale": normalised}
    return {"language": normalised}


def is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def chunk_metadata(article: Article, chunk: Chunk, hash_of_article: str) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "chunk_index": chunk.index,
        "title": chunk.title,
        "section": chunk.section,
        "url": chunk.url,
        "locale": chunk.locale,
        "language": chunk.locale.split("-", 1)[0] if chunk.locale else "",
        "tags": ",".join(article.tags),
        "source": article.source,
        "article_hash": hash_of_article,
    }


def make_hit(chunk_id: str, document: str | None, meta: Mapping[str, Any] | None, score: float) -> SearchHit:
    meta = meta or {}
    return SearchHit(
        chunk_id=chunk_id,
        article_id=str(meta.get("article_id", "")),
        title=str(meta.get("title", "")),
        section=str(meta.get("section", "")),
        url=str(meta.get("url", "")),
        locale=str(meta.get("locale", "")),
        text=document or "",
        score=score,
        chunk_index=int(meta.get("chunk_index", 0) or 0),
    )


__all__ = [
    "IngestReport",
    "SearchHit",
    "StoredArticle",
    "article_hash",
    "chunk_metadata",
    "is_within",
    "locale_filter",
    "make_hit",
]
