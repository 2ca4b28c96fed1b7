"""Deadlines for the remote model (issue 11): a hanging, failing or runaway model never stalls a turn.

- `ModelPool`: remote model calls run in their own bounded pool of threads, apart from the request handlers.
  A turn that finds no free slot within a short wait is answered by the offline planner at once, so at most
  `model_concurrency` request threads ever wait for the model, and each at most the turn's deadline: a
  message to a conversation held by a human (no model needed) always finds a request thread.
- `ModelGate` (agent middleware, inside the fallback): the primary model's call waits at most until the
  turn's deadline; a timeout, an HTTP error, a busy pool or an open circuit raises `ModelUnavailable`, and
  the fallback middleware lets the offline planner answer. A reply longer than `max_reply_chars` is cut here,
  before the agent's state, the transcript or the customer see it.
- `PoliteCallLimit`: the model-call limit ends the run with a polite answer in the customer's language
  (never LangChain's "Model call limits exceeded"), and `recursion_limit` keeps the graph's step limit above
  it, so a model that keeps calling tools never ends in a GraphRecursionError (a 503).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from langchain.agents.middleware import (
    AgentMiddleware,
    ModelCallLimitMiddleware,
    ModelRequest,
    ModelResponse,
    hook_config,
)
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langgraph.runtime import Runtime

from assistant.breaker import CircuitBreaker
from assistant.prompts import Replies

log = logging.getLogger(__name__)

# Graph steps one model call may take: the model node, the tools node and the middleware hooks around them
# (before/after model, human-in-the-loop), with room to spare. A fixed step limit can be reached before the
# model-call limit (issue 11 saw a GraphRecursionError, a 503); derived from the call limit it cannot be.
STEPS_PER_MODEL_CALL = 8
ELLIPSIS = " …"


class ModelUnavailable(RuntimeError):
    """The primary model cannot answer this call: the offline planner answers instead."""


class ModelTimeout(ModelUnavailable):
    pass


class ModelBusy(ModelUnavailable):
    pass


class CircuitOpen(ModelUnavailable):
    pass


def recursion_limit(model_call_limit: int) -> int:
    """The graph's step limit for a run of at most `model_call_limit` model calls (plus the polite end)."""
    return (model_call_limit + 2) * STEPS_PER_MODEL_CALL


def cap_text(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a word boundary when one is near, marked with "…"."""
    if limit <= 0 or len(text) <= limit:
        return text
    cut = text[: max(0, limit - len(ELLIPSIS))]
    space = cut.rfind(" ")
    if space >= len(cut) * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def cap_message(message: BaseMessage, limit: int) -> BaseMessage:
    """An AI message whose text content is longer than `limit` characters, cut; any other one as it is."""
    if not isinstance(message, AIMessage) or not isinstance(message.content, str):
        return message
    if len(message.content) <= limit:
        return message
    return message.model_copy(update={"content": cap_text(message.content, limit)})


class ModelPool:
    """At most `size` remote model calls at once, each in one of the pool's own threads."""

    def __init__(self, size: int) -> None:
        self.size = max(1, size)
        self._slots = threading.BoundedSemaphore(self.size)
        self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="parley-model")
        self._busy = 0
        self._count_lock = threading.Lock()

    @property
    def busy(self) -> int:
        return self._busy

    def submit(self, fn: Callable[..., Any], *args: Any, wait_s: float) -> Future[Any]:
        """Run `fn(*args)` in the pool (with the caller's context variables: config, callbacks).
        Raises ModelBusy when no slot frees up within `wait_s`."""
        got = self._slots.acquire(timeout=wait_s) if wait_s > 0 else self._slots.acquire(blocking=False)
        if not got:
            raise ModelBusy(f"all {self.size} model slots are busy")
        with self._count_lock:
            self._busy += 1
        try:
            future = self._executor.submit(contextvars.copy_context().run, fn, *args)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any] | None) -> None:
        with self._count_lock:
            self._busy -= 1
        self._slots.release()


def _deadline_of(request: ModelRequest[Any], default_s: float) -> float:
    """The turn's deadline (time.perf_counter() clock) from the run context, or now + the default."""
    runtime = getattr(request, "runtime", None)
    context = getattr(runtime, "context", None)
    deadline = getattr(context, "deadline", None)
    return float(deadline) if deadline else time.perf_counter() + default_s


class ModelGate(AgentMiddleware[Any, Any]):
    """The primary model's calls, bounded: pool slot, turn deadline, circuit breaker, reply length."""

    def __init__(
        self,
        primary: BaseChatModel,
        pool: ModelPool,
        breaker: CircuitBreaker,
        *,
        deadline_s: float,
        slot_wait_s: float,
        max_reply_chars: int,
    ) -> None:
        super().__init__()
        self.primary = primary
        self.pool = pool
        self.breaker = breaker
        self.deadline_s = deadline_s
        self.slot_wait_s = slot_wait_s
        self.max_reply_chars = max_reply_chars

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        if request.model is not self.primary:  # the offline fallback: local, bounded, always allowed
            return handler(request)
        remaining = _deadline_of(request, self.deadline_s) - time.perf_counter()
        if remaining <= 0:
            raise ModelTimeout("the turn's deadline has passed")
        if not self.breaker.allow():
            raise CircuitOpen("the model is failing; the circuit is open")
        try:
            future = self.pool.submit(handler, request, wait_s=min(self.slot_wait_s, remaining))
        except ModelBusy:
            self.breaker.release()  # a busy pool says nothing about the model's health
            raise
        try:
            response = future.result(timeout=max(0.0, remaining))
        except FutureTimeout:
            self.breaker.failure("timeout")
            log.warning("model call passed the deadline (%.1f s); the offline planner answers", remaining)
            raise ModelTimeout("the model did not answer before the turn's deadline") from None
        except Exception as exc:
            self.breaker.failure(exc)
            log.warning("model call failed (%s); the offline planner answers", type(exc).__name__)
            raise
        if not any(_says_something(m) for m in response.result):
            self.breaker.failure("empty reply")
            raise ModelUnavailable("the model's reply was empty")
        self.breaker.success()
        response.result = [cap_message(m, self.max_reply_chars) for m in response.result]
        return response


def _says_something(message: BaseMessage) -> bool:
    """An AI message with text or a tool call (an empty completion is a failure, not an answer)."""
    if not isinstance(message, AIMessage):
        return False
    return bool(message.tool_calls or message.invalid_tool_calls or str(message.content or "").strip())


class PoliteCallLimit(ModelCallLimitMiddleware):
    """The model-call limit, ending with a polite answer in the customer's language."""

    def __init__(self, run_limit: int, replies: Replies) -> None:
        super().__init__(run_limit=run_limit, exit_behavior="end")
        self.replies = replies

    @hook_config(can_jump_to=["end"])
    def before_model(self, state: Any, runtime: Runtime[Any]) -> dict[str, Any] | None:
        update = super().before_model(state, runtime)
        if not update or "messages" not in update:
            return update
        language = str(getattr(runtime.context, "language", "en") or "en")
        log.warning("model call limit (%s) reached; ending the turn politely", self.run_limit)
        meta = {"parley": {"failed": True, "step_limit": True}}
        update["messages"] = [AIMessage(content=self.replies("step_limit", language), response_metadata=meta)]
        return update
