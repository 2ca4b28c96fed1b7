"""The evaluation's environment: settings on a data dir, the sample shop in the database and the help
centre in the index, the τ² retail shop for conversations that ask for it, and progress bars."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.tau2 import TAU2_DIR

REPO_ROOT = Path(__file__).resolve().parent.parent
HELP_CENTER_SOURCES = (
    REPO_ROOT / "knowledge" / "sample_data" / "help_center",
    REPO_ROOT / "knowledge" / "sample_data" / "faq.csv",
)


def make_settings(data_dir: Path, provider: str | None) -> Any:
    from knowledge.settings import Settings

    # The case files sign in by email or name + zip, as τ²-bench does: the evaluation runs τ²-bench's
    # identity policy, named explicitly (the default, "verified", needs a one-time code; docs/evaluation.md).
    overrides: dict[str, Any] = {"data_dir": data_dir, "identity_policy": "tau2_benchmark"}
    if provider is not None:
        overrides["llm_provider"] = provider
    return Settings(**overrides)


def sample_shop_data() -> Any:
    from assistant.shop.generator import generate_shop

    return generate_shop()  # seed 7: the ids in the case files come from it


def tau2_shop_data() -> Any:
    from assistant.tools.replay import load_shop_data

    return load_shop_data(TAU2_DIR / "retail" / "db.json")


def prepare_environment(settings: Any, progress: bool) -> dict[str, Any]:
    """Sample shop in the database and the help centre in the index (only what is missing or changed)."""
    from assistant.shop.store import ShopStore
    from knowledge.index import HelpCenterIndex

    started = time.perf_counter()
    store = ShopStore(str(settings.database_url))
    store.migrate()
    store.import_data(sample_shop_data(), replace=True)
    report = HelpCenterIndex(settings).ingest(list(HELP_CENTER_SOURCES), progress=progress)
    if report.errors:
        raise RuntimeError("help-centre ingest failed: " + "; ".join(str(e) for e in report.errors[:3]))
    return {
        "environment_seconds": round(time.perf_counter() - started, 1),
        "chunks_embedded": report.chunks_embedded,
    }


def with_progress(items: Sequence[Any], description: str, enabled: bool) -> Any:
    """`items`, iterated under a tqdm bar when enabled."""
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=description, unit="case")
