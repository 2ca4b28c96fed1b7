"""The help-centre index in Chroma: hash-keyed upserts, pruning, vector (+ optional BM25) search."""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from knowledge.chunking import Chunk, chunk_article
from knowledge.loaders import Article, LoadError, load_paths

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from knowledge.embeddings import Embedder
    from knowledge.settings import Settings


class KnowledgeIndexError(RuntimeError):
    """The index cannot be used as asked (wrong embedding model, unreachable server, ...)."""


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    # No telemetry: there is no network here, and a support desk should not phone home anyway.
    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def parse_chroma_url(url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) of a Chroma server URL such as http://127.0.0.1:8000."""
    parsed = urlparse(url if "://" in url else f"http://{url}")
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise KnowledgeIndexError(f"invalid Chroma URL {url!r}: expected http(s)://HOST[:PORT]")
    ssl = parsed.scheme == "https"
    port = parsed.port or (443 if ssl else 8000)
    return parsed.hostname, port, ssl


def get_chroma_client(settings: Settings) -> ClientAPI:
    """Chroma HttpClient when settings.chroma_url is set, else PersistentClient at settings.chroma_path."""
    import chromadb

    if settings.chroma_url:
        host, port, ssl = parse_chroma_url(settings.chroma_url)
        try:
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_chroma_settings())
        except Exception as exc:
            raise KnowledgeIndexError(
                f"cannot reach the Chroma server at {settings.chroma_url}: {exc}"
            ) from exc
    path = settings.chroma_path if settings.chroma_path is not None else settings.data_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


# ----------------------------------------------------------------------------------------------------
# The help-centre index
# ----------------------------------------------------------------------------------------------------

RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al. 2009)
_PAGE = 2000  # rows per collection.get page when reading the whole collection


class EmbeddingModelMismatch(KnowledgeIndexError):
    """The collection was built with another embedding model than the one configured."""


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

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _StoredArticle:
    article_hash: str
    source: str
    chunk_ids: list[str] = field(default_factory=list)


def _article_hash(article: Article, chunks: list[Chunk]) -> str:
    digest = hashlib.sha256()
    for part in (article.id, article.title, article.url, article.locale, ",".join(article.tags)):
        digest.update(part.encode())
        digest.update(b"\x00")
    for chunk in chunks:
        digest.update(chunk.content_hash.encode())
    return digest.hexdigest()


def _language(locale: str) -> str:
    return locale.split("-", 1)[0] if locale else ""


def locale_filter(locale: str | None) -> dict[str, Any] | None:
    """Chroma `where` for a locale: "en" matches en, en-us, en-gb...; "en-us" matches only en-us."""
    if not locale:
        return None
    normalised = locale.strip().lower().replace("_", "-")
    if "-" in normalised:
        return {"locale": normalised}
    return {"language": normalised}


