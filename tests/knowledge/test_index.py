"""HelpCenterIndex against real Chroma (embedded and a `chroma run` server) and the real MiniLM model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from knowledge.embeddings import Embedder, get_embedder
from knowledge.index import (
    EmbeddingModelMismatch,
    HelpCenterIndex,
    get_chroma_client,
    parse_chroma_url,
)
from knowledge.settings import Settings
from tests.conftest import BANKING_DOCS, free_port, require_or_skip
from tests.knowledge.test_embeddings import EmbeddingStub


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder(Settings(_env_file=None))  # type: ignore[call-arg]


def make_corpus(root: Path) -> Path:
    """A small help centre in every format."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "returns.md").write_text(
        "---\nid: returns\ntitle: Returning an item\nurl: https://help.example/returns\nlocale: en\n---\n"
        "You can return most items.\n\n"
        "## Return window\nItems can be returned within 30 days of delivery.\n\n"
        "## Refund timing\nRefunds reach your card five to seven business days after we receive the parcel.\n"
    )
    (root / "password.html").write_text(
        "<html lang='en-GB'><head><title>Reset your password</title></head><body><h1>Reset your password</h1>"
        "<p>Click 'Forgot password' on the sign-in page and follow the emailed link.</p>"
        "<h2>Locked account</h2><p>After five failed attempts the account locks for 15 minutes.</p>"
        "</body></html>"
    )
    (root / "livraison.json").write_text(
        json.dumps([
            {"id": "livraison", "title": "Délais de livraison", "locale": "fr",
             "content": "La livraison standard prend trois à cinq jours ouvrés."},
            {"id": "shipping", "title": "Shipping times", "locale": "en-US",
             "content": "Standard shipping takes three to five business days. Express ships next day."},
        ])
    )  # fmt: skip
    (root / "faq.csv").write_text(
        "question,answer,locale\nDo you sell gift cards?,Yes: digital gift cards from 10 to 500 dollars.,en\n"
    )
    return root


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "kb")


@pytest.fixture
def index(settings: Settings, embedder: Embedder) -> HelpCenterIndex:
    return HelpCenterIndex(settings, embedder=embedder)


def test_ingest_search_and_get_article(index: HelpCenterIndex, corpus: Path) -> None:
    report = index.ingest([corpus], progress=False)
    assert report.ok and report.files_read == 4
    assert sorted(report.added) == sorted(
        ["returns", "password", "livraison", "shipping", "faq-do-you-sell-gift-cards"]
    )
    assert report.chunks_embedded == index.stats()["chunks"] >= 7
    assert index.stats()["embedding_model"] == "local:all-MiniLM-L6-v2"

    [top, *_] = index.search("how long until I get my money back?", k=3)
    assert (top.article_id, top.section, top.url) == (
        "returns",
        "Refund timing",
        "https://help.example/returns",
    )
    assert 0.3 < top.score <= 1.0
    assert index.search("my account is locked", k=1)[0].section == "Locked account"

    chunks = index.get_article("returns")
    assert [c.section for c in chunks] == ["", "Return window", "Refund timing"]
    assert [c.chunk_index for c in chunks] == [0, 1, 2]
    assert index.get_article("nope") == []


@pytest.mark.parametrize("hybrid", [False, True])
def test_score_is_the_cosine_similarity(
    settings: Settings, embedder: Embedder, corpus: Path, hybrid: bool
) -> None:
    index = HelpCenterIndex(settings.model_copy(update={"hybrid_search": hybrid}), embedder=embedder)
    index.ingest([corpus], progress=False)
    query = "express delivery next day"
    hits = index.search(query, k=4)
    assert len(hits) == 4 and hits[0].article_id == "shipping"
    query_vector = embedder.encode([query])[0]
    chunk_vectors = embedder.encode([index_text(h.title, h.section, h.text) for h in hits])
    assert np.allclose([h.score for h in hits], chunk_vectors @ query_vector, atol=1e-3)
    if hybrid:
        fused = [h.fused_score for h in hits]
        assert all(f is not None for f in fused) and fused == sorted(fused, reverse=True)  # type: ignore[type-var]
    else:
        assert all(h.fused_score is None for h in hits)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def index_text(title: str, section: str, text: str) -> str:
    header = title if not section or section == title else f"{title} — {section}"
    return f"{header}\n\n{text}"


