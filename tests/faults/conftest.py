"""The fault-injection suite's desk: a real SQLite shop and conversation store, a real Chroma index of a
few sample articles, real MiniLM, real FastAPI; only the remote model is a stub (tests/assistant/openai_stub).

One prepared data dir per session (`fault_template`); tests that damage the index or lock the database work
on their own copy (`FaultDesk.copy`). Deadlines are tiny (FAST) so a hanging model costs a fraction of a
second per fault.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from knowledge.settings import Settings
from tests.assistant.openai_stub import StubReply, start_stub_server

SAMPLE = Path(__file__).resolve().parents[2] / "knowledge" / "sample_data" / "help_center"
ARTICLES = (
    "shipping-times.md",
    "shipping-times-fr.md",
    "shipping-times-nl.md",
    "how-to-return.md",
    "refund-timing.md",
    "cancel-order.md",
    "order-tracking.md",
    "contact-us.md",
)
# Tiny limits: a hang costs FAST["turn_deadline_s"], a failing model opens the circuit after 3 failures.
FAST: dict[str, Any] = {
    "turn_deadline_s": 1.0,
    "llm_timeout_s": 0.8,
    "llm_max_retries": 0,
    "model_slot_wait_s": 0.05,
    "breaker_failures": 3,
    "breaker_cooldown_s": 60.0,
    "max_reply_chars": 4000,
}


def fault_settings(data_dir: Path, **overrides: Any) -> Settings:
    values = {"llm_provider": "offline", **overrides}
    return Settings(data_dir=data_dir, _env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Shared:
    """The slow parts, loaded once: the embedding model, its cache, the guard."""

    embedder: Any
    encoder: Any
    guard: Any
    shop_data: Any


@pytest.fixture(scope="session")
def fault_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Shared]:
    from assistant.parts import ServiceParts
    from assistant.shop.generator import generate_shop
    from knowledge.index import HelpCenterIndex

    data_dir = tmp_path_factory.mktemp("faults") / "parley"
    settings = fault_settings(data_dir)
    settings.ensure_data_dir()
    parts = ServiceParts(settings)
    data = generate_shop(seed=7)
    parts.shop.import_data(data, replace=True)
    _ = parts.conversations
    articles = tmp_path_factory.mktemp("articles")
    for name in ARTICLES:
        shutil.copy(SAMPLE / name, articles / name)
    report = HelpCenterIndex(settings, embedder=parts.embedder).ingest([articles], progress=False)
    assert report.ok and report.added, report.errors
    # Warm up (model, intents, guard) so that no fault's tiny deadline is spent loading them.
    from assistant.service import SupportService
    from knowledge.chroma import forget_local_client

    warm = SupportService(settings, parts)
    conversation, _ = warm.start_conversation(channel="test")
    warm.customer_turn(conversation.id, "how long does shipping take?")
    forget_local_client(settings)  # copies of this folder are opened by their own clients
    return data_dir, Shared(parts.embedder, parts.encoder, parts.guard, data)


@dataclass
class FaultDesk:
    """A data dir (the session's, or a copy), its settings, and services built on it."""

    data_dir: Path
    shared: Shared
    stops: list[Any] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    _parts: Any = None

    def settings(self, **overrides: Any) -> Settings:
        return fault_settings(self.data_dir, **{**FAST, **overrides})

    def service(
        self, script: list[StubReply] | None = None, *, base_url: str | None = None, **overrides: Any
    ) -> Any:
        """A SupportService on this data dir: offline, or (with a script or base_url) the openai provider on a
        stub playing `script`. The stores and the index are shared by every service of this desk."""
        from assistant.parts import ServiceParts
        from assistant.service import SupportService

        if script is not None:
            base_url, stop = start_stub_server(script, received=self.received)
            self.stops.append(stop)
        if base_url is not None:
            overrides = {
                "llm_provider": "openai",
                "llm_base_url": base_url,
                "llm_api_key": "test-key",
                "llm_model": "stub-model",
                **overrides,
            }
        settings = self.settings(**overrides)
        if self._parts is None:
            self._parts = ServiceParts(
                settings, embedder=self.shared.embedder, encoder=self.shared.encoder, guard=self.shared.guard
            )
        base = self._parts
        parts = ServiceParts(
            settings,
            embedder=self.shared.embedder,
            encoder=self.shared.encoder,
            guard=self.shared.guard,
            shop=base.shop,
            conversations=base.conversations,
            help_center=base.help_center,
        )
        _ = parts.agent, parts.planner.intents  # built before a turn, as `parley serve` warms them up
        return SupportService(settings, parts)


@pytest.fixture
def desk(fault_template: tuple[Path, Shared]) -> Iterator[FaultDesk]:
    """The session's data dir (the index is never damaged here)."""
    data_dir, shared = fault_template
    made = FaultDesk(data_dir, shared)
    yield made
    for stop in made.stops:
        stop()


@pytest.fixture
def own_desk(fault_template: tuple[Path, Shared], tmp_path: Path) -> Iterator[FaultDesk]:
    """A copy of the data dir for this test alone: damage its index, lock its database."""
    data_dir, shared = fault_template
    copy = tmp_path / "parley"
    shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns("checkpoints.sqlite*"))
    made = FaultDesk(copy, shared)
    yield made
    for stop in made.stops:
        stop()
    from knowledge.chroma import forget_local_client

    forget_local_client(made.settings())
