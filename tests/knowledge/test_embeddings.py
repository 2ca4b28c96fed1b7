"""Embeddings: the real local MiniLM model, and the OpenAI-compatible client against a local HTTP stub."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from knowledge.embeddings import EmbeddingError, LocalEmbedder, OpenAIEmbedder, get_embedder
from knowledge.settings import Settings

STUB_DIM = 8


def stub_vector(text: str) -> list[float]:
    """A deterministic, unnormalised vector for a text (what the stub server answers)."""
    digest = hashlib.sha256(text.encode()).digest()
    return [float(b) - 100.0 for b in digest[:STUB_DIM]]


class EmbeddingStub:
    """A tiny OpenAI-compatible /v1/embeddings server on 127.0.0.1 (free port), recording requests."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail = False
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(body)
                if stub.fail or self.path != "/v1/embeddings":
                    self.send_response(500 if stub.fail else 404)
                    self.end_headers()
                    return
                texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
                # Answer in reverse order: the client must sort by `index`.
                data = [
                    {"object": "embedding", "index": i, "embedding": stub_vector(t)}
                    for i, t in enumerate(texts)
                ]
                payload = json.dumps({
                    "object": "list", "model": body["model"], "data": data[::-1],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                }).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> EmbeddingStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def embedding_stub() -> Iterator[EmbeddingStub]:
    with EmbeddingStub() as stub:
        yield stub


@pytest.fixture(scope="module")
def local_embedder() -> LocalEmbedder:
    embedder = get_embedder(Settings(_env_file=None))  # type: ignore[call-arg]
    assert isinstance(embedder, LocalEmbedder)
    return embedder


def test_local_embedder_is_cached_and_named(local_embedder: LocalEmbedder, settings: Settings) -> None:
    assert get_embedder(settings) is local_embedder
    assert local_embedder.name == "local:all-MiniLM-L6-v2"
    assert local_embedder.dim == 384


def test_local_encode_is_normalised_and_semantic(local_embedder: LocalEmbedder) -> None:
    vectors = local_embedder.encode(
        ["How do I reset my password?", "I forgot my password", "Shipping to Canada"]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    similar, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    assert similar > unrelated + 0.2
    assert local_embedder.encode([]).shape == (0, 384)


def test_local_documents_and_query_agree(local_embedder: LocalEmbedder) -> None:
    texts = [f"text number {i}" for i in range(5)]
    documents = local_embedder.embed_documents(texts)
    assert len(documents) == 5 and all(len(v) == 384 for v in documents)
    assert np.allclose(local_embedder.embed_query(texts[2]), documents[2], atol=1e-5)


def test_unknown_local_model_is_a_clear_error() -> None:
    settings = Settings(embedding_model="no-such-model", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(EmbeddingError, match="unknown local embedding model 'no-such-model'"):
        get_embedder(settings)


def test_openai_embedder_batches_and_normalises(embedding_stub: EmbeddingStub) -> None:
    settings = Settings(  # type: ignore[call-arg]
        embedding_provider="openai", embedding_model="stub-embed", embedding_base_url=embedding_stub.url,
        embedding_batch_size=2, _env_file=None,
    )  # fmt: skip
    embedder = get_embedder(settings)
    assert isinstance(embedder, OpenAIEmbedder) and embedder.name == "openai:stub-embed"
    texts = ["a", "b", "c", "d", "e"]
    vectors = embedder.encode(texts)
    assert [len(r["input"]) for r in embedding_stub.requests] == [2, 2, 1]  # batched by settings
    assert {r["model"] for r in embedding_stub.requests} == {"stub-embed"}
    expected = np.asarray([stub_vector(t) for t in texts])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert np.allclose(vectors, expected, atol=1e-6)  # right order despite the reversed answer
    assert embedder.dim == STUB_DIM
    assert np.allclose(embedder.embed_query("c"), expected[2], atol=1e-6)


def test_openai_endpoint_failure_is_a_clear_error(embedding_stub: EmbeddingStub) -> None:
    embedding_stub.fail = True
    embedder = OpenAIEmbedder("stub-embed", embedding_stub.url, None, batch_size=4)
    embedder.client = embedder.client.with_options(max_retries=0)
    with pytest.raises(EmbeddingError, match="embedding endpoint failed for model 'stub-embed'"):
        embedder.encode(["x"])


def test_cached_encoder_embeds_each_text_once_and_keeps_order() -> None:
    import numpy as np

    from knowledge.embeddings import CachedEncoder

    batches: list[list[str]] = []

    def encode(texts: list[str]) -> np.ndarray:
        batches.append(list(texts))
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32).reshape(-1, 2)

    cached = CachedEncoder(encode, max_items=3)
    first = cached(["aa", "b", "aa"])
    assert first[:, 0].tolist() == [2.0, 1.0, 2.0]
    assert batches == [["aa", "b"]]  # a repeated text in one call is embedded once
    again = cached(["b", "cccc"])
    assert again[:, 0].tolist() == [1.0, 4.0] and batches[-1] == ["cccc"]
    assert (cached.hits, cached.misses) == (2, 3)
    again[0, 0] = 99.0  # callers get copies: the cache cannot be corrupted
    assert cached(["b"])[0, 0] == 1.0
    cached(["d"])  # over max_items: the least recently used text ("aa") is dropped
    cached(["aa"])
    assert batches[-1] == ["aa"]
    assert cached([]).shape == (0, 2)
