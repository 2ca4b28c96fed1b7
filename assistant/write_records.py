"""Agent middleware: every WRITE tool call is recorded in the conversation when it runs (write-ahead).

`started` is committed before the shop changes, `done` / `failed` right after and before the model is called
again, so a crash at any point leaves a record the next turn reports to the customer (assistant/recovery.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain.agents.middleware import AgentMiddleware, ToolCallRequest
from langchain_core.messages import ToolMessage
from langgraph.types import Command

from assistant.confirmations import action_id
from assistant.fault_points import pause_point
from assistant.store.actions import ActionLog
from assistant.tools.outcomes import parse_tool_content


class RecordWrites(AgentMiddleware[Any, Any]):
    def __init__(self, log: ActionLog, write_names: frozenset[str]) -> None:
        super().__init__()
        self.log = log
        self.write_names = write_names

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]],
    ) -> ToolMessage | Command[Any]:
        call = request.tool_call
        context = getattr(request.runtime, "context", None)
        conversation_id = str(getattr(context, "conversation_id", "") or "")
        if call["name"] not in self.write_names or not conversation_id:
            return handler(request)
        args = dict(call["args"])
        record = self.log.started(
            conversation_id, action_id([{"name": call["name"], "args": args}]), call["name"], args
        )
        pause_point("before_write")
        try:
            result = handler(request)
        except Exception as exc:
            self.log.finished(record, ok=False, error=f"{type(exc).__name__}: {exc}"[:2000])
            raise
        pause_point("after_write")
        if isinstance(result, ToolMessage):
            content = parse_tool_content(result.content)
            text = content if isinstance(content, str) else ""
            ok = result.status != "error" and not text.startswith("Error")
            self.log.finished(
                record, ok=ok, result=None if not ok else content, error=text[:2000] if not ok else None
            )
        else:
            self.log.finished(record, ok=True)
        pause_point("after_record")
        return result