def test_locale_filter(index: HelpCenterIndex, corpus: Path) -> None:
    index.ingest([corpus], progress=False)
    french = index.search("combien de jours pour la livraison", k=5, locale="fr")
    assert {h.article_id for h in french} == {"livraison"}
    english = index.search("delivery time", k=10, locale="en")  # en matches en, en-gb, en-us
    assert {h.locale for h in english} == {"en", "en-gb", "en-us"}
    assert {h.article_id for h in index.search("delivery", k=10, locale="en-US")} == {"shipping"}
    assert index.search("delivery", k=5, locale="de") == []


def test_hash_upsert_unchanged_edited_removed(index: HelpCenterIndex, corpus: Path) -> None:
    first = index.ingest([corpus], progress=False)
    again = index.ingest([corpus], progress=False)
    assert again.chunks_embedded == 0 and again.added == again.updated == again.deleted == []
    assert sorted(again.unchanged) == sorted(first.added)

    old_ids = {c.chunk_id for c in index.get_article("returns")}
    text = (corpus / "returns.md").read_text()
    (corpus / "returns.md").write_text(text.replace("30 days", "60 days"))
    edited = index.ingest([corpus], progress=False)
    assert edited.updated == ["returns"] and len(edited.unchanged) == 4
    assert edited.chunks_embedded == 1  # only the changed section; the others keep their vectors
    new_chunks = index.get_article("returns")
    assert "60 days" in new_chunks[1].text and len(new_chunks) == 3
    assert len(old_ids - {c.chunk_id for c in new_chunks}) == 1  # the old chunk is gone
    assert "60 days" in index.search("return window", k=1)[0].text

    (corpus / "faq.csv").unlink()
    kept = index.ingest([corpus], progress=False)
    assert kept.deleted == [] and index.get_article("faq-do-you-sell-gift-cards") != []
    pruned = index.ingest([corpus], prune=True, progress=False)
    assert pruned.deleted == ["faq-do-you-sell-gift-cards"] and pruned.chunks_embedded == 0
    assert index.get_article("faq-do-you-sell-gift-cards") == []
    assert index.stats()["articles"] == 4


def test_prune_keeps_articles_of_other_folders_and_of_failed_files(
    index: HelpCenterIndex, corpus: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "extra.md").write_text("# Extra\nSomething else entirely.")
    index.ingest([corpus, other], progress=False)
    (corpus / "livraison.json").write_text("{ not json")  # broken now: its articles must survive --prune
    report = index.ingest([corpus], prune=True, progress=False)
    assert not report.ok and report.deleted == []
    assert index.get_article("extra") and index.get_article("shipping")


def test_bad_input_is_reported_and_the_run_continues(
    index: HelpCenterIndex, corpus: Path, settings: Settings
) -> None:
    (corpus / "binary.md").write_bytes(bytes(range(256)) * 4)
    (corpus / "broken.json").write_text('[{"id": "x", "content": "y"')
    (corpus / "empty.md").write_text("")
    with (corpus / "huge.txt").open("wb") as handle:
        handle.truncate(20_000_000)  # 20 MB, over settings.max_source_file_bytes
    # Read after returns.md (files are read in sorted order): the first one wins, the second is reported.
    (corpus / "zz-dupe.md").write_text("---\nid: returns\n---\nA second article claiming the same id.")
    report = index.ingest([corpus], progress=False)
    assert not report.ok
    assert len(report.added) == 5  # every good article still indexed
    reasons = {Path(e.path).name: e.reason for e in report.errors}
    assert set(reasons) == {"binary.md", "broken.json", "empty.md", "huge.txt", "zz-dupe.md"}
    assert reasons["huge.txt"].startswith("file too large")
    assert "duplicate article id 'returns'" in reasons["zz-dupe.md"]


