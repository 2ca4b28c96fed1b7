"""Rate limiter and body-size middleware, on their own (no model, no store)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from assistant.api.limits import BodySizeLimitMiddleware, RateLimiter, retry_after_header


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_allows_up_to_limit_then_says_how_long_to_wait() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, window_s=60, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    clock.now += 10
    assert limiter.hit("a") == 50.0
    assert limiter.hit("b") == 0.0  # keys are independent
    clock.now += 50.5
    assert limiter.hit("a") == 0.0  # the oldest event left the window


def test_rate_limiter_zero_disables() -> None:
    limiter = RateLimiter(0)
    assert all(limiter.hit("a") == 0.0 for _ in range(100))


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"


def _echo_app(max_bytes: int) -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_bytes)
    return app


def test_body_limit_by_content_length_and_by_streamed_body() -> None:
    client = TestClient(_echo_app(100))
    assert client.post("/echo", content=b"x" * 100).json() == {"received": 100}
    too_big = client.post("/echo", content=b"x" * 101)
    assert too_big.status_code == 413
    assert "larger than 100 bytes" in too_big.json()["detail"]

    def chunks():  # no Content-Length: chunked transfer
        for _ in range(5):
            yield b"x" * 50

    streamed = client.post("/echo", content=chunks())
    assert streamed.status_code == 413
    assert "detail" in streamed.json()


def test_body_limit_rejects_non_numeric_content_length() -> None:
    client = TestClient(_echo_app(100))
    response = client.post("/echo", content=b"x", headers={"Content-Length": "abc"})
    assert response.status_code == 400