class HelpCenterIndex:
    """Help-centre articles in one Chroma collection, embedded with one recorded model."""

    def __init__(
        self,
        settings: Settings,
        client: ClientAPI | None = None,
        embedder: Embedder | None = None,
        collection_name: str | None = None,
    ) -> None:
        self.settings = settings
        self._client = client
        self._embedder = embedder
        self.collection_name = collection_name or settings.help_collection
        self._bm25: Bm25Cache | None = None

    @property
    def client(self) -> ClientAPI:
        if self._client is None:
            self._client = get_chroma_client(self.settings)
        return self._client

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from knowledge.embeddings import get_embedder

            self._embedder = get_embedder(self.settings)
        return self._embedder

    # --- collection ----------------------------------------------------------------------------------

    def _collection(self, create: bool) -> Collection | None:
        """The collection (created when asked), after checking it was built with our embedding model."""
        from chromadb.errors import InvalidArgumentError, NotFoundError

        try:
            try:
                collection = self.client.get_collection(self.collection_name)
            except NotFoundError:
                if not create:
                    return None
                embedder = self.embedder
                # get_or_create: another process may create it at the same moment; the check below
                # then still compares its recorded model with ours.
                collection = self.client.get_or_create_collection(
                    self.collection_name,
                    metadata={
                        "embedding_model": embedder.name,
                        "embedding_dim": embedder.dim,
                        "revision": _new_revision(),
                    },
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
        except (ValueError, InvalidArgumentError) as exc:  # e.g. a name Chroma refuses (under 3 characters)
            raise KnowledgeIndexError(f"invalid collection name {self.collection_name!r}: {exc}") from exc
        recorded = (collection.metadata or {}).get("embedding_model")
        if recorded != self.embedder.name:
            if recorded is None and collection.count() == 0 and create:
                self._write_metadata(collection)
                return collection
            raise EmbeddingModelMismatch(
                f"collection {self.collection_name!r} was built with embedding model {recorded!r}, but the "
                f"configured model is {self.embedder.name!r}; vectors of two models cannot be compared. "
                f"Use the same model (PARLEY_EMBEDDING_PROVIDER / PARLEY_EMBEDDING_MODEL) or ingest into "
                f"another collection (--collection NAME)."
            )
        return collection

    def _write_metadata(self, collection: Collection) -> None:
        # modify() replaces the whole metadata dict, so always write every key.
        embedder = self.embedder
        collection.modify(
            metadata={
                "embedding_model": embedder.name,
                "embedding_dim": embedder.dim,
                "revision": _new_revision(),
            }
        )

    def _stored_articles(self, collection: Collection) -> dict[str, _StoredArticle]:
        stored: dict[str, _StoredArticle] = {}
        for ids, metadatas in _pages(collection, include=["metadatas"]):
            for chunk_id, meta in zip(ids, metadatas, strict=True):
                article_id = str(meta.get("article_id", ""))
                entry = stored.setdefault(
                    article_id, _StoredArticle(str(meta.get("article_hash", "")), str(meta.get("source", "")))
                )
                entry.chunk_ids.append(chunk_id)
        return stored

    # --- ingest --------------------------------------------------------------------------------------

    def ingest(self, paths: list[Path], prune: bool = False, progress: bool = True) -> IngestReport:
        """Index the articles under `paths`: embed only new or changed ones; with `prune`, delete the
        articles that came from these folders/files but are gone from them."""
        started = time.perf_counter()
        loaded = load_paths(paths, self.settings.max_source_file_bytes)
        report = IngestReport(
            files_read=loaded.files_read, errors=list(loaded.errors), ignored=loaded.ignored
        )

        articles: dict[str, Article] = {}
        for article in loaded.articles:
            first = articles.get(article.id)
            if first is not None:
                report.errors.append(
                    LoadError(
                        article.source,
                        f"duplicate article id {article.id!r} (first read from {first.source})",
                    )
                )
                continue
            articles[article.id] = article

        collection = self._collection(create=True)
        assert collection is not None
        stored = self._stored_articles(collection)

        to_embed: list[tuple[str, Chunk, dict[str, Any]]] = []
        to_relabel: list[tuple[str, dict[str, Any]]] = []  # chunks whose vector is reused as is
        to_delete: list[str] = []
        for article in articles.values():
            chunks = chunk_article(article, self.settings.chunk_size, self.settings.chunk_overlap)
            article_hash = _article_hash(article, chunks)
            previous = stored.get(article.id)
            if previous is not None and previous.article_hash == article_hash:
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
                meta = _chunk_metadata(article, chunk, article_hash)
                if chunk_id in old_ids:
                    to_relabel.append((chunk_id, meta))
                else:
                    to_embed.append((chunk_id, chunk, meta))
            to_delete.extend(sorted(old_ids - new_ids))

        self._embed_and_write(collection, to_embed, progress)
        report.chunks_embedded = len(to_embed)
        for start in range(0, len(to_relabel), _PAGE):
            batch = to_relabel[start : start + _PAGE]
            collection.update(ids=[i for i, _ in batch], metadatas=[m for _, m in batch])  # type: ignore[misc]

        if prune:
            roots = [p.resolve() for p in paths]
            failed_sources = {str(Path(e.path).resolve()) for e in report.errors}
            for article_id, previous in stored.items():
                if article_id in articles or previous.source in failed_sources:
                    continue
                if any(_is_within(Path(previous.source), root) for root in roots):
                    report.deleted.append(article_id)
                    to_delete.extend(previous.chunk_ids)
        for start in range(0, len(to_delete), _PAGE):
            collection.delete(ids=to_delete[start : start + _PAGE])
        report.chunks_deleted = len(to_delete)

        if to_embed or to_relabel or to_delete:
            self._write_metadata(collection)  # a new revision tells every process's BM25 cache to rebuild
        report.seconds = time.perf_counter() - started
        return report

    def _embed_and_write(
        self, collection: Collection, items: list[tuple[str, Chunk, dict[str, Any]]], progress: bool
    ) -> None:
        if not items:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        batch_size = max(1, self.settings.embedding_batch_size) * 4
        # Longest first over the whole run (not only inside each write batch): batches of similar length
        # waste less work on padding, as SentenceTransformer.encode itself does for one big call.
        items = sorted(items, key=lambda item: len(item[1].embedding_text), reverse=True)
        with Progress(
            TextColumn("[bold]embedding chunks"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            disable=not progress,
            transient=False,
        ) as bar:
            task = bar.add_task("embed", total=len(items))
            for start in range(0, len(items), batch_size):
                batch = items[start : start + batch_size]
                vectors = self.embedder.encode([chunk.embedding_text for _, chunk, _ in batch])
                collection.upsert(
                    ids=[chunk_id for chunk_id, _, _ in batch],
                    embeddings=vectors,  # type: ignore[arg-type]
                    documents=[chunk.text for _, chunk, _ in batch],
                    metadatas=[meta for _, _, meta in batch],  # type: ignore[misc]
                )
                bar.advance(task, len(batch))

    # --- search --------------------------------------------------------------------------------------

    def search(self, query: str, k: int = 5, locale: str | None = None) -> list[SearchHit]:
        """The k most relevant chunks for `query` (optionally only in `locale`), best first."""
        query = query.strip()
        if not query or k <= 0:
            return []
        collection = self._collection(create=False)
        if collection is None:
            return []
        query_vector = self.embedder.encode([query[:4000]])[0]
        where = locale_filter(locale)
        hybrid = self.settings.hybrid_search
        candidates = max(k * 4, 20) if hybrid else k
        result = collection.query(
            query_embeddings=[query_vector.tolist()],
            n_results=candidates,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        ids = result["ids"][0]
        docs = (result["documents"] or [[]])[0]
        metas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        hits = {
            chunk_id: _hit(chunk_id, doc, meta, 1.0 - float(distance))
            for chunk_id, doc, meta, distance in zip(ids, docs, metas, distances, strict=True)
        }
        if not hybrid:
            return list(hits.values())[:k]

        bm25_ids = self._bm25_for(collection).top(query, candidates, locale)
        fused: dict[str, float] = {}
        for ranking in (ids, bm25_ids):
            for rank, chunk_id in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda cid: fused[cid], reverse=True)[:k]
        missing = [cid for cid in best if cid not in hits]
        if missing:  # found by BM25 only: fetch them and compute their cosine similarity too
            rows = collection.get(ids=missing, include=["documents", "metadatas", "embeddings"])
            vectors = np.asarray(rows["embeddings"], dtype=np.float32)
            similarities = vectors @ query_vector
            for chunk_id, doc, meta, similarity in zip(
                rows["ids"], rows["documents"] or [], rows["metadatas"] or [], similarities, strict=True
            ):
                hits[chunk_id] = _hit(chunk_id, doc, meta, float(similarity))
        ranked = []
        for chunk_id in best:
            hit = hits[chunk_id]
            hit.fused_score = fused[chunk_id]
            ranked.append(hit)
        return ranked

    def _bm25_for(self, collection: Collection) -> Bm25Cache:
        revision = str((collection.metadata or {}).get("revision", ""))
        key = (str(collection.id), revision)
        if self._bm25 is None or self._bm25.key != key:
            self._bm25 = Bm25Cache.build(collection, key)
        return self._bm25

    def get_article(self, article_id: str) -> list[SearchHit]:
        """The article's chunks in reading order (score 0.0: not a search result), [] if unknown."""
        collection = self._collection(create=False)
        if collection is None:
            return []
        rows = collection.get(where={"article_id": article_id}, include=["documents", "metadatas"])
        hits = [
            _hit(chunk_id, doc, meta, 0.0)
            for chunk_id, doc, meta in zip(
                rows["ids"], rows["documents"] or [], rows["metadatas"] or [], strict=True
            )
        ]
        return sorted(hits, key=lambda hit: hit.chunk_index)

    def stats(self) -> dict[str, Any]:
        """Chunk and article counts and the recorded embedding model (empty collection: zeros)."""
        collection = self._collection(create=False)
        if collection is None:
            return {"collection": self.collection_name, "chunks": 0, "articles": 0, "embedding_model": None}
        return {
            "collection": self.collection_name,
            "chunks": collection.count(),
            "articles": len(self._stored_articles(collection)),
            "embedding_model": (collection.metadata or {}).get("embedding_model"),
        }


def _new_revision() -> str:
    return uuid.uuid4().hex


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _chunk_metadata(article: Article, chunk: Chunk, article_hash: str) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "chunk_index": chunk.index,
        "title": chunk.title,
        "section": chunk.section,
        "url": chunk.url,
        "locale": chunk.locale,
        "language": _language(chunk.locale),
        "tags": ",".join(article.tags),
        "source": article.source,
        "article_hash": article_hash,
    }


def _hit(chunk_id: str, document: str | None, meta: Mapping[str, Any] | None, score: float) -> SearchHit:
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


def _pages(collection: Collection, include: list[str]) -> Iterator[tuple[list[str], list[Mapping[str, Any]]]]:
    """(ids, metadatas) of the whole collection, a page at a time (bounded memory on a big server)."""
    offset = 0
    while True:
        rows = collection.get(limit=_PAGE, offset=offset, include=include)  # type: ignore[arg-type]
        ids = rows["ids"]
        if not ids:
            return
        yield ids, list(rows["metadatas"] or [{} for _ in ids])
        offset += len(ids)


# ----------------------------------------------------------------------------------------------------
# BM25 over the collection's own documents (so it works the same against a Chroma server)
# ----------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens without stop words (a light plural strip helps short FAQ matches)."""
    tokens = []
    for token in _TOKEN.findall(text.lower()):
        if token in _STOPWORDS:
            continue
        if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        tokens.append(token)
    return tokens


class Bm25Cache:
    """Okapi BM25 (k1=1.5, b=0.75, the rank-bm25 defaults) with an inverted index, so a query touches
    only the postings of its own terms instead of every document."""

    k1 = 1.5
    b = 0.75

    def __init__(
        self, key: tuple[str, str], ids: list[str], texts: list[str], metas: list[Mapping[str, Any]]
    ):
        self.key = key
        self.ids = ids
        self.locales = np.asarray([str(m.get("locale", "")) for m in metas])
        self.languages = np.asarray([str(m.get("language", "")) for m in metas])
        postings: dict[str, dict[int, int]] = {}
        lengths = np.zeros(len(texts), dtype=np.float32)
        for doc_index, text in enumerate(texts):
            tokens = tokenize(text)
            lengths[doc_index] = len(tokens)
            for token in tokens:
                counts = postings.setdefault(token, {})
                counts[doc_index] = counts.get(doc_index, 0) + 1
        average = float(lengths.mean()) if len(texts) else 1.0
        norm = self.k1 * (1 - self.b + self.b * lengths / max(average, 1e-9))
        n = len(texts)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for token, counts in postings.items():
            docs = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            idf = np.log((n - len(docs) + 0.5) / (len(docs) + 0.5) + 1.0)  # always positive
            self.postings[token] = (docs, (idf * tf * (self.k1 + 1) / (tf + norm[docs])).astype(np.float32))

    @classmethod
    def build(cls, collection: Collection, key: tuple[str, str]) -> Bm25Cache:
        ids: list[str] = []
        texts: list[str] = []
        metas: list[Mapping[str, Any]] = []
        offset = 0
        while True:
            rows = collection.get(limit=_PAGE, offset=offset, include=["documents", "metadatas"])
            if not rows["ids"]:
                break
            for chunk_id, doc, meta in zip(
                rows["ids"], rows["documents"] or [], rows["metadatas"] or [], strict=True
            ):
                ids.append(chunk_id)
                metas.append(meta)
                texts.append(f"{meta.get('title', '')}\n{meta.get('section', '')}\n{doc or ''}")
            offset += len(rows["ids"])
        return cls(key, ids, texts, metas)

    def top(self, query: str, n: int, locale: str | None = None) -> list[str]:
        """Ids of the n best-scoring chunks (score > 0), optionally only in `locale`."""
        if not self.ids:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for token in tokenize(query):
            posting = self.postings.get(token)
            if posting is not None:
                scores[posting[0]] += posting[1]
        where = locale_filter(locale)
        if where is not None:
            column = self.locales if "locale" in where else self.languages
            value = next(iter(where.values()))
            scores[column != value] = 0.0
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > n:
            candidates = candidates[np.argpartition(-scores[candidates], n - 1)[:n]]
        order = candidates[np.argsort(-scores[candidates], kind="stable")]
        return [self.ids[i] for i in order]
