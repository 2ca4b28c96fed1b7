"""The tool layer's frame: tool specs and their registry, the customer scope, one `execute_tool` entry point.

Every caller (the agent's LLM path, the offline planner, the replay, the evaluation) runs tools through
`execute_tool`, so argument validation, customer scoping and the one-transaction-per-call rule are the
same everywhere. The tools themselves live in retail.py and help_center.py and register here.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from langchain_core.tools import StructuredTool

    from assistant.shop.schema import Order, User
    from assistant.shop.store import ShopSession, ShopStore


class ToolKind(StrEnum):
    READ = "read"  # looks things up; safe to run without asking
    WRITE = "write"  # changes the shop; the agent asks the customer for an explicit yes first


class ToolError(Exception):
    """A call that cannot be done; the message is meant for the agent (it may be shown to the customer)."""


NOT_AUTHENTICATED = (
    "Authenticate first: find the customer's user id by email, or by first name, last name and zip code"
)
# Same words for "does not exist" and "belongs to someone else", so ids of other customers cannot be probed.
ORDER_NOT_FOUND = "Order not found"
USER_NOT_FOUND = "User not found"
OTHER_CUSTOMER = (
    "This conversation is already authenticated as another customer: one customer per conversation"
)


@dataclass
class CustomerScope:
    """Whose data a conversation may touch: nobody's before authentication, then one customer's own.

    `trusted_operator` (the replay and the evaluation's gold runs) sees and changes everything.
    """

    user_id: str | None = None
    trusted_operator: bool = False

    @classmethod
    def customer(cls, user_id: str | None = None) -> CustomerScope:
        return cls(user_id=user_id)

    @classmethod
    def operator(cls) -> CustomerScope:
        return cls(trusted_operator=True)

    @property
    def is_authenticated(self) -> bool:
        return self.trusted_operator or self.user_id is not None

    def authenticate(self, user_id: str) -> None:
        """Bind the conversation to this customer; a second, different customer is refused."""
        if not isinstance(user_id, str) or not user_id.strip():
            raise ToolError("Cannot authenticate an empty user id")
        if self.trusted_operator:
            return
        if self.user_id is not None and self.user_id != user_id:
            raise ToolError(OTHER_CUSTOMER)
        self.user_id = user_id

    def may_access(self, owner_user_id: str) -> bool:
        return self.trusted_operator or (self.user_id is not None and self.user_id == owner_user_id)


class HelpCenterSearch(Protocol):
    """What search_help_center needs of knowledge.index.HelpCenterIndex (injected: tests pass a real one)."""

    def search(self, query: str) -> Sequence[Any]: ...


@dataclass
class ToolContext:
    """What a tool function gets: the open shop transaction, the scope, and the help-centre index."""

    scope: CustomerScope
    shop_session: ShopSession | None = None
    help_center: HelpCenterSearch | None = None

    @property
    def shop(self) -> ShopSession:
        if self.shop_session is None:  # a tool declared uses_shop=False but reads the shop: a wiring bug
            raise RuntimeError("this tool was registered without access to the shop")
        return self.shop_session

    def user(self, user_id: str) -> User:
        """The user, if this scope may see them; otherwise the same error as for an unknown id."""
        user = self.shop.get_user(user_id) if self.scope.may_access(user_id) else None
        if user is None:
            raise ToolError(USER_NOT_FOUND)
        return user

    def order(self, order_id: str) -> Order:
        """The order, if it belongs to the scope's customer; otherwise the same error as an unknown id."""
        order = self.shop.get_order(order_id)
        if order is None or not self.scope.may_access(order.user_id):
            raise ToolError(ORDER_NOT_FOUND)
        return order

    def owner(self, order: Order) -> User:
        """The user who placed an (already scope-checked) order."""
        user = self.shop.get_user(order.user_id)
        if user is None:
            raise ToolError(f"The customer of order {order.order_id} was not found")
        return user


class ToolArgs(BaseModel):
    """Base of every tool's arguments: unknown arguments are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


ToolFunction = Callable[[ToolContext, Any], Any]


@dataclass(frozen=True)
class ToolSpec:
    name: str
    kind: ToolKind
    description: str
    args_model: type[ToolArgs]
    func: ToolFunction
    needs_authentication: bool = True  # account data: refused before the customer is identified
    authenticates: bool = False  # find_user_*: a customer conversation is bound to the user found
    hands_over: bool = False  # transfer_to_human_agents: the agent hands the conversation to a person
    uses_shop: bool = True  # opens a shop transaction (calculate and the help centre do not need one)


RETAIL_TOOLS: dict[str, ToolSpec] = {}
TRANSFER_TOOL_NAME = "transfer_to_human_agents"


def retail_tool(
    kind: ToolKind,
    args_model: type[ToolArgs],
    *,
    needs_authentication: bool = True,
    authenticates: bool = False,
    hands_over: bool = False,
    uses_shop: bool = True,
) -> Callable[[ToolFunction], ToolFunction]:
    """Register a tool function under its own name; its docstring is the description the model reads."""

    def register(func: ToolFunction) -> ToolFunction:
        name = func.__name__
        if name in RETAIL_TOOLS:
            raise RuntimeError(f"tool {name} registered twice")
        RETAIL_TOOLS[name] = ToolSpec(
            name=name,
            kind=kind,
            description=inspect.getdoc(func) or name,
            args_model=args_model,
            func=func,
            needs_authentication=needs_authentication,
            authenticates=authenticates,
            hands_over=hands_over,
            uses_shop=uses_shop,
        )
        return func

    return register


class ToolResult(BaseModel):
    """The outcome of one call: ok with a JSON-able output, or not ok with an error message."""

    name: str
    ok: bool
    output: Any = None
    error: str | None = None
    kind: ToolKind | None = None
    handover: bool = False  # a successful transfer_to_human_agents

    @property
    def content(self) -> str:
        """The text a model sees (τ²'s convention: strings as they are, objects as JSON, 'Error: ...')."""
        if not self.ok:
            return f"Error: {self.error}"
        if isinstance(self.output, str):
            return self.output
        return json.dumps(self.output)


def _argument_error(name: str, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    return f"Invalid arguments for {name}: " + "; ".join(problems)


def execute_tool(
    store: ShopStore,
    scope: CustomerScope,
    name: str,
    arguments: Mapping[str, Any] | None,
    *,
    help_center: HelpCenterSearch | None = None,
    authenticate_on_lookup: bool = True,
) -> ToolResult:
    """Run one tool call: validate arguments, apply the scope, and run it in one shop transaction.

    A refused call (unknown tool, bad arguments, not authenticated, a policy rule) comes back as
    ok=False with a clear message and writes nothing: the transaction is rolled back. Successful
    find_user_* calls bind a customer scope to the user found (unless authenticate_on_lookup=False,
    for an agent layer that authenticates itself through `scope.authenticate`).
    """
    import assistant.tools  # noqa: F401  (registers the tools on first use)

    spec = RETAIL_TOOLS.get(name)
    if spec is None:
        return ToolResult(name=name, ok=False, error=f"Unknown tool {name!r}")
    failed = ToolResult(name=name, ok=False, kind=spec.kind)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        return failed.model_copy(update={"error": f"Arguments of {name} must be a JSON object"})
    try:
        args = spec.args_model.model_validate(dict(arguments))
    except ValidationError as exc:
        return failed.model_copy(update={"error": _argument_error(name, exc)})
    if spec.needs_authentication and not scope.is_authenticated:
        return failed.model_copy(update={"error": NOT_AUTHENTICATED})
    try:
        if spec.uses_shop:
            with store.transaction() as shop:  # an exception inside rolls the whole call back
                output = spec.func(ToolContext(scope, shop, help_center), args)
        else:
            output = spec.func(ToolContext(scope, None, help_center), args)
        if spec.authenticates and authenticate_on_lookup and not scope.trusted_operator:
            scope.authenticate(output)
    except ToolError as exc:
        return failed.model_copy(update={"error": str(exc)})
    return ToolResult(name=name, ok=True, output=output, kind=spec.kind, handover=spec.hands_over)


def to_langchain_tools(
    store: ShopStore,
    scope: CustomerScope,
    *,
    help_center: HelpCenterSearch | None = None,
    names: Sequence[str] | None = None,
) -> list[StructuredTool]:
    """The tools as LangChain StructuredTools bound to a store and a scope.

    Each tool returns (content, artifact): the text for the model and the ToolResult as a dict.
    metadata["kind"] and the tags say READ or WRITE (the agent's human-in-the-loop approval applies to
    WRITE tools); metadata["hands_over"] marks transfer_to_human_agents.
    """
    from langchain_core.tools import StructuredTool

    import assistant.tools  # noqa: F401  (registers the tools)

    wanted = list(RETAIL_TOOLS) if names is None else list(names)
    unknown = [n for n in wanted if n not in RETAIL_TOOLS]
    if unknown:
        raise ValueError(f"unknown tools: {', '.join(unknown)}")
    if help_center is None and names is None:
        wanted = [n for n in wanted if n != "search_help_center"]  # nothing to search without an index

    def bind(spec: ToolSpec) -> StructuredTool:
        def run(**kwargs: Any) -> tuple[str, dict[str, Any]]:
            result = execute_tool(store, scope, spec.name, kwargs, help_center=help_center)
            return result.content, result.model_dump(mode="json")

        return StructuredTool.from_function(
            func=run,
            name=spec.name,
            description=spec.description,
            args_schema=spec.args_model,
            response_format="content_and_artifact",
            metadata={"kind": spec.kind.value, "hands_over": spec.hands_over},
            tags=[spec.kind.value],
        )

    return [bind(RETAIL_TOOLS[n]) for n in wanted]


def write_tool_names() -> list[str]:
    """Names of the WRITE tools (what the agent's human-in-the-loop middleware interrupts on)."""
    import assistant.tools  # noqa: F401

    return [name for name, spec in RETAIL_TOOLS.items() if spec.kind is ToolKind.WRITE]


__all__ = [
    "NOT_AUTHENTICATED",
    "ORDER_NOT_FOUND",
    "OTHER_CUSTOMER",
    "RETAIL_TOOLS",
    "TRANSFER_TOOL_NAME",
    "USER_NOT_FOUND",
    "CustomerScope",
    "HelpCenterSearch",
    "ToolArgs",
    "ToolContext",
    "ToolError",
    "ToolKind",
    "ToolResult",
    "ToolSpec",
    "execute_tool",
    "retail_tool",
    "to_langchain_tools",
    "write_tool_names",
]
