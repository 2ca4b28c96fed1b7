"""The orders collection in Chroma: one short text per order, searchable only within one customer's orders.

A customer who says "my blue water bottle order" gets their order found by meaning. Every document
carries its `user_id` in the metadata and `search_orders` always filters on it, so a search can never
return another customer's order. Documents are keyed by order id and carry a content hash: indexing an
unchanged order again embeds nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.shop.schema import Order
from knowledge.chroma import ChromaCollection

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection


# Orders per embedding + upsert batch (bounded memory on big shops; Chroma batches are capped anyway).
INDEX_BATCH = 256
MAX_QUERY_CHARS = 2000
MAX_K = 50


@dataclass(frozen=True)
class OrderHit:
    """One order found for a customer; `score` is the cosine similarity (higher = closer)."""

    order_id: str
    user_id: str
    status: str
    text: str
    score: float


def order_text(order: Order) -> str:
    """The short description of an order that gets embedded (items with options, status, total, place)."""
    items = ", ".join(
        f"{item.name} ({', '.join(str(value) for value in item.options.values())})"
        if item.options
        else item.name
        for item in order.items
    )
    paid = sum(p.amount for p in order.payment_history if p.transaction_type == "payment")
    parts = [f"Order {order.order_id}: {items}", f"status {order.status}"]
    if paid:
        parts.append(f"total {paid:.2f}")
    parts.append(f"shipping to {order.address.city}, {order.address.country}")
    tracking = [t for fulfillment in order.fulfillments for t in fulfillment.tracking_id]
    if tracking:
        parts.append(f"tracking {', '.join(tracking)}")
    return "; ".join(parts)


def _content_hash(order: Order, text: str) -> str:
    return hashlib.sha256(f"{order.user_id}\x00{order.status}\x00{text}".encode()).hexdigest()


class OrdersIndex(ChromaCollection):
    """Orders in the `settings.orders_collection` Chroma collection, searched per customer."""

    mismatch_hint = "Re-index it with `parley import-orders ... --reindex` or use the same model."
    collection_setting = "orders_collection"

    def reset(self) -> None:
        """Drop the whole collection (the next index_orders starts from nothing)."""
        from chromadb.errors import NotFoundError

        with contextlib.suppress(NotFoundError):  # nothing to drop
            self.client.delete_collection(self.collection_name)

    def count(self) -> int:
        collection = self._collection(create=False)
        return 0 if collection is None else collection.count()

    def index_orders(self, orders: Iterable[Order], prune: bool = False) -> int:
        """Embed and upsert new or changed orders; returns how many were embedded (0 when all unchanged).

        With `prune`, orders in the collection that are not among `orders` are deleted (a full resync).
        """
        collection = self._collection(create=True)
        assert collection is not None  # create=True always returns one
        seen: set[str] = set()
        embedded = 0
        batch: list[Order] = []
        for order in orders:
            seen.add(order.order_id)
            batch.append(order)
            if len(batch) >= INDEX_BATCH:
                embedded += self._upsert_changed(collection, batch)
                batch = []
        if batch:
            embedded += self._upsert_changed(collection, batch)
        if prune:
            stored = collection.get(include=[])["ids"]
            stale = [order_id for order_id in stored if order_id not in seen]
            for start in range(0, len(stale), INDEX_BATCH):
                collection.delete(ids=stale[start : start + INDEX_BATCH])
        return embedded

    def _upsert_changed(self, collection: Collection, orders: list[Order]) -> int:
        unique = {order.order_id: order for order in orders}  # the last version of an order wins
        existing = collection.get(ids=list(unique), include=["metadatas"])
        stored_hash = {
            order_id: (meta or {}).get("content_hash")
            for order_id, meta in zip(existing["ids"], existing["metadatas"] or [], strict=False)
        }
        ids: list[str] = []
        texts: list[str] = []
        metadatas: list[dict[str, Any]] = []
        for order_id, order in unique.items():
            text = order_text(order)
            content_hash = _content_hash(order, text)
            if stored_hash.get(order_id) == content_hash:
                continue
            ids.append(order_id)
            texts.append(text)
            metadatas.append({"user_id": order.user_id, "status": order.status, "content_hash": content_hash})
        if not ids:
            return 0
        embeddings = self.embedder.embed_documents(texts)
        collection.upsert(ids=ids, documents=texts, embeddings=embeddings, metadatas=metadatas)  # type: ignore[arg-type]
        return len(ids)

    def search_orders(self, user_id: str, query: str, k: int = 3) -> list[OrderHit]:
        """The customer's orders closest in meaning to `query`; never another customer's orders."""
        if not isinstance(user_id, str) or not user_id.strip():
            raise ValueError("search_orders needs the authenticated customer's user_id; got an empty one")
        query = query.strip()
        if not query:
            raise ValueError("search_orders needs a non-empty query")
        if len(query) > MAX_QUERY_CHARS:
            raise ValueError(f"query is {len(query)} characters; at most {MAX_QUERY_CHARS} are allowed")
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {k}")
        collection = self._collection(create=False)
        if collection is None:
            return []
        result = collection.query(
            query_embeddings=[self.embedder.embed_query(query)],  # type: ignore[arg-type]
            n_results=k,
            where={"user_id": user_id},
            include=["documents", "metadatas", "distances"],
        )
        ids = result["ids"][0]
        documents = (result["documents"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        distances = (result["distances"] or [[]])[0]
        hits = []
        for order_id, text, meta, distance in zip(ids, documents, metadatas, distances, strict=True):
            owner = str((meta or {}).get("user_id", ""))
            if owner != user_id:  # defence in depth: the where filter already guarantees this
                continue
            hits.append(
                OrderHit(
                    order_id=order_id,
                    user_id=owner,
                    status=str((meta or {}).get("status", "")),
                    text=text or "",
                    score=1.0 - float(distance),
                )
            )
        return hits
