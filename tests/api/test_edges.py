"""Issue 11, finding 10 (the HTTP edges): lone surrogates, X-Forwarded-For, /healthz text, the /metrics and
/docs switches, and citation URLs. Each test failed before its fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from assistant.api.app import create_app
from assistant.api.client_ip import InvalidProxySetting, client_address
from assistant.records import Citation
from assistant.service import SupportService
from knowledge.settings import Settings
from tests.api.helpers import make_settings, start, turn

PROXY = "10.0.0.7"


# --- who the client is (pure) ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("peer", "header", "trusted", "expected"),
    [
        ("127.0.0.1", "1.2.3.4", [], "127.0.0.1"),  # nothing trusted: the header is ignored
        ("127.0.0.1", "1.2.3.4", ["10.0.0.0/8"], "127.0.0.1"),  # a local peer is not a trusted proxy
        ("203.0.113.9", "1.2.3.4", ["10.0.0.0/8"], "203.0.113.9"),  # untrusted peer
        (PROXY, None, ["10.0.0.0/8"], PROXY),  # trusted proxy, no header
        (PROXY, "198.51.100.4", ["10.0.0.0/8"], "198.51.100.4"),  # allowed: the proxy vouches
        (PROXY, "6.6.6.6, 198.51.100.4", ["10.0.0.0/8"], "198.51.100.4"),  # a spoofed first entry
        (PROXY, "198.51.100.4, 10.0.0.3", ["10.0.0.0/8"], "198.51.100.4"),  # two trusted hops
        (PROXY, "not-an-ip", ["10.0.0.0/8"], PROXY),  # garbage: the proxy itself
        (PROXY, "10.0.0.2, 10.0.0.3", ["10.0.0.0/8"], "10.0.0.2"),  # all trusted: the leftmost
        ("2001:db8::5", "2001:db8:1::9", ["2001:db8::/64"], "2001:db8:1::9"),
        (None, "1.2.3.4", ["10.0.0.0/8"], "unknown"),
    ],
)
def test_client_address(peer: str | None, header: str | None, trusted: list[str], expected: str) -> None:
    assert client_address(peer, header, trusted) == expected


def test_a_bad_trusted_proxy_setting_is_refused() -> None:
    with pytest.raises(InvalidProxySetting, match="not-a-network"):
        client_address(PROXY, "1.2.3.4", ["not-a-network"])


def test_forwarded_for_cannot_dodge_the_per_ip_limit(tmp_path: Path, service: SupportService) -> None:
    """A client behind no trusted proxy sends a fresh X-Forwarded-For each time: still one IP."""
    settings = make_settings(tmp_path, rate_limit_per_ip=3)
    client = TestClient(create_app(settings, service=service))  # peer "testclient"
    codes = [
        client.post("/v1/conversations", json={}, headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
        for i in range(5)
    ]
    assert codes[:3] == [201, 201, 201] and codes[3:] == [429, 429]


def test_a_trusted_proxy_separates_its_clients(tmp_path: Path, service: SupportService) -> None:
    with pytest.raises(ValidationError, match="testclient"):  # not an address: refused at start-up
        make_settings(tmp_path, trusted_proxies=["testclient"])
    settings = make_settings(tmp_path, rate_limit_per_ip=2, trusted_proxies=["0.0.0.0/0"])
    client = TestClient(create_app(settings, service=service), client=("10.0.0.7", 5555))
    for ip in ("198.51.100.1", "198.51.100.2"):
        for _ in range(2):
            assert (
                client.post("/v1/conversations", json={}, headers={"X-Forwarded-For": ip}).status_code == 201
            )
    assert client.post("/v1/conversations", json={}, headers={"X-Forwarded-For": ip}).status_code == 429


# --- a lone surrogate ------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["\ud800", "hi \udfff there", "ok \ud83d"])
def test_a_lone_surrogate_is_a_readable_4xx(client: TestClient, text: str) -> None:
    conversation_id, headers = start(client)
    body = json.dumps({"text": text})  # ensure_ascii: the JSON carries the escape "\ud800"
    response = client.post(
        f"/v1/conversations/{conversation_id}/messages",
        content=body,
        headers={**headers, "Content-Type": "application/json", "Accept": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert "surrogate" in response.json()["detail"]
    assert "Traceback" not in response.text
    # the conversation still works, and a real pair (an emoji) is fine
    assert turn(client, conversation_id, headers, "thanks \U0001f600 where is my parcel?")["reply"]


def test_a_lone_surrogate_anywhere_in_a_json_body_is_refused(client: TestClient) -> None:
    response = client.post(
        "/v1/conversations",
        content='{"language": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422 and "surrogate" in response.json()["detail"]


# --- /healthz, /metrics, /docs ---------------------------------------------------------------------
def test_healthz_shows_status_words_only(tmp_path: Path) -> None:
    secret_path = tmp_path / "secret-location-xyz"
    settings = make_settings(secret_path, database_url="postgresql://nobody:hunter2@127.0.0.1:1/none")
    body = TestClient(create_app(settings)).get("/healthz").json()
    assert body["status"] == "degraded"
    assert set(body["checks"].values()) <= {"ok", "down", "degraded", "empty"}, body
    text = json.dumps(body)
    for leak in ("hunter2", "127.0.0.1", "secret-location", "Error", "psycopg", "sqlalchemy"):
        assert leak not in text


def test_metrics_and_docs_are_off_by_default(tmp_path: Path, service: SupportService) -> None:
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert defaults.expose_metrics is False and defaults.expose_docs is False
    settings = make_settings(tmp_path, expose_metrics=False, expose_docs=False)
    client = TestClient(create_app(settings, service=service))
    for path in ("/metrics", "/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404, path
    assert client.get("/livez").status_code == 200


def test_metrics_and_docs_can_be_switched_on(tmp_path: Path, service: SupportService) -> None:
    settings = make_settings(tmp_path, expose_metrics=True, expose_docs=True)
    client = TestClient(create_app(settings, service=service))
    assert "parley_" in client.get("/metrics").text
    assert client.get("/docs").status_code == 200 and client.get("/openapi.json").json()["paths"]


# --- citation URLs ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        " JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox",
        "file:///etc/passwd",
        "//evil.example/x",
        "/relative/path",
        "http://",
        "https:evil",
    ],
)
def test_citation_urls_other_than_http_are_dropped(url: str) -> None:
    assert Citation(ref=1, url=url).url is None
    assert Citation.model_validate({"ref": 1, "url": url}).url is None  # stored JSON read back too
    assert Citation.from_hit(1, {"url": url, "title": "T"}).url is None


@pytest.mark.parametrize("url", ["https://help.example/a?b=1#c", "http://help.example/x"])
def test_citation_urls_http_and_https_are_kept(url: str) -> None:
    assert Citation(ref=1, url=url).url == url
