"""Chroma access shared by every collection Parley keeps (help centre, orders): one client factory, one
collection opener that records and checks the embedding model, one error vocabulary.

Errors a caller may see:
- `KnowledgeIndexError`: the index cannot be used as asked (bad collection name, unreachable server).
- `EmbeddingModelMismatch`: the collection was built with another embedding model than the configured one.
- `IndexUnavailable`: the index is damaged, missing or unreadable right now (a corrupt `chroma.sqlite3`, the
  folder moved away, a server that stopped answering). A running assistant turns it into "I can't search
  right now, let me get a person"; `/healthz` reports the index as degraded. Never a crash.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack
from urllib.parse import urlparse

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from knowledge.embeddings import Embedder
    from knowledge.settings import Settings

T = TypeVar("T")


class KnowledgeIndexError(RuntimeError):
    """The index cannot be used as asked (wrong embedding model, unreachable server, ...)."""


class EmbeddingModelMismatch(KnowledgeIndexError):
    """The collection was built with another embedding model than the one configured."""


class IndexUnavailable(KnowledgeIndexError):
    """The index is damaged, missing or cannot be read right now: search cannot answer (hand over)."""


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


def chroma_path(settings: Settings) -> Path:
    return settings.chroma_path if settings.chroma_path is not None else settings.data_dir / "chroma"


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
    path = chroma_path(settings)
    path.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except Exception as exc:  # a corrupt chroma.sqlite3 fails here, with sqlite or Chroma errors
        raise IndexUnavailable(f"cannot open the index at {path}: {type(exc).__name__}: {exc}") from exc


def forget_local_client(settings: Settings) -> None:
    """Drop Chroma's in-process cache of the embedded client for this path, so the next client reads the
    files again. Chroma keeps one `System` (with the HNSW segments loaded in memory) per path for the
    process's life; after another process (`parley ingest`) changed the collection, or the folder was
    restored, only a fresh System sees the new vectors."""
    if settings.chroma_url:
        return
    from chromadb.api.shared_system_client import SharedSystemClient

    key = str(chroma_path(settings))
    system = SharedSystemClient._identifier_to_system.pop(key, None)
    if system is not None:
        # Not stopped: other objects of this process may still hold a client on it (they keep working on
        # what they read); it is garbage once they let go.
        del system


def new_revision() -> str:
    return uuid.uuid4().hex


def model_metadata(embedder: Embedder, revision: bool) -> dict[str, Any]:
    """The metadata every collection records: which model made its vectors (and a revision id)."""
    meta: dict[str, Any] = {"embedding_model": embedder.name, "embedding_dim": embedder.dim}
    if revision:
        meta["revision"] = new_revision()
    return meta


def open_collection(
    client: ClientAPI,
    name: str,
    embedder: Callable[[], Embedder],
    create: bool,
    revision: bool,
    mismatch_hint: str,
) -> Collection | None:
    """The collection `name` (created with cosine space when `create`), after checking that it was built
    with the configured embedding model; None when it does not exist and `create` is False.

    `embedder` is a callable so that a look-up that finds the right model recorded never loads it."""
    from chromadb.errors import InvalidArgumentError, NotFoundError

    try:
        try:
            collection = client.get_collection(name)
        except NotFoundError:
            if not create:
                return None
            # get_or_create: another process may create it at the same moment; the check below then
            # still compares its recorded model with ours.
            collection = client.get_or_create_collection(
                name,
                metadata=model_metadata(embedder(), revision),
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )
    except (ValueError, InvalidArgumentError) as exc:  # e.g. a name Chroma refuses (under 3 characters)
        raise KnowledgeIndexError(f"invalid collection name {name!r}: {exc}") from exc
    recorded = (collection.metadata or {}).get("embedding_model")
    configured = embedder().name
    if recorded != configured:
        if recorded is None and create and collection.count() == 0:
            collection.modify(metadata=model_metadata(embedder(), revision))
            return collection
        raise EmbeddingModelMismatch(
            f"collection {name!r} was built with embedding model {recorded!r}, but the configured model "
            f"is {configured!r}; vectors of two models cannot be compared. {mismatch_hint}"
        )
    return collection


def guarded(what: str, call: Callable[[], T]) -> T:
    """Run one index operation; anything Chroma or SQLite raises (other than our own errors) becomes
    IndexUnavailable with `what` and the cause, so callers handle one exception."""
    try:
        return call()
    except KnowledgeIndexError:
        raise
    except Exception as exc:
        raise IndexUnavailable(f"{what} failed: {type(exc).__name__}: {exc}"[:500]) from exc


class CollectionParts(TypedDict, total=False):
    """What a ChromaCollection may be given instead of opening it from the settings (None: open it)."""

    client: ClientAPI | None
    embedder: Embedder | None
    collection_name: str | None


class ChromaCollection:
    """A named collection with its client and embedder, each opened on first use (index and orders)."""

    mismatch_hint = "Use the same embedding model, or another collection."
    keeps_revision = False  # stamps a revision on every write (what lets other processes see a re-ingest)
    collection_setting = "help_collection"  # the Settings field naming the default collection

    def __init__(self, settings: Settings, **parts: Unpack[CollectionParts]) -> None:
        self.settings = settings
        self._client = parts.get("client")
        self._embedder = parts.get("embedder")
        self.collection_name = parts.get("collection_name") or str(getattr(settings, self.collection_setting))

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

    def _collection(self, create: bool) -> Collection | None:
        """The collection (created when asked), after checking it was built with our embedding model."""
        return open_collection(
            self.client,
            self.collection_name,
            lambda: self.embedder,
            create=create,
            revision=self.keeps_revision,
            mismatch_hint=self.mismatch_hint,
        )
