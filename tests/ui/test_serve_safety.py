"""`parley serve` refuses default or short secrets (exit code 2) unless --insecure-demo (a banner); the demo's
mail goes to a real local SMTP server and shows on /dev/outbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.identity.mailer import smtp_code_sender
from knowledge.settings import Settings
from tests.conftest import REPO_ROOT, free_port
from ui.demo import demo_settings
from ui.outbox import DevOutbox, outbox_router

pytestmark = pytest.mark.slow  # a real API on the prepared sample shop, or `parley serve` processes

STRONG_SECRET = "serve-safety-secret-0123456789abcdef"
STRONG_KEY = "serve-safety-agent-key-0123456789abcdef"


def serve_env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(PARLEY_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1", PARLEY_LLM_PROVIDER="offline")
    env.update(values)
    return env


def run_serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(free_port()), *args]
    return subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_serve_refuses_the_shipped_secrets(tmp_path: Path) -> None:
    done = run_serve(serve_env(tmp_path))
    assert done.returncode == 2, done.stderr
    assert "refusing to start" in done.stderr
    assert "PARLEY_CUSTOMER_TOKEN_SECRET is the shipped default" in done.stderr
    assert "'demo-agent'" in done.stderr and "demo-agent-key" not in done.stderr.replace("demo-agent'", "")


def test_serve_refuses_a_short_agent_key(tmp_path: Path) -> None:
    env = serve_env(
        tmp_path,
        PARLEY_CUSTOMER_TOKEN_SECRET=STRONG_SECRET,
        PARLEY_AGENT_KEYS=json.dumps({"alice": STRONG_KEY, "bob": "short-key"}),
    )
    done = run_serve(env)
    assert done.returncode == 2
    assert "'bob'" in done.stderr and "shorter than 32 bytes" in done.stderr and "'alice'" not in done.stderr


def test_insecure_demo_flag_starts_with_a_banner(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--insecure-demo"]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, env=serve_env(tmp_path), cwd=REPO_ROOT, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 120
        while "INSECURE DEMO" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no banner"
            time.sleep(0.2)
        assert process.poll() is None  # it runs
        assert "shipped default" in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_demo_mail_reaches_the_dev_outbox_page_as_text() -> None:
    outbox = DevOutbox().start()
    try:
        settings = demo_settings(Settings(_env_file=None), outbox.port)  # type: ignore[call-arg]
        send = smtp_code_sender(settings)
        send("emma.laurent@example.com", "Your code", "Your code is 123456 <script>alert(1)</script>", "en")
        app = FastAPI()
        app.include_router(outbox_router(outbox))
        with TestClient(app) as client:
            page = client.get("/dev/outbox")
            listed = client.get("/dev/outbox.json").json()
        assert page.status_code == 200 and "123456" in page.text
        assert "<script>" not in page.text and "&lt;script&gt;" in page.text
        assert listed[0]["to"] == "emma.laurent@example.com" and "123456" in listed[0]["body"]
    finally:
        outbox.stop()


def test_the_outbox_is_not_part_of_a_served_api(tmp_path: Path) -> None:
    from ui.server import create_app

    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path / "data", customer_token_secret=STRONG_SECRET, _env_file=None
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/dev/outbox").status_code == 404
