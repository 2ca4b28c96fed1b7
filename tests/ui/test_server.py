"""ui.server: the API with the widget's files and the demo page mounted on top."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.helpers import make_settings
from ui.server import create_app


def test_widget_and_demo_are_served(tmp_path: Path) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "empty")))
    for name in ("widget.js", "widget-i18n.js", "widget-ui.js", "widget-net.js", "widget-desk.js"):
        js = client.get(f"/widget/{name}")
        assert js.status_code == 200 and "javascript" in js.headers["content-type"]
        assert "innerHTML" not in js.text and "insertAdjacentHTML" not in js.text
    demo = client.get("/demo")
    assert demo.status_code == 200 and 'src="/widget/widget.js"' in demo.text
    root = client.get("/", follow_redirects=False)
    assert root.status_code in (302, 307) and root.headers["location"] == "/demo"


def test_the_bare_api_does_not_serve_the_widget(tmp_path: Path) -> None:
    from assistant.api.app import create_app as create_api_app

    client = TestClient(create_api_app(make_settings(tmp_path / "empty")))
    assert client.get("/widget/widget.js").status_code == 404
