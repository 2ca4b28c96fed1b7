"""What the evaluation searches the help centre with: any object with `.search(query, k=...)` returning
hits with an `article_id`, and a deliberately broken one that proves the regression gate works."""

from __future__ import annotations

import random
from typing import Any

Retriever = Any  # anything with .search(query, k=...) -> list[SearchHit-like]


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
