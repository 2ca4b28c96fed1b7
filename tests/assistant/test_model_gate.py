"""The deadline rules as pure functions: the circuit breaker's states, the reply cap, the step limit."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from assistant.agent import MODEL_CALL_LIMIT
from assistant.breaker import CircuitBreaker
from assistant.model_gate import (
    STEPS_PER_MODEL_CALL,
    ModelBusy,
    ModelPool,
    cap_message,
    cap_text,
    recursion_limit,
)
from assistant.service import RECURSION_LIMIT


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_stays_closed_below_the_threshold_and_a_success_resets_it() -> None:
    breaker = CircuitBreaker(failures=3, cooldown_s=10, clock=Clock())
    breaker.failure(TimeoutError())
    breaker.failure(TimeoutError())
    assert breaker.allow() and breaker.status().state == "closed"
    breaker.success()
    breaker.failure(TimeoutError())
    breaker.failure(TimeoutError())
    assert breaker.allow() and breaker.status().describe() == "ok"


def test_breaker_opens_after_n_failures_then_half_opens_after_the_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=3, cooldown_s=10, clock=clock)
    for _ in range(3):
        breaker.failure(ConnectionError("secret-host:1234"))
    assert not breaker.allow()  # refused: straight to the offline planner
    status = breaker.status()
    assert status.state == "open" and "ConnectionError" in status.describe()
    assert "secret-host" not in status.describe()  # only the type, never the text
    clock.now = 10.0
    assert breaker.allow()  # the one probe
    assert not breaker.allow()  # others wait while it runs
    assert breaker.status().state == "half-open"


def test_a_failed_probe_opens_again_and_a_good_one_closes() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=2, cooldown_s=5, clock=clock)
    breaker.failure("timeout")
    breaker.failure("timeout")
    clock.now = 5.0
    assert breaker.allow()
    breaker.failure("timeout")
    assert not breaker.allow() and breaker.status().state == "open"
    clock.now = 10.0
    assert breaker.allow()
    breaker.success()
    assert breaker.status().state == "closed" and breaker.allow()


def test_a_released_probe_lets_the_next_caller_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown_s=1, clock=clock)
    breaker.failure("timeout")
    clock.now = 1.0
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()


def test_cap_text_keeps_short_text_and_cuts_long_text_at_a_word() -> None:
    assert cap_text("short", 100) == "short"
    long = "word " * 100_000
    capped = cap_text(long, 4000)
    assert len(capped) <= 4000 and capped.endswith("…") and "wor …" not in capped
    assert len(cap_text("x" * 500_000, 4000)) <= 4000


def test_cap_message_only_touches_long_ai_text() -> None:
    human = HumanMessage("y" * 10_000)
    assert cap_message(human, 100) is human
    ai = AIMessage("z" * 10_000)
    assert len(str(cap_message(ai, 100).content)) <= 100
    calls = AIMessage("", tool_calls=[{"name": "t", "args": {}, "id": "1", "type": "tool_call"}])
    assert cap_message(calls, 100) is calls


def test_the_graph_step_limit_is_above_the_model_call_limit() -> None:
    assert recursion_limit(MODEL_CALL_LIMIT) >= (MODEL_CALL_LIMIT + 1) * STEPS_PER_MODEL_CALL
    assert recursion_limit(MODEL_CALL_LIMIT) == RECURSION_LIMIT


def test_a_full_model_pool_refuses_instead_of_queueing() -> None:
    import threading

    pool = ModelPool(1)
    gate = threading.Event()
    first = pool.submit(gate.wait, 5, wait_s=0)
    try:
        refused = False
        try:
            pool.submit(lambda: None, wait_s=0)
        except ModelBusy:
            refused = True
        assert refused and pool.busy == 1
    finally:
        gate.set()
    assert first.result(timeout=5) is True
    pool.submit(lambda: None, wait_s=1).result(timeout=5)  # the slot is free again
