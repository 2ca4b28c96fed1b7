"""Local servers that speak the providers' wire formats (for outbound deliveries), checking credentials and
signatures the way the providers do, and able to fail on demand (provider down, 5xx, refusal).

- WhatsApp Cloud API: POST /{phone-number-id}/messages with `Authorization: Bearer <token>`, JSON body.
- Twilio: POST /2010-04-01/Accounts/{sid}/Messages.json, HTTP Basic (sid, auth token), form body; 201.
- API channel receiver: POST with X-Parley-Timestamp / X-Parley-Signature (HMAC-SHA256 of "ts.body").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

WA_PHONE_ID = "109876543210"
WA_TOKEN = "wa-access-token"
TWILIO_SID = "AC00000000000000000000000000000001"
TWILIO_TOKEN = "twilio-auth-token"
API_SECRET = "api-channel-secret-0123456789"


@dataclass
class FakeProvider:
    kind: str  # whatsapp | twilio | api
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0  # answer 503 this many times
    refuse: bool = False  # answer 400 (a permanent error)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        if self.fail_next > 0:
            self.fail_next -= 1
            return 503, {"error": {"message": "service unavailable"}}
        if self.refuse:
            return 400, {"error": {"message": "invalid recipient"}}
        if self.kind == "whatsapp":
            if path != f"/{WA_PHONE_ID}/messages":
                return 404, {"error": {"message": "unknown path"}}
            if headers.get("authorization") != f"Bearer {WA_TOKEN}":
                return 401, {"error": {"message": "invalid OAuth access token"}}
            data = json.loads(body)
            if data.get("messaging_product") != "whatsapp" or not data.get("to"):
                return 400, {"error": {"message": "bad request"}}
            self.received.append(data)
            n = len(self.received)
            return 200, {
                "messaging_product": "whatsapp",
                "contacts": [{"wa_id": data["to"]}],
                "messages": [{"id": f"wamid.{n}"}],
            }
        if self.kind == "twilio":
            if path != f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json":
                return 404, {"message": "unknown path"}
            expected = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
            if headers.get("authorization") != expected:
                return 401, {"code": 20003, "message": "Authenticate"}
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            if not form.get("To") or not form.get("Body"):
                return 400, {"code": 21604, "message": "A 'To' phone number and a Body are required"}
            self.received.append(form)
            return 201, {"sid": f"SM{len(self.received):032d}", "status": "queued", "body": form["Body"]}
        timestamp = headers.get("x-parley-timestamp", "")
        expected = (
            "sha256="
            + hmac.new(API_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(headers.get("x-parley-signature", ""), expected):
            return 401, {"error": "bad signature"}
        self.received.append(json.loads(body))
        return 200, {"id": f"ext-{len(self.received)}"}


@contextmanager
def fake_provider(kind: str) -> Iterator[FakeProvider]:
    provider = FakeProvider(kind)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = provider.handle(self.path.split("?")[0], headers, body)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
