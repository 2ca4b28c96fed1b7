"""Red-team fixtures: the prepared sample shop and help centre (built once per run, tests/api/prepared.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.prepared import prepare_data_dir


@pytest.fixture(scope="session")
def prepared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_data_dir(tmp_path_factory.mktemp("parley-security"))
