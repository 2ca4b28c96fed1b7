"""Fault injection for the help-centre index: missing, corrupt, and changing under a running search.

Issue 11 (item 6) found: questions about an article added by a concurrent `parley ingest` got 503 until a
restart (`chromadb InternalError: Error finding id`: BM25 rebuilt, vectors not); a corrupt `chroma.sqlite3`
made the server exit; a moved index folder still reported healthy. Here a search either answers from the
index as it is now or raises `IndexUnavailable` (one well-defined exception), and recovers by itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from knowledge.chroma import IndexUnavailable, KnowledgeIndexError
from knowledge.embeddings import Embedder, get_embedder
from knowledge.index import HelpCenterIndex
from knowledge.settings import Settings
from tests.conftest import REPO_ROOT
from tests.knowledge.test_index import make_corpus

pytestmark = pytest.mark.slow  # real model, real Chroma, a real second process


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder(Settings(_env_file=None))  # type: ignore[call-arg]


@pytest.fixture
def ready(settings: Settings, embedder: Embedder, tmp_path: Path) -> tuple[HelpCenterIndex, Path]:
    corpus = make_corpus(tmp_path / "kb")
    index = HelpCenterIndex(settings, embedder=embedder)
    assert index.ingest([corpus], progress=False).ok
    assert index.search("gift cards", k=1)[0].article_id == "faq-do-you-sell-gift-cards"
    return index, corpus


def run_parley_ingest(settings: Settings, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PARLEY_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", *map(str, paths), "--no-progress"],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT,
    )  # fmt: skip


def test_a_running_search_sees_an_ingest_by_another_process(ready: tuple[HelpCenterIndex, Path]) -> None:
    index, corpus = ready
    (corpus / "zorblax.md").write_text("# Zorblax loyalty tier\nZorblax members get free returns for life.\n")
    (corpus / "faq.csv").unlink()
    done = run_parley_ingest(index.settings, corpus, "--prune")
    assert done.returncode == 0, done.stderr
    hits = index.search("zorblax members", k=3)  # the same object, as in a server that kept running
    assert hits[0].article_id == "zorblax" and "free returns" in hits[0].text
    assert 0.3 < hits[0].score <= 1.0  # its vector is there too, not only its BM25 words
    assert all(h.article_id != "faq-do-you-sell-gift-cards" for h in index.search("gift cards", k=5))


def test_searches_during_repeated_ingests_never_fail(ready: tuple[HelpCenterIndex, Path]) -> None:
    index, corpus = ready
    errors: list[BaseException] = []
    stop = threading.Event()

    def search_loop() -> None:
        while not stop.is_set():
            try:
                index.search("how long until I get my money back?", k=3)
            except BaseException as exc:  # noqa: BLE001 - every failure is what this test looks for
                errors.append(exc)

    reader = threading.Thread(target=search_loop)
    reader.start()
    try:
        writer = HelpCenterIndex(index.settings, embedder=index.embedder)  # another client, like a CLI
        for round_number in range(4):
            (corpus / "changing.md").write_text(
                f"# Changing\nRound {round_number} of edits to the returns.\n"
            )
            assert writer.ingest([corpus], prune=True, progress=False).ok
    finally:
        stop.set()
        reader.join(timeout=60)
    assert errors == []
    assert "Round 3" in index.search("round of edits changing", k=1)[0].text


def test_a_corrupt_database_raises_index_unavailable(ready: tuple[HelpCenterIndex, Path]) -> None:
    index, _ = ready
    database = Path(index.settings.data_dir) / "chroma" / "chroma.sqlite3"
    database.write_bytes(b"this is not a sqlite database" * 1000)
    with pytest.raises(IndexUnavailable):
        index.search("gift cards", k=1)
    with pytest.raises(IndexUnavailable):
        index.health()
    fresh = HelpCenterIndex(index.settings, embedder=index.embedder)  # a process starting on it
    with pytest.raises(IndexUnavailable):
        fresh.search("gift cards", k=1)


def test_a_moved_index_is_unavailable_and_works_again_when_restored(
    ready: tuple[HelpCenterIndex, Path],
) -> None:
    index, _ = ready
    folder = Path(index.settings.data_dir) / "chroma"
    moved = folder.with_name("chroma-moved")
    shutil.move(folder, moved)
    try:
        with pytest.raises(IndexUnavailable, match="missing"):
            index.search("gift cards", k=1)
        with pytest.raises(IndexUnavailable, match="missing"):
            index.health()
    finally:
        shutil.move(moved, folder)
    assert index.search("gift cards", k=1)[0].article_id == "faq-do-you-sell-gift-cards"
    assert index.health() == "ok"


def test_index_unavailable_is_a_knowledge_index_error() -> None:
    # Callers that already catch KnowledgeIndexError keep working; new ones can tell damage apart.
    assert issubclass(IndexUnavailable, KnowledgeIndexError)


def test_health_of_an_empty_index_says_so(settings: Settings, embedder: Embedder) -> None:
    with pytest.raises(KnowledgeIndexError, match="empty"):
        HelpCenterIndex(settings, embedder=embedder).health()
