"""The deliberately broken retriever, around a real help-centre index: it answers a decoy query instead of
the customer's, the same way for the same seed, and keeps the index's Chroma client for the baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.retrievers import ShuffledRetriever
from knowledge.index import HelpCenterIndex
from knowledge.settings import Settings

HELP_CENTRE = Path(__file__).resolve().parents[2] / "knowledge" / "sample_data" / "help_center"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> HelpCenterIndex:
    settings = Settings(data_dir=tmp_path_factory.mktemp("parley"), _env_file=None)  # type: ignore[call-arg]
    built = HelpCenterIndex(settings)
    sources = sorted(HELP_CENTRE.glob("*.md"))[:12]
    assert built.ingest(sources, progress=False).ok
    return built


@pytest.mark.slow
def test_the_broken_retriever_searches_a_decoy_not_the_query(index: HelpCenterIndex) -> None:
    broken = ShuffledRetriever(index, seed=0)
    query = "how do I cancel my order"
    decoy = ShuffledRetriever(index, seed=0).random.choice(ShuffledRetriever.DECOYS)
    ids = [hit.article_id for hit in broken.search(query, k=3)]
    assert ids == [hit.article_id for hit in index.search(decoy, k=3)]
    again = ShuffledRetriever(index, seed=0)
    assert [hit.article_id for hit in again.search(query, k=3)] == ids  # deterministic for a seed
    assert broken.client is getattr(index, "client", None)