def test_embedding_model_mismatch_is_refused(
    index: HelpCenterIndex, corpus: Path, settings: Settings
) -> None:
    index.ingest([corpus], progress=False)
    with EmbeddingStub() as stub:
        other_settings = settings.model_copy(
            update={
                "embedding_provider": "openai",
                "embedding_model": "stub-embed",
                "embedding_base_url": stub.url,
            }
        )
        other = HelpCenterIndex(other_settings)
        with pytest.raises(
            EmbeddingModelMismatch, match="built with embedding model 'local:all-MiniLM-L6-v2'"
        ):
            other.search("refund")
        with pytest.raises(EmbeddingModelMismatch, match="'openai:stub-embed'"):
            other.ingest([corpus], progress=False)
        # Another collection is fine: it records the other model.
        separate = HelpCenterIndex(other_settings, collection_name="help_stub")
        assert separate.ingest([corpus / "faq.csv"], progress=False).added
        assert separate.stats()["embedding_model"] == "openai:stub-embed"
    assert index.search("refund", k=1)  # the original collection is untouched


def test_bm25_cache_follows_collection_changes(index: HelpCenterIndex, corpus: Path) -> None:
    index.ingest([corpus], progress=False)
    index.search("gift cards", k=2)
    first_key = index._bm25.key if index._bm25 else None
    (corpus / "zorblax.md").write_text("# Zorblax loyalty tier\nZorblax members get free returns.")
    index.ingest([corpus], progress=False)
    hits = index.search("zorblax", k=1)
    assert hits[0].article_id == "zorblax"
    assert index._bm25 is not None and index._bm25.key != first_key
    unchanged_key = index._bm25.key
    index.ingest([corpus], progress=False)  # nothing changed: the cache stays valid
    index.search("zorblax", k=1)
    assert index._bm25.key == unchanged_key


def test_empty_query_and_missing_collection(index: HelpCenterIndex) -> None:
    assert index.search("anything") == []  # nothing ingested yet
    assert index.search("   ") == []
    assert index.stats()["chunks"] == 0


def test_parse_chroma_url() -> None:
    assert parse_chroma_url("http://127.0.0.1:8123") == ("127.0.0.1", 8123, False)
    assert parse_chroma_url("https://chroma.internal") == ("chroma.internal", 443, True)
    assert parse_chroma_url("localhost:9000") == ("localhost", 9000, False)


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    chroma = Path(sys.executable).parent / "chroma"
    require_or_skip(chroma.exists() or shutil.which("chroma") is not None, "the chroma CLI is not installed")
    port = free_port()
    process = subprocess.Popen(
        [str(chroma if chroma.exists() else "chroma"), "run", "--path", str(tmp_path / "server"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma server did not start (exit code {process.poll()})")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.slow
def test_http_client_against_a_real_chroma_server(
    chroma_server: str, settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    server_settings = settings.model_copy(update={"chroma_url": chroma_server})
    client = get_chroma_client(server_settings)
    assert type(client).__name__ != "PersistentClient" and client.heartbeat() > 0
    index = HelpCenterIndex(server_settings, embedder=embedder)
    assert len(index.ingest([corpus], progress=False).added) == 5
    assert index.ingest([corpus], progress=False).chunks_embedded == 0
    hits = index.search("how long until I get my money back?", k=3)
    assert hits[0].article_id == "returns" and hits[0].fused_score is not None  # hybrid, BM25 from the server
    assert not (settings.data_dir / "chroma").exists()  # nothing was written locally


@pytest.mark.slow
def test_banking_knowledge_ingest_is_idempotent(settings: Settings, embedder: Embedder) -> None:
    require_or_skip(BANKING_DOCS.exists(), f"banking_knowledge not found at {BANKING_DOCS}")
    index = HelpCenterIndex(settings, embedder=embedder)
    first = index.ingest([BANKING_DOCS], progress=False)
    assert first.ok and len(first.added) == 698
    second = index.ingest([BANKING_DOCS], progress=False)
    assert len(second.unchanged) == 698 and second.chunks_embedded == 0
    hits = index.search("I want to open a personal checking account", k=5)
    assert any(h.article_id.startswith("doc_bank_accounts") for h in hits)
