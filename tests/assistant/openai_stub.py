"""A local server that speaks the OpenAI chat-completions wire protocol, playing scripted replies.

For tests of the `openai` provider without a real endpoint (the eval and API tests reuse it):

    from tests.assistant.openai_stub import StubReply, start_stub_server, tool_call

    received: list[dict] = []
    base_url, stop = start_stub_server(
        [StubReply(tool_calls=[tool_call("search_help_center", {"query": "shipping"})]),
         StubReply(content="Orders leave the warehouse the same day [1].")],
        received=received,
    )
    try:
        settings = Settings(llm_provider="openai", llm_base_url=base_url, llm_max_retries=0, ...)
        ...
    finally:
        stop()

POST {base_url}/chat/completions answers each request with the next reply of the script: a JSON
`chat.completion`, or with `"stream": true` server-sent events (`data: {chat.completion.chunk}` lines with
content or tool_calls deltas, then `data: [DONE]`). A reply can also be an HTTP error status or a delay (to
test timeouts). When the script is used up, the server answers 500, so an unexpected extra model call
shows up as a fallback instead of hanging. `received` collects every request body, in order.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STUB_MODEL = "stub-model"


def tool_call(name: str, arguments: dict[str, Any] | str, call_id: str | None = None) -> dict[str, Any]:
    """One tool call of a reply; `arguments` as a dict (sent as JSON) or a raw string (e.g. malformed)."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id or f"call_{uuid.uuid4().hex[:12]}", "name": name, "arguments": raw}


@dataclass
class StubReply:
    """One scripted answer: text and/or tool calls, or an HTTP error status; optionally after a delay."""

    content: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    delay_s: float = 0.0
    # Streaming: the text is sent in pieces of this many characters (tool-call arguments too).
    chunk_chars: int = 8
    # Programmable faults (tests/faults): `raw` is sent as the whole 200 body instead of a completion
    # (garbage JSON, a broken event stream); `hold` makes the request wait until the event is set (a hang
    # that a test releases, at most `hold_max_s`); `repeat` answers every later request with this reply too
    # (a model that never stops calling tools).
    raw: bytes | None = None
    hold: threading.Event | None = None
    hold_max_s: float = 30.0
    repeat: bool = False

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"


def _completion(reply: StubReply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in reply.tool_calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), max(1, size))] or [""]


def _chunks(reply: StubReply, model: str, include_usage: bool) -> Iterator[dict[str, Any]]:
    base: dict[str, Any] = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion.chunk"}
    base.update(model=model, created=int(time.time()))

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}

    yield chunk({"role": "assistant", "content": ""})
    if reply.content:
        for piece in _pieces(reply.content, reply.chunk_chars):
            yield chunk({"content": piece})
    for index, call in enumerate(reply.tool_calls):
        head = {"index": index, "id": call["id"], "type": "function"}
        yield chunk({"tool_calls": [{**head, "function": {"name": call["name"], "arguments": ""}}]})
        for piece in _pieces(call["arguments"], reply.chunk_chars):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield chunk({}, reply.finish_reason)
    if include_usage:
        yield {
            **base,
            "choices": [],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }


class _Script:
    def __init__(self, replies: Sequence[StubReply], received: list[dict[str, Any]]) -> None:
        self.replies = list(replies)
        self.received = received
        self.lock = threading.Lock()

    def next(self, body: dict[str, Any]) -> StubReply | None:
        with self.lock:
            self.received.append(body)
            if self.replies and self.replies[0].repeat:
                return self.replies[0]
            return self.replies.pop(0) if self.replies else None


def _handler(script: _Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (keep test output quiet)
            return

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str) -> None:
            self._json(status, {"error": {"message": message, "type": "server_error", "code": None}})

        def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
            if self.path.rstrip("/").endswith("/models"):
                self._json(200, {"object": "list", "data": [{"id": STUB_MODEL, "object": "model"}]})
            else:
                self._error(404, f"no route {self.path}")

        def do_POST(self) -> None:  # noqa: N802
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._error(404, f"no route {self.path}")
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._error(400, "the request body is not JSON")
                return
            reply = script.next(body)
            # The client may have given up (a timeout test): then there is nobody to answer.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer(body, reply)

        def _answer(self, body: dict[str, Any], reply: StubReply | None) -> None:
            if reply is None:
                self._error(500, "the stub's script is used up")
                return
            if reply.delay_s:
                time.sleep(reply.delay_s)
            if reply.hold is not None:
                reply.hold.wait(reply.hold_max_s)
            if reply.raw is not None:
                self.send_response(200)
                stream = bool(body.get("stream"))
                self.send_header("Content-Type", "text/event-stream" if stream else "application/json")
                self.send_header("Content-Length", str(len(reply.raw)))
                self.end_headers()
                self.wfile.write(reply.raw)
                return
            if reply.status != 200:
                self._error(reply.status, f"scripted status {reply.status}")
                return
            model = str(body.get("model") or STUB_MODEL)
            if not body.get("stream"):
                self._json(200, _completion(reply, model))
                return
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")  # HTTP/1.0: the end of the body is the end of the stream
            self.end_headers()
            for event in _chunks(reply, model, include_usage):
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


def start_stub_server(
    script: Sequence[StubReply], received: list[dict[str, Any]] | None = None
) -> tuple[str, Callable[[], None]]:
    """Serve the script on 127.0.0.1 (a free port) in a thread; return the base URL (…/v1) and stop()."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), _handler(_Script(script, received if received is not None else []))
    )
    server.daemon_threads = True  # a request still sleeping in a timeout test must not block stop()
    thread = threading.Thread(target=server.serve_forever, name="openai-stub", daemon=True)
    thread.start()
    host, port = server.server_address[:2]

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://{host!s}:{port}/v1", stop
