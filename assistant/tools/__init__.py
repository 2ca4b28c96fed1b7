"""Order tools (τ²-bench retail semantics, rules in code), customer scoping, and the replay.

`Toolkit` binds the tool specs to a shop and a help centre; nothing is registered at import. The names below
load on first use, so `parley search` (which imports `assistant.tools.cli` to register its commands) does not
pay for LangChain.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.tools.base import CustomerScope, ToolError, ToolKind, ToolResult, ToolSpec, tool
    from assistant.tools.outcomes import REJECTED_PREFIX, Facts, ToolOutcome, read_outcomes, tool_trace
    from assistant.tools.toolkit import TRANSFER_TOOL_NAME, Toolkit, default_specs

_HOME = {
    **dict.fromkeys(("CustomerScope", "ToolError", "ToolKind", "ToolResult", "ToolSpec", "tool"), "base"),
    **dict.fromkeys(("REJECTED_PREFIX", "Facts", "ToolOutcome", "read_outcomes", "tool_trace"), "outcomes"),
    **dict.fromkeys(("TRANSFER_TOOL_NAME", "Toolkit", "default_specs"), "toolkit"),
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'assistant.tools' has no attribute {name!r}")
    return getattr(import_module(f"assistant.tools.{_HOME[name]}"), name)


__all__ = [
    "REJECTED_PREFIX",
    "TRANSFER_TOOL_NAME",
    "CustomerScope",
    "Facts",
    "ToolError",
    "ToolKind",
    "ToolOutcome",
    "ToolResult",
    "ToolSpec",
    "Toolkit",
    "default_specs",
    "read_outcomes",
    "tool",
    "tool_trace",
]
