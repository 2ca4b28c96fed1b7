"""Order tools (τ²-bench retail semantics, rules in code), customer scoping, and the replay.

Importing the package registers every tool in `RETAIL_TOOLS`.
"""

from assistant.tools import help_center, retail  # noqa: F401  (registration side effect)
from assistant.tools.base import (
    RETAIL_TOOLS,
    TRANSFER_TOOL_NAME,
    CustomerScope,
    ToolError,
    ToolKind,
    ToolResult,
    ToolSpec,
    execute_tool,
    to_langchain_tools,
    write_tool_names,
)

__all__ = [
    "RETAIL_TOOLS",
    "TRANSFER_TOOL_NAME",
    "CustomerScope",
    "ToolError",
    "ToolKind",
    "ToolResult",
    "ToolSpec",
    "execute_tool",
    "to_langchain_tools",
    "write_tool_names",
]
