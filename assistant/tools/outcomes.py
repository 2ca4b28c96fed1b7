"""The one reader of tool outcomes: what each call of a conversation returned, and what is known from it.

The planner's dialogue state, the confirmation of a WRITE, the report of its result and the stored trace of
a turn all read tool results through `read_outcomes` / `tool_trace` here, so "ok", "rejected" and "the
order as last seen" mean the same thing everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from assistant.records import ToolCallRecord

# What LangChain's human-in-the-loop middleware writes when the customer declines a WRITE.
REJECTED_PREFIX = "User rejected the tool call"
LOOKUP_TOOLS = frozenset({"find_user_id_by_email", "find_user_id_by_name_zip"})


@dataclass
class ToolOutcome:
    name: str
    args: dict[str, Any]
    ok: bool
    result: Any  # parsed JSON output, or the error text
    rejected: bool = False  # the customer said no to a confirmation


def parse_tool_content(content: Any) -> Any:
    """A tool message's content as JSON when it is JSON, as text otherwise."""
    if isinstance(content, list):
        content = "".join(c.get("text", "") if isinstance(c, dict) else str(c) for c in content)
    if not isinstance(content, str):
        return content
    try:
        return json.loads(content)
    except (ValueError, TypeError):
        return content


def is_rejection(message: ToolMessage) -> bool:
    return str(message.content).startswith(REJECTED_PREFIX)


def read_outcomes(messages: Sequence[BaseMessage]) -> list[tuple[int, ToolOutcome]]:
    """Every tool call with its result, and the index of its result message."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    found: list[tuple[int, ToolOutcome]] = []
    for index, message in enumerate(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                calls[call["id"] or ""] = (call["name"], dict(call["args"]))
        elif isinstance(message, ToolMessage):
            name, args = calls.get(message.tool_call_id, (message.name or "", {}))
            content = parse_tool_content(message.content)
            text = content if isinstance(content, str) else ""
            ok = message.status != "error" and not text.startswith("Error")
            rejected = not ok and text.startswith(REJECTED_PREFIX)
            found.append((index, ToolOutcome(name, args, ok, content, rejected)))
    return found


@dataclass
class Facts:
    """What the conversation's tool results say: the customer, their orders as last seen, the products."""

    user_id: str | None = None
    user: dict[str, Any] | None = None
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_outcomes(cls, outcomes: Iterable[ToolOutcome]) -> Facts:
        facts = cls()
        for outcome in outcomes:
            if not outcome.ok:
                continue
            result = outcome.result
            if outcome.name in LOOKUP_TOOLS and isinstance(result, str):
                facts.user_id = result
            elif outcome.name in {"get_user_details", "modify_user_address"} and isinstance(result, dict):
                facts.user = result
            elif isinstance(result, dict) and "order_id" in result:
                facts.orders[result["order_id"]] = result
            elif outcome.name == "get_product_details" and isinstance(result, dict):
                facts.products[result["product_id"]] = result
        return facts

    @classmethod
    def from_messages(cls, messages: Sequence[BaseMessage]) -> Facts:
        return cls.from_outcomes(o for _, o in read_outcomes(messages))

    def variant(self, item_id: str) -> dict[str, Any] | None:
        """A product variant by item id, with its product's name."""
        for product in self.products.values():
            variant = product.get("variants", {}).get(item_id)
            if variant is not None:
                return {"name": product.get("name", ""), **variant}
        return None

    def product_of_variant(self, item_id: str) -> dict[str, Any] | None:
        return next((p for p in self.products.values() if item_id in p.get("variants", {})), None)


def tool_trace(messages: Sequence[BaseMessage], kinds: dict[str, str] | None = None) -> list[ToolCallRecord]:
    """The tool calls of a run with their arguments and results, for the store, the API and the eval.

    `kinds` maps tool names to "read"/"write" for calls whose result carries no kind (not run yet, or
    declined by the customer).
    """
    results = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    trace: list[ToolCallRecord] = []
    for message in messages:
        if not isinstance(message, AIMessage):
            continue
        for call in message.tool_calls:
            result = results.get(call["id"] or "")
            artifact = getattr(result, "artifact", None) if result is not None else None
            record = ToolCallRecord(name=call["name"], arguments=dict(call["args"]), id=call["id"])
            if isinstance(artifact, dict):
                record.ok, record.output = artifact.get("ok"), artifact.get("output")
                record.error, record.kind = artifact.get("error"), artifact.get("kind")
            elif result is not None:
                rejected = is_rejection(result)
                record.ok = False if rejected else result.status != "error"
                record.error = str(result.content) if (rejected or result.status == "error") else None
                record.rejected = rejected
            else:
                record.error = "not run"
            if record.kind is None and kinds is not None:
                record.kind = kinds.get(call["name"])
            trace.append(record)
    return trace
