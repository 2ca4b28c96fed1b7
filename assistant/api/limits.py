"""Request limits: body size and lone surrogates in JSON (pure ASGI middleware), sliding-window rate limits.

The rate limiter keeps its counters in process memory, so with N uvicorn workers each worker enforces
the limit on its own (a client can get up to N times the limit). That is a documented trade-off: nothing
else depends on it for correctness, and a shared limiter (Redis, the load balancer) can replace it.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RateLimiter:
    """At most `limit` events per `window_s` seconds per key (sliding window)."""

    def __init__(
        self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Record one event; 0.0 when allowed, otherwise the seconds to wait before retrying."""
        if self.limit <= 0:
            return 0.0  # 0 or less disables the limit
        now = self.clock()
        with self._lock:
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return max(0.001, events[0] + self.window_s - now)
            events.append(now)
            if len(self._events) > 100_000:  # bound memory: drop keys whose window is empty
                self._events = {k: v for k, v in self._events.items() if v and v[-1] > now - self.window_s}
            return 0.0


def retry_after_header(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def lone_surrogate_problem(body: bytes) -> str | None:
    """A readable reason when a JSON body carries a lone UTF-16 surrogate (`"\\ud800"`): JSON allows the
    escape, Python decodes it, and it fails later where text must be UTF-8 (the database). None otherwise,
    also for a body that is not JSON (the framework says so itself)."""
    if b"\\u" not in body and b"\\U" not in body:
        return None  # no escape at all: raw UTF-8 cannot hold a lone surrogate
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        return None
    for text in _strings(decoded):
        for ch in text:
            if 0xD800 <= ord(ch) <= 0xDFFF:
                return (
                    f"text contains a lone surrogate (\\u{ord(ch):04x}), which is not a character; "
                    "send UTF-8 text (an emoji is fine)"
                )
    return None


class BodySizeLimitMiddleware:
    """413 for bodies over `max_bytes`: by Content-Length first, then by counting the streamed body
    (a chunked request has no Content-Length, and a lying one must not get through either)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._reject(send, 400, "Content-Length is not a number")
                    return
                if declared > self.max_bytes:
                    await self._reject(send, 413, self._too_large())
                    return
        received = 0
        response_started = False
        is_json = any(
            name == b"content-type" and b"json" in value.lower() for name, value in scope["headers"]
        )
        body = bytearray()

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_bytes:
                    # An HTTPException travels through the framework's body parsing (a plain exception
                    # would be turned into a generic 400) and its handler answers 413 {"detail": ...}.
                    raise HTTPException(status_code=413, detail=self._too_large())
                if is_json:
                    body.extend(chunk)
                    if not message.get("more_body", False):
                        problem = lone_surrogate_problem(bytes(body))
                        if problem:
                            raise HTTPException(status_code=422, detail=problem)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as exc:
            if exc.status_code not in (413, 422) or response_started:
                raise
            await self._reject(send, exc.status_code, str(exc.detail))

    def _too_large(self) -> str:
        return f"request body is larger than {self.max_bytes} bytes"

    @staticmethod
    async def _reject(send: Send, status: int, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
