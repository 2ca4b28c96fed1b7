"""A circuit breaker for the remote model: while it keeps failing, turns go straight to the offline planner.

    closed     every call goes to the model; `failures` failures in a row open the circuit
    open       no call goes to the model until `cooldown_s` has passed
    half-open  one call probes the model: success closes the circuit, failure opens it again

Pure logic with an injected clock (tests drive it without sleeping); thread-safe, one per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

BreakerState = Literal["closed", "open", "half-open"]


@dataclass(frozen=True)
class BreakerStatus:
    state: BreakerState
    failures: int  # failures in a row
    last_error: str  # the exception's type name only: never its text (it can carry a URL or a key)

    def describe(self) -> str:
        """One line for /healthz: "ok" while closed."""
        if self.state == "closed":
            return "ok"
        if self.state == "half-open":
            return "half-open: probing the model; the offline planner answers meanwhile"
        return f"open: {self.failures} failures ({self.last_error}); the offline planner answers"


class CircuitBreaker:
    def __init__(
        self, failures: int = 3, cooldown_s: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = max(1, failures)
        self.cooldown_s = max(0.0, cooldown_s)
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._last_error = ""

    def allow(self) -> bool:
        """May this call go to the model? In half-open, only one caller at a time gets True (the probe)."""
        with self._lock:
            if self._opened_at is None:
                return True
            if self.clock() - self._opened_at < self.cooldown_s or self._probing:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._probing = 0, None, False

    def failure(self, error: BaseException | str) -> None:
        with self._lock:
            self._failures += 1
            self._last_error = error if isinstance(error, str) else type(error).__name__
            if self._probing or self._failures >= self.threshold:
                self._opened_at = self.clock()
            self._probing = False

    def release(self) -> None:
        """A probe that ended without a verdict (cancelled): let the next caller probe."""
        with self._lock:
            self._probing = False

    def status(self) -> BreakerStatus:
        with self._lock:
            if self._opened_at is None:
                state: BreakerState = "closed"
            elif self._probing or self.clock() - self._opened_at >= self.cooldown_s:
                state = "half-open"
            else:
                state = "open"
            return BreakerStatus(state, self._failures, self._last_error)
