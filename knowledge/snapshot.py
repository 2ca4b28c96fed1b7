"""An in-memory snapshot of one help-centre collection: its rows and a BM25 index over them.

Hybrid search needs every chunk's words (BM25) and, for chunks found by BM25 alone, their text, metadata and
vector. Reading them from Chroma on every query cost a second round trip per search; the snapshot reads the
whole collection once per collection *revision* (a random id written into the collection metadata by every
ingest that changed something), so every process, and every server sharing a Chroma server, rebuilds it
exactly when the collection changed. Vectors are kept as float16 (a 50k-chunk help centre: 38 MB).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from knowledge.lexical import analyze, language_of

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

PAGE = 2000  # rows per collection.get page when reading the whole collection


@dataclass(frozen=True)
class Row:
    chunk_id: str
    document: str
    metadata: Mapping[str, Any]


class Bm25:
    """Okapi BM25 (k1=1.5, b=0.75, the rank-bm25 defaults) with an inverted index: a query touches only the
    postings of its own terms. Each document is analysed in its own language (`knowledge.lexical`)."""

    k1 = 1.5
    b = 0.75

    def __init__(self, documents: list[list[str]]) -> None:
        self.size = len(documents)
        postings: dict[str, dict[int, int]] = {}
        lengths = np.zeros(self.size, dtype=np.float32)
        for doc_index, terms in enumerate(documents):
            lengths[doc_index] = len(terms)
            for term in terms:
                counts = postings.setdefault(term, {})
                counts[doc_index] = counts.get(doc_index, 0) + 1
        average = float(lengths.mean()) if self.size else 1.0
        norm = self.k1 * (1 - self.b + self.b * lengths / max(average, 1e-9))
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, counts in postings.items():
            docs = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
            idf = np.log((self.size - len(docs) + 0.5) / (len(docs) + 0.5) + 1.0)  # always positive
            self.postings[term] = (docs, (idf * tf * (self.k1 + 1) / (tf + norm[docs])).astype(np.float32))

    def scores(self, terms: list[str]) -> np.ndarray:
        scores = np.zeros(self.size, dtype=np.float32)
        for term in dict.fromkeys(terms):  # a repeated query word counts once
            posting = self.postings.get(term)
            if posting is not None:
                scores[posting[0]] += posting[1]
        return scores


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indexes of the n highest positive scores, best first (ties keep index order)."""
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > n:
        candidates = candidates[np.argpartition(-scores[candidates], n - 1)[:n]]
    return candidates[np.argsort(-scores[candidates], kind="stable")]


class Snapshot:
    """Rows, float16 vectors and a BM25 index of one collection at one revision."""

    def __init__(
        self,
        key: tuple[str, str],
        ids: list[str],
        documents: list[str],
        metadatas: list[Mapping[str, Any]],
        vectors: np.ndarray,
    ) -> None:
        self.key = key
        self.ids = ids
        self.documents = documents
        self.metadatas = metadatas
        self.vectors = vectors
        self.position = {chunk_id: i for i, chunk_id in enumerate(ids)}
        self.locales = np.asarray([str(m.get("locale", "")) for m in metadatas])
        self.languages = np.asarray([str(m.get("language", "")) for m in metadatas])
        self.language_set = frozenset(self.languages.tolist())
        self.bm25 = Bm25(
            [
                analyze(f"{m.get('title', '')}\n{m.get('section', '')}\n{doc}", language_of(m.get("locale")))
                for doc, m in zip(documents, metadatas, strict=True)
            ]
        )

    @classmethod
    def read(cls, collection: Collection, key: tuple[str, str]) -> Snapshot:
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[Mapping[str, Any]] = []
        vectors: list[np.ndarray] = []
        offset = 0
        while True:
            rows = collection.get(limit=PAGE, offset=offset, include=["documents", "metadatas", "embeddings"])
            if not rows["ids"]:
                break
            ids.extend(rows["ids"])
            documents.extend(doc or "" for doc in rows["documents"] or [])
            metadatas.extend(meta or {} for meta in rows["metadatas"] or [])
            vectors.append(np.asarray(rows["embeddings"], dtype=np.float16))
            offset += len(rows["ids"])
        matrix = np.vstack(vectors) if vectors else np.zeros((0, 0), dtype=np.float16)
        return cls(key, ids, documents, metadatas, matrix)

    def row(self, chunk_id: str) -> Row | None:
        at = self.position.get(chunk_id)
        return None if at is None else Row(chunk_id, self.documents[at], self.metadatas[at])

    def cosine(self, chunk_id: str, query_vector: np.ndarray) -> float | None:
        at = self.position.get(chunk_id)
        if at is None or not len(self.vectors):
            return None
        return float(self.vectors[at].astype(np.float32) @ query_vector)

    def top(
        self, terms: list[str], n: int, where: Mapping[str, str] | None = None, prefer: str | None = None
    ) -> list[str]:
        """Ids of the n best BM25 chunks for the analysed query `terms`, optionally only where the chunk's
        `locale` or `language` equals the given value. `prefer` (a language): when the help centre has
        articles in it, only those and the ones without a declared language compete (the query's stems are
        in that language; other languages only match it by accident: names, numbers)."""
        if not self.ids or not terms:
            return []
        scores = self.bm25.scores(terms)
        if where:
            column = self.locales if "locale" in where else self.languages
            scores[column != next(iter(where.values()))] = 0.0
        elif prefer and prefer in self.language_set:
            scores[(self.languages != prefer) & (self.languages != "")] = 0.0
        return [self.ids[i] for i in top_n(scores, n)]
