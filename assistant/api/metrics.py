"""Prometheus metrics. One registry per app (tests build several apps in one process).

With several uvicorn workers each worker exports its own counters; scrape each worker or put
prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR) in front when that matters.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "parley_turns_total", "Customer turns handled, by outcome", ["outcome"], registry=self.registry
        )
        self.turn_latency = Histogram(
            "parley_turn_latency_seconds",
            "Time to produce the final answer of a customer turn",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.takeovers = Counter(
            "parley_takeovers_total",
            "Conversations handed to a human, by trigger",
            ["trigger"],
            registry=self.registry,
        )
        self.errors = Counter(
            "parley_errors_total", "Errors while serving requests, by kind", ["kind"], registry=self.registry
        )
        self.rate_limited = Counter(
            "parley_rate_limited_total",
            "Requests refused by a rate limit, by scope",
            ["scope"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
