"""The tool layer's frame: what a tool is (its spec), the customer scope, the context a tool runs in.

A `ToolSpec` owns everything about one tool: its kind (READ/WRITE), its arguments, the order statuses a
change needs, how the change is described for the customer's yes and how its result is reported. The
tools themselves are in lookups.py, orders.py and help_center.py; `Toolkit` (toolkit.py) binds a set of
specs to a shop and a help centre and is the one way to run them.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from assistant.shop.schema import Order, User
    from assistant.shop.store import ShopSession
    from assistant.tools.outcomes import Facts, ToolOutcome


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
# Under the verified identity policy (assistant/identity/policy.py) a lookup by email or name + zip proves
# nothing; the same answer whether or not the customer exists, and nothing is looked up.
PROOF_NEEDED = (
    "Knowing an email or a name and zip code is not a proof of identity here: ask the customer for the email "
    "address on their account; a one-time code will be sent to it, and the code typed back signs them in"
)
OTHER_CUSTOMER = (
    "This conversation is already authenticated as another customer: one customer per conversation"
)


@dataclass
class CustomerScope:
    """Whose data a conversation may touch: nobody's before authentication, then one customer's own.

    `trusted_operator` (the replay and the evaluation's gold runs) sees and changes everything.
    `lookup_signs_in`: whether find_user_id_by_email / _by_name_zip may sign the conversation in (only under
    τ²-bench's identity policy; under "verified" those lookups are refused before they run).
    """

    user_id: str | None = None
    trusted_operator: bool = False
    lookup_signs_in: bool = True

    @classmethod
    def customer(cls, user_id: str | None = None, *, lookup_signs_in: bool = True) -> CustomerScope:
        return cls(user_id=user_id, lookup_signs_in=lookup_signs_in)

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
# (arguments, what the conversation knows, say) -> the change in the customer's words / the done change.
Say = Callable[..., str]
Describer = Callable[[dict[str, Any], "Facts", Say], str]
Reporter = Callable[["ToolOutcome", "Facts", Say], str]


@dataclass(frozen=True)
class ToolSpec:
    """Everything about one tool. Adding a tool is one spec plus its function (and its policy rule)."""

    name: str
    kind: ToolKind
    description: str  # what the model reads
    args_model: type[ToolArgs]
    func: ToolFunction
    needs_authentication: bool = True  # account data: refused before the customer is identified
    authenticates: bool = False  # find_user_*: a customer conversation is bound to the user found
    hands_over: bool = False  # transfer_to_human_agents: the agent hands the conversation to a person
    uses_shop: bool = True  # opens a shop transaction (calculate and the help centre do not need one)
    statuses: frozenset[str] = frozenset()  # order statuses the change needs (WRITE tools on an order)
    describe: Describer | None = None  # the change, for the customer's explicit yes (WRITE tools)
    report: Reporter | None = None  # the done change, told to the customer (WRITE tools)


def tool(
    kind: ToolKind,
    args_model: type[ToolArgs],
    *,
    needs_authentication: bool = True,
    authenticates: bool = False,
    hands_over: bool = False,
    uses_shop: bool = True,
    statuses: frozenset[str] = frozenset(),
    describe: Describer | None = None,
    report: Reporter | None = None,
) -> Callable[[ToolFunction], ToolSpec]:
    """Make a function a tool spec named after it; its docstring is the description the model reads."""

    def make(func: ToolFunction) -> ToolSpec:
        return ToolSpec(
            name=func.__name__,
            kind=kind,
            description=inspect.getdoc(func) or func.__name__,
            args_model=args_model,
            func=func,
            needs_authentication=needs_authentication,
            authenticates=authenticates,
            hands_over=hands_over,
            uses_shop=uses_shop,
            statuses=statuses,
            describe=describe,
            report=report,
        )

    return make


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
