"""One prepared data dir per test session: the sample shop loaded and the sample help centre indexed,
both through the real `parley` CLI. The API tests and the browser tests share it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

HELP_CENTER = REPO_ROOT / "knowledge" / "sample_data" / "help_center"
FAQ = REPO_ROOT / "knowledge" / "sample_data" / "faq.csv"
_prepared: dict[str, Path] = {}


def parley_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    if "PARLEY_IDENTITY_POLICY" in os.environ:  # the suite's identity policy (tests/conftest.py)
        env["PARLEY_IDENTITY_POLICY"] = os.environ["PARLEY_IDENTITY_POLICY"]
    if "PARLEY_EMBEDDING_CACHE_DIR" in os.environ:  # the run's one ONNX export (tests/conftest.py)
        env["PARLEY_EMBEDDING_CACHE_DIR"] = os.environ["PARLEY_EMBEDDING_CACHE_DIR"]
    env.update(
        {
            "PARLEY_DATA_DIR": str(data_dir),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "PARLEY_LLM_PROVIDER": "offline",
        }
    )
    env.update(extra)
    return env


def prepare_data_dir(root: Path) -> Path:
    """Generate + load the sample shop and ingest the sample help centre into `root/data` (once)."""
    if "dir" in _prepared:
        return _prepared["dir"]
    data_dir = root / "data"
    env = parley_env(data_dir)
    cli = [sys.executable, "-m", "assistant.cli"]
    for args in (
        ["generate-shop", "--load", "--no-index"],
        ["ingest", str(HELP_CENTER), str(FAQ), "--no-progress"],
    ):
        done = subprocess.run([*cli, *args], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"parley {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    _prepared["dir"] = data_dir
    return data_dir
