"""The help-centre index in Chroma: hash-keyed upserts, pruning, vector + BM25 (hybrid) search.

Search under change and damage:
- another process's `parley ingest` writes a new collection *revision*; the next search sees it, reopens the
  embedded client (Chroma keeps the old vectors in memory otherwise) and rebuilds the BM25 snapshot, so
  vectors and BM25 change together;
- a damaged (corrupt `chroma.sqlite3`) or missing (folder moved away) index raises `IndexUnavailable`, one
  well-defined exception, and the next search tries again (a restored index works without a restart).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

import numpy as np

from knowledge.chroma import (
    ChromaCollection,
    CollectionParts,
    EmbeddingModelMismatch,
    IndexUnavailable,
    KnowledgeIndexError,
    chroma_path,
    forget_local_client,
    get_chroma_client,
    guarded,
    model_metadata,
    parse_chroma_url,
)
from knowledge.ingest import run_ingest, stored_articles
from knowledge.lexical import analyze_query, language_of
from knowledge.records import IngestReport, SearchHit, locale_filter, make_hit
from knowledge.snapshot import Snapshot

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from knowledge.settings import Settings

__all__ = [
    "EmbeddingModelMismatch",
    "HelpCenterIndex",
    "IndexUnavailable",
    "IngestReport",
    "KnowledgeIndexError",
    "SearchHit",
    "get_chroma_client",
    "locale_filter",
    "parse_chroma_url",
]

RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al. 2009)
MIN_CANDIDATES = 20  # each ranking (vectors, BM25) contributes at least this many candidates to the fusion
MAX_QUERY_CHARS = 4000
# Pauses between the attempts of a search that failed (None: the last attempt); about 0.3 s in all, so a
# damaged index answers IndexUnavailable quickly and a write in progress has time to finish.
RETRY_PAUSES: tuple[float | None, ...] = (0.02, 0.1, 0.2, None)

QueryEncoder = Callable[[list[str]], np.ndarray]


class HelpCenterIndex(ChromaCollection):
    """Help-centre articles in one Chroma collection, embedded with one recorded model.

    `query_encoder` (optional) embeds search queries instead of `embedder.encode`: pass a shared cached
    encoder (`knowledge.embeddings.CachedEncoder`) so that the customer's message, already embedded by the
    guard and the intent vote, is not embedded again for the search. `search(..., query_vector=v)` takes a
    precomputed vector directly.
    """

    mismatch_hint = (
        "Use the same model (PARLEY_EMBEDDING_PROVIDER / PARLEY_EMBEDDING_MODEL) or ingest into "
        "another collection (--collection NAME)."
    )
    keeps_revision = True

    def __init__(
        self,
        settings: Settings,
        *,
        query_encoder: QueryEncoder | None = None,
        **parts: Unpack[CollectionParts],
    ) -> None:
        super().__init__(settings, **parts)
        self._own_client = parts.get("client") is None  # only a client we opened ourselves may be reopened
        self._query_encoder = query_encoder
        self._bm25: Snapshot | None = None  # the BM25 snapshot of the current revision
        self._revision: str | None = None
        self._stamp: tuple[int, int] | None = None  # database file (mtime, size) when _current was read
        self._current: Collection | None = None
        self._lock = threading.Lock()

    def _write_metadata(self, collection: Collection) -> None:
        # modify() replaces the whole metadata dict, so always write every key; a new revision tells every
        # process's BM25 snapshot (and embedded client) to reload.
        collection.modify(metadata=model_metadata(self.embedder, revision=True))

    def _reopen(self) -> None:
        """Forget the client (and Chroma's per-path cache of it) so the next call reads the files again."""
        self._current = self._stamp = None
        if self._own_client:
            forget_local_client(self.settings)
            self._client = None

    def _database_stamp(self) -> tuple[int, int] | None:
        """(mtime, size) of the embedded index's database file; None for a Chroma server, or when this index
        has not seen its collection yet. Once it has, the file must stay where it was: Chroma would go on
        reading a moved file through its open handle, or create an empty index, so a missing file raises."""
        if self.settings.chroma_url:
            return None
        database = chroma_path(self.settings) / "chroma.sqlite3"
        try:
            stat = os.stat(database)
        except FileNotFoundError:
            if self._revision is None:
                return None
            raise IndexUnavailable(
                f"the index is missing: {database} does not exist (moved or deleted?)"
            ) from None
        return (stat.st_mtime_ns, stat.st_size)

    def _open_for_search(self) -> Collection | None:
        """The collection as it is now: reopened when another process changed it (new revision).

        Every write to the embedded index changes its database file, so while the file's (mtime, size) stay
        the same the collection and revision read last time are still current and no look-up is needed
        (about 1 ms a search). A Chroma server is asked every time."""
        stamp = self._database_stamp()
        if stamp is not None and stamp == self._stamp and self._current is not None:
            return self._current
        collection = self._collection(create=False)
        if collection is None:
            if self._revision is not None:
                raise IndexUnavailable(f"the collection {self.collection_name!r} disappeared from the index")
            return None
        revision = str((collection.metadata or {}).get("revision", ""))
        if self._revision is not None and revision != self._revision and self._own_client:
            with self._lock:
                self._reopen()
                collection = self._collection(create=False)
                if collection is None:
                    return None
                revision = str((collection.metadata or {}).get("revision", ""))
        self._revision, self._stamp, self._current = revision, stamp, collection
        return collection

    # --- ingest --------------------------------------------------------------------------------------

    def ingest(self, paths: list[Path], prune: bool = False, progress: bool = True) -> IngestReport:
        """Index the articles under `paths`: embed only new or changed ones; with `prune`, delete the
        articles that came from these folders/files but are gone from them."""
        collection = self._collection(create=True)
        assert collection is not None
        report = run_ingest(collection, self.embedder, self.settings, paths, prune, progress)
        if report.changed:
            self._write_metadata(collection)  # a new revision tells every process's snapshot to rebuild
        return report

    # --- search --------------------------------------------------------------------------------------

    def encode_query(self, query: str) -> np.ndarray:
        """The query's unit vector (through the shared query encoder when one was given)."""
        encode = self._query_encoder or self.embedder.encode
        return np.asarray(encode([query.strip()[:MAX_QUERY_CHARS]])[0], dtype=np.float32)

    def search(
        self, query: str, k: int = 5, locale: str | None = None, query_vector: np.ndarray | None = None
    ) -> list[SearchHit]:
        """The k most relevant chunks for `query` (optionally only in `locale`), best first.

        Raises IndexUnavailable when the index is damaged or missing (the caller hands over), and
        EmbeddingModelMismatch when it was built with another model."""
        query = query.strip()
        if not query or k <= 0:
            return []
        for pause in RETRY_PAUSES:
            try:
                return guarded("help-centre search", lambda: self._search(query, k, locale, query_vector))
            except IndexUnavailable:
                # Open the files again: a read that raced a write ("Error finding id" while another client
                # deletes and upserts) succeeds once the write is done; a restored index works at once.
                self._reopen()
                if pause is None:
                    raise
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _search(
        self, query: str, k: int, locale: str | None, query_vector: np.ndarray | None
    ) -> list[SearchHit]:
        collection = self._open_for_search()
        if collection is None:
            return []
        vector = self.encode_query(query) if query_vector is None else np.asarray(query_vector, np.float32)
        where = locale_filter(locale)
        if not self.settings.hybrid_search:
            result = collection.query(
                query_embeddings=[vector.tolist()],
                n_results=k,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
            return [
                make_hit(chunk_id, doc, meta, 1.0 - float(distance))
                for chunk_id, doc, meta, distance in zip(
                    result["ids"][0],
                    (result["documents"] or [[]])[0],
                    (result["metadatas"] or [[]])[0],
                    (result["distances"] or [[]])[0],
                    strict=True,
                )
            ]

        snapshot = self._snapshot(collection)
        candidates = max(k * 4, MIN_CANDIDATES)
        # Only ids and distances from Chroma: texts and metadata come from the snapshot (no second read).
        result = collection.query(
            query_embeddings=[vector.tolist()], n_results=candidates, where=where, include=["distances"]
        )
        vector_ids = result["ids"][0]
        cosine = {
            cid: 1.0 - float(d) for cid, d in zip(vector_ids, (result["distances"] or [[]])[0], strict=True)
        }
        language = language_of(locale) if locale else _query_language(query)
        bm25_ids = snapshot.top(analyze_query(query, language), candidates, where, prefer=language)
        fused: dict[str, float] = {}
        for ranking in (vector_ids, bm25_ids):
            for rank, chunk_id in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        best = sorted(fused, key=lambda cid: fused[cid], reverse=True)[:k]
        return self._hits(collection, snapshot, best, cosine, fused, vector)

    def _hits(
        self,
        collection: Collection,
        snapshot: Snapshot,
        best: list[str],
        cosine: dict[str, float],
        fused: dict[str, float],
        vector: np.ndarray,
    ) -> list[SearchHit]:
        hits: dict[str, SearchHit] = {}
        missing: list[str] = []
        for chunk_id in best:
            row = snapshot.row(chunk_id)
            score = cosine.get(chunk_id)
            if score is None:
                score = snapshot.cosine(chunk_id, vector)
            if row is None or score is None:
                missing.append(chunk_id)  # written after the snapshot was read: fetch it
                continue
            hits[chunk_id] = make_hit(chunk_id, row.document, row.metadata, score)
        if missing:
            rows = collection.get(ids=missing, include=["documents", "metadatas", "embeddings"])
            vectors = np.asarray(rows["embeddings"], dtype=np.float32).reshape(len(rows["ids"]), -1)
            for chunk_id, doc, meta, row_vector in zip(
                rows["ids"], rows["documents"] or [], rows["metadatas"] or [], vectors, strict=True
            ):
                hits[chunk_id] = make_hit(chunk_id, doc, meta, float(row_vector @ vector))
        ranked = []
        for chunk_id in best:
            hit = hits.get(chunk_id)
            if hit is not None:  # deleted between the query and the fetch: skipped
                hit.fused_score = fused[chunk_id]
                ranked.append(hit)
        return ranked

    def _snapshot(self, collection: Collection) -> Snapshot:
        key = (str(collection.id), str((collection.metadata or {}).get("revision", "")))
        snapshot = self._bm25
        if snapshot is None or snapshot.key != key:
            with self._lock:  # one thread reads the collection; the others wait for its snapshot
                if self._bm25 is None or self._bm25.key != key:
                    self._bm25 = Snapshot.read(collection, key)
                snapshot = self._bm25
        return snapshot

    def warm(self) -> None:
        """Load what the first search would (model, client, BM25 snapshot) so no customer waits for it."""
        self.encode_query("warm up")
        collection = self._open_for_search()
        if collection is not None and self.settings.hybrid_search:
            self._snapshot(collection)

    # --- reading -------------------------------------------------------------------------------------

    def get_article(self, article_id: str) -> list[SearchHit]:
        """The article's chunks in reading order (score 0.0: not a search result), [] if unknown."""

        def read() -> list[SearchHit]:
            collection = self._open_for_search()
            if collection is None:
                return []
            rows = collection.get(where={"article_id": article_id}, include=["documents", "metadatas"])
            return [
                make_hit(chunk_id, doc, meta, 0.0)
                for chunk_id, doc, meta in zip(
                    rows["ids"], rows["documents"] or [], rows["metadatas"] or [], strict=True
                )
            ]

        return sorted(guarded("reading an article", read), key=lambda hit: hit.chunk_index)

    def stats(self) -> dict[str, Any]:
        """Chunk and article counts and the recorded embedding model (empty collection: zeros)."""
        collection = self._collection(create=False)
        if collection is None:
            return {"collection": self.collection_name, "chunks": 0, "articles": 0, "embedding_model": None}
        return {
            "collection": self.collection_name,
            "chunks": collection.count(),
            "articles": len(stored_articles(collection)),
            "embedding_model": (collection.metadata or {}).get("embedding_model"),
        }

    def health(self) -> str:
        """Returns "ok", or raises IndexUnavailable / KnowledgeIndexError saying what is wrong."""

        def check() -> str:
            collection = self._open_for_search()
            if collection is None or collection.count() == 0:
                raise KnowledgeIndexError("help-centre index is empty (run `parley ingest`)")
            collection.peek(limit=1)  # reads a row: a corrupt database fails here, not only at open
            return "ok"

        try:
            return guarded("index health check", check)
        except IndexUnavailable:
            self._reopen()
            raise


def _query_language(query: str) -> str:
    from knowledge.language import detect_language

    return detect_language(query)
