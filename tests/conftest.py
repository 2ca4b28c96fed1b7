"""Fixtures shared by the whole suite: isolated Settings, real databases, dataset paths."""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.settings import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Most of the suite replays τ²-style dialogues that sign in by email or name + zip: it runs τ²-bench's
# identity policy, named here explicitly (also for the servers tests start). The default policy, "verified"
# (a code or a signed token), is what tests/security and tests/assistant/identity test: they set it.
os.environ.setdefault("PARLEY_IDENTITY_POLICY", "tau2_benchmark")
# One ONNX export of MiniLM for the whole run (and its subprocesses), not one per test data dir.
os.environ.setdefault(
    "PARLEY_EMBEDDING_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"parley-test-models-{os.getuid()}")
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"
TAU2_RETAIL_DB = SHARED_DATASETS / "tau2" / "retail" / "db.json"
TAU2_RETAIL_TASKS = SHARED_DATASETS / "tau2" / "retail" / "tasks.json"
BANKING_DOCS = SHARED_DATASETS / "tau2" / "banking_knowledge" / "documents"
POSTGRES_URL = os.environ.get("PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

SERVICES_REQUIRED = os.environ.get("PARLEY_REQUIRE_SERVICES") == "1"


def require_or_skip(available: bool, reason: str) -> None:
    """Skip locally when a service is missing; fail in CI, where PARLEY_REQUIRE_SERVICES=1."""
    if available:
        return
    if SERVICES_REQUIRED:
        pytest.fail(f"required service missing (PARLEY_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose every file (SQLite, Chroma, checkpoints) lives in this test's tmp dir."""
    return Settings(data_dir=tmp_path / "parley", _env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL schema-less database for one test, dropped afterwards."""
    require_or_skip(port_open("127.0.0.1", 5432), "PostgreSQL is not running on 127.0.0.1:5432")
    import sqlalchemy as sa

    from assistant.db import normalise_url

    name = f"parley_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        from assistant.db import make_engine

        make_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def tau2_retail_db_path() -> Path:
    require_or_skip(TAU2_RETAIL_DB.exists(), f"τ² retail data not found at {TAU2_RETAIL_DB}")
    return TAU2_RETAIL_DB
