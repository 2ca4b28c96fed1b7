"""Order tools (τ²-bench retail semantics, rules in code), customer scoping, and the replay.

`Toolkit` binds the tool specs to a shop and a help centre; nothing is registered at import.
"""

from assistant.tools.base import CustomerScope, ToolError, ToolKind, ToolResult, ToolSpec, tool
from assistant.tools.outcomes import REJECTED_PREFIX, Facts, ToolOutcome, read_outcomes, tool_trace
from assistant.tools.toolkit import TRANSFER_TOOL_NAME, Toolkit, default_specs

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
