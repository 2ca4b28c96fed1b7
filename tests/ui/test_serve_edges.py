"""Issue 11, finding 10, against a real `parley serve` (uvicorn subprocess): an oversized header is refused,
X-Forwarded-For from an untrusted peer does not dodge the per-IP limit, /metrics and /docs are off by
default, /healthz says status words. Each failed before `ui.server.server_options` and the settings."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.prepared import parley_env, prepare_data_dir
from tests.conftest import REPO_ROOT, free_port

pytestmark = pytest.mark.slow
PER_IP = 6


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    data_dir = prepare_data_dir(tmp_path_factory.mktemp("parley-edges"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = parley_env(
        data_dir,
        PARLEY_AGENT_KEYS=json.dumps({"sam": "edges-agent-key-0123456789abcdef0123"}),
        PARLEY_CUSTOMER_TOKEN_SECRET="edges-token-secret-0123456789abcdef0123",
        PARLEY_RATE_LIMIT_PER_IP=str(PER_IP),
    )
    log = (tmp_path_factory.mktemp("serve") / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(base + "/livez", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"parley serve did not start; see {log.name}")
            time.sleep(0.5)
        yield base, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def raw_get(port: int, header_bytes: int) -> bytes:
    """GET /livez with one header of `header_bytes` bytes; what the server answered (b"" if it hung up)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        head = b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
        try:
            sock.sendall(head)
            chunk = b"a" * 65_536
            left = header_bytes
            while left > 0:
                sock.sendall(chunk[: min(left, len(chunk))])
                left -= len(chunk)
            sock.sendall(b"\r\nConnection: close\r\n\r\n")
        except OSError:
            pass  # the server hung up while we were still sending: refused
        answer = b""
        try:
            while True:
                data = sock.recv(65_536)
                if not data:
                    break
                answer += data
        except OSError:
            pass
    return answer


def test_a_normal_header_is_served_and_an_oversized_one_refused(server: tuple[str, int]) -> None:
    _, port = server
    assert raw_get(port, 8_000).startswith(b"HTTP/1.1 200")
    big = raw_get(port, 8 * 1024 * 1024)  # 8 MB (the 64 MB got through the same way)
    assert not big.startswith(b"HTTP/1.1 200"), big[:200]
    assert big == b"" or big.split(b" ")[1] in (b"400", b"413", b"431")
    assert raw_get(port, 8_000).startswith(b"HTTP/1.1 200")  # still serving


def test_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_ip_limit(server: tuple[str, int]) -> None:
    base, _ = server
    codes = []
    with httpx.Client(base_url=base, timeout=60) as http:
        for i in range(PER_IP + 3):
            forged = {"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"198.51.100.{i}"}
            codes.append(http.post("/v1/conversations", json={}, headers=forged).status_code)
    assert codes[:PER_IP] == [201] * PER_IP
    assert codes[PER_IP:] == [429] * 3


def test_metrics_and_docs_off_and_healthz_in_words(server: tuple[str, int]) -> None:
    base, _ = server
    for path in ("/metrics", "/docs", "/openapi.json", "/redoc"):
        assert httpx.get(base + path, timeout=10).status_code == 404, path
    health = httpx.get(base + "/healthz", timeout=30).json()
    assert all(value in ("ok", "down", "degraded", "empty") for value in health["checks"].values()), health
