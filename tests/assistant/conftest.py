"""One sample shop + help-centre index per test session (real SQLite, real Chroma, real MiniLM).

Building it embeds the whole sample help centre (tens of seconds on 2 cores), so every test of the assistant
core shares it. Tests that change orders reset the shop first (`fresh_shop`: re-importing the generated shop
takes a fraction of a second); the help-centre index is never written by a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from knowledge.settings import Settings

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "knowledge" / "sample_data"


@dataclass
class SampleDesk:
    """The shared data dir, its Settings, the generated shop data and a SupportService on them."""

    settings: Settings
    shop_data: Any  # assistant.shop.schema.ShopData, as generated (the state fresh_shop restores)
    service: Any  # assistant.service.SupportService

    def reset_shop(self) -> None:
        self.service.shop.import_data(self.shop_data, replace=True)

    def settings_with(self, **overrides: Any) -> Settings:
        """Settings on the same data (database, index, checkpoints), with some fields changed."""
        return self.settings.model_copy(update=overrides)

    def service_with(self, **overrides: Any) -> Any:
        """A new SupportService on the same data, sharing the slow-to-build parts of the shared one."""
        from assistant.parts import ServiceParts
        from assistant.service import SupportService

        settings = self.settings_with(**overrides)
        shared = self.service.parts  # the loaded model and its cached embeddings, on the same data dir
        parts = ServiceParts(
            settings,
            embedder=shared.embedder,
            encoder=shared.encoder,
            guard=shared.guard,
            shop=shared.shop,
            conversations=shared.conversations,
            help_center=shared.help_center,
        )
        return SupportService(settings, parts)


def build_sample_settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, llm_provider="offline", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def sample_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleDesk]:
    from assistant.service import SupportService
    from assistant.shop.generator import generate_shop
    from knowledge.index import HelpCenterIndex

    settings = build_sample_settings(tmp_path_factory.mktemp("sample-desk") / "parley")
    settings.ensure_data_dir()
    data = generate_shop(seed=7)
    service = SupportService(settings)
    service.shop.import_data(data, replace=True)
    report = HelpCenterIndex(settings).ingest(
        [SAMPLE_DATA / "help_center", SAMPLE_DATA / "faq.csv"], progress=False
    )
    assert report.ok and report.added, report.errors
    yield SampleDesk(settings=settings, shop_data=data, service=service)


@pytest.fixture
def fresh_shop(sample_desk: SampleDesk) -> SampleDesk:
    """The shared desk with the shop restored to the generated data (for tests that change orders)."""
    sample_desk.reset_shop()
    return sample_desk
