"""The evaluation's environment: settings on a data dir, the seed-7 sample shop, the help-centre sources."""

from __future__ import annotations

from pathlib import Path

from assistant.shop.generator import generate_shop
from eval.environment import HELP_CENTER_SOURCES, make_settings, sample_shop_data, with_progress


def test_settings_use_the_data_dir_and_the_provider_when_given(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "offline")
    assert settings.data_dir == tmp_path and settings.effective_llm_provider == "offline"
    assert make_settings(tmp_path, None).data_dir == tmp_path


def test_the_case_files_shop_is_the_seed_7_sample_shop() -> None:
    assert sample_shop_data().to_tau2() == generate_shop(seed=7).to_tau2()


def test_the_help_centre_sources_exist() -> None:
    assert all(path.exists() for path in HELP_CENTER_SOURCES)


def test_progress_bars_only_when_asked() -> None:
    items = [1, 2, 3]
    assert with_progress(items, "cases", False) is items
    assert list(with_progress(items, "cases", True)) == items
