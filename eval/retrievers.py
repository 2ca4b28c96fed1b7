"""What the evaluation searches the help centre with: any object with `.search(query, k=...)` returning
hits with an `article_id`, and a deliberately broken one that proves the regression gate works."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any

Retriever = Any  # anything with .search(query, k=...) -> list[SearchHit-like]
RRF_K = 60  # the usual reciprocal-rank-fusion constant, as in the index's own hybrid fusion


def fuse_articles(rankings: Iterable[Sequence[str]], rrf_k: int = RRF_K) -> list[str]:
    """Articles ranked by reciprocal-rank fusion of several rankings of article ids: each ranking counts an
    article once, at its first position (ties keep the order of first appearance)."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, article_id in enumerate(dict.fromkeys(ranking)):
            scores[article_id] = scores.get(article_id, 0.0) + 1.0 / (rrf_k + rank + 1)
    return sorted(scores, key=lambda article_id: scores[article_id], reverse=True)


def search_fused(retriever: Retriever, queries: Sequence[str], k: int) -> list[str]:
    """Article ids for several searches at once: each query's top k chunks, fused by `fuse_articles`."""
    return fuse_articles([h.article_id for h in retriever.search(q, k=k)] for q in queries)


class ShuffledRetriever:
    """A deliberately broken retriever: the real index's hits for a random unrelated query.

    Used to prove that the regression gate catches a retrieval regression (tests/eval/test_gate.py) and
    available from the CLI as `--retriever broken`."""

    DECOYS = ("gift wrapping", "warehouse jobs", "loyalty points", "store opening hours", "kayak")

    def __init__(self, inner: Retriever, seed: int = 0) -> None:
        self.inner = inner
        self.random = random.Random(seed)
        self.client = getattr(inner, "client", None)

    def search(self, query: str, k: int = 5, locale: str | None = None) -> list[Any]:
        return list(self.inner.search(self.random.choice(self.DECOYS), k=k))
