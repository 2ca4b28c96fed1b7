"""API test fixtures: one prepared data dir, one warm SupportService and one app per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.service import SupportService
from knowledge.settings import Settings
from tests.api.helpers import AGENT_KEY, make_settings
from tests.api.prepared import prepare_data_dir


@pytest.fixture(scope="session")
def prepared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_data_dir(tmp_path_factory.mktemp("parley-api"))


@pytest.fixture(scope="session")
def api_settings(prepared_dir: Path) -> Settings:
    return make_settings(prepared_dir)


@pytest.fixture(scope="session")
def service(api_settings: Settings) -> SupportService:
    return SupportService(api_settings)


@pytest.fixture(scope="session")
def app(api_settings: Settings, service: SupportService) -> FastAPI:
    return create_app(api_settings, service=service)


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def agent_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {AGENT_KEY}"}
