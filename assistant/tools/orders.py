"""The WRITE tools (τ²-bench retail names, arguments and return shapes); their rules are in policies.py.

Each spec says which order statuses the change needs and names how the change is put to the customer for
their yes (`describe`) and how the done change is reported (`report`, both in wording.py). Every WRITE runs
only after an explicit yes, in one shop transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from assistant.shop.schema import Address, Order, Product, User
from assistant.tools import policies, wording
from assistant.tools.base import (
    Describer,
    Reporter,
    ToolArgs,
    ToolContext,
    ToolFunction,
    ToolKind,
    ToolSpec,
    tool,
)
from assistant.tools.lookups import Id, OrderIdArgs

WRITE = ToolKind.WRITE
PENDING_ONLY = frozenset({policies.PENDING})
DELIVERED_ONLY = frozenset({policies.DELIVERED})

ShortText = Annotated[str, StringConstraints(max_length=200)]
ItemIds = Annotated[list[Id], Field(max_length=50)]


class CancelArgs(OrderIdArgs):
    reason: Annotated[str, StringConstraints(max_length=100)] = Field(
        description="The reason for cancellation, which should be either 'no longer needed' or "
        "'ordered by mistake'."
    )


class AddressArgs(ToolArgs):
    address1: ShortText = Field(description="The first line of the address, such as '123 Main St'.")
    address2: ShortText = Field(description="The second line of the address, such as 'Apt 1' or ''.")
    city: ShortText = Field(description="The city, such as 'San Francisco'.")
    state: ShortText = Field(description="The state, such as 'CA'.")
    country: ShortText = Field(description="The country, such as 'USA'.")
    zip: Annotated[str, StringConstraints(max_length=20)] = Field(
        description="The zip code, such as '12345'."
    )

    def to_address(self) -> Address:
        return Address(**self.model_dump(include=set(Address.model_fields)))


class OrderAddressArgs(AddressArgs):
    order_id: Id = Field(description="The order id, such as '#W0000000'.")


class UserAddressArgs(AddressArgs):
    user_id: Id = Field(description="The user id, such as 'sara_doe_496'.")


PAYMENT_METHOD_DESCRIPTION = (
    "The payment method id to pay or receive refund for the item price difference, such as "
    "'gift_card_0000000' or 'credit_card_0000000'. These can be looked up from the user or order details."
)


class ItemChangeArgs(OrderIdArgs):
    item_ids: ItemIds = Field(
        description="The item ids to be changed, each such as '1008292230'. There could be duplicate items."
    )
    new_item_ids: ItemIds = Field(
        description="The new item ids, each such as '1008292230'. Each new item id matches the item id "
        "in the same position and must be of the same product. There could be duplicate items."
    )
    payment_method_id: Id = Field(description=PAYMENT_METHOD_DESCRIPTION)


class PaymentArgs(OrderIdArgs):
    payment_method_id: Id = Field(description="The new payment method id, such as 'gift_card_0000000'.")


class ReturnArgs(OrderIdArgs):
    item_ids: ItemIds = Field(description="The item ids to be returned. There could be duplicate items.")
    payment_method_id: Id = Field(
        description="The payment method id to receive the refund: the original payment method or a gift card."
    )


def _write(
    args_model: type[ToolArgs], describe: Describer, report: Reporter, statuses: frozenset[str] = frozenset()
) -> Callable[[ToolFunction], ToolSpec]:
    """A WRITE tool: how the change is put to the customer for their yes, how the done change is reported
    and, for an order, the statuses it needs."""
    return tool(WRITE, args_model, statuses=statuses, describe=describe, report=report)


def _products_of(ctx: ToolContext, product_ids: set[str]) -> dict[str, Product]:
    products = {}
    for product_id in product_ids:
        product = ctx.shop.get_product(product_id)
        if product is not None:
            products[product_id] = product
    return products


def _saved(ctx: ToolContext, plan: Order | tuple[Order, User], user: User | None = None) -> dict[str, Any]:
    """Store a policy's plan (the new order, the owner's new record when it changed); the tool's result."""
    new_order, new_user = plan if isinstance(plan, tuple) else (plan, None)
    ctx.shop.save_order(new_order)
    if new_user is not None and new_user != user:
        ctx.shop.save_user(new_user)
    return new_order.to_tau2()


def _changed_items(
    ctx: ToolContext,
    args: ItemChangeArgs,
    plan: Callable[[Order, User, dict[str, Product], policies.ItemChange], Order | tuple[Order, User]],
) -> dict[str, Any]:
    """An item swap (modify a pending order's items, or exchange a delivered one's): the order, its owner
    and the products of its items go to the policy `plan`; its plan is saved."""
    order = ctx.order(args.order_id)
    user = ctx.owner(order)
    products = _products_of(ctx, {item.product_id for item in order.items})
    change = policies.ItemChange(args.item_ids, args.new_item_ids, args.payment_method_id)
    return _saved(ctx, plan(order, user, products, change), user)


@_write(CancelArgs, wording.describe_cancel, wording.report_cancel, PENDING_ONLY)
def cancel_pending_order(ctx: ToolContext, args: CancelArgs) -> dict[str, Any]:
    """Cancel a pending order. If the order is already processed or delivered, it cannot be cancelled.
    The agent needs to explain the cancellation detail and ask for explicit user confirmation (yes/no) to
    proceed. If the user confirms, the order status will be changed to 'cancelled' and the payment will
    be refunded. The refund will be added to the user's gift card balance immediately if the payment was
    made using a gift card, otherwise the refund would take 5-7 business days to process. The function
    returns the order details after the cancellation."""
    order = ctx.order(args.order_id)
    user = ctx.owner(order)
    return _saved(ctx, policies.plan_cancel(order, user, args.reason), user)


@_write(OrderAddressArgs, wording.describe_order_address, wording.report_order_address, PENDING_ONLY)
def modify_pending_order_address(ctx: ToolContext, args: OrderAddressArgs) -> dict[str, Any]:
    """Modify the shipping address of a pending order. The agent needs to explain the modification detail
    and ask for explicit user confirmation (yes/no) to proceed."""
    return _saved(ctx, policies.plan_modify_address(ctx.order(args.order_id), args.to_address()))


@_write(ItemChangeArgs, wording.describe_item_change, wording.report_item_change, PENDING_ONLY)
def modify_pending_order_items(ctx: ToolContext, args: ItemChangeArgs) -> dict[str, Any]:
    """Modify items in a pending order to new items of the same product type. For a pending order, this
    function can only be called once. The agent needs to explain the exchange detail and ask for explicit
    user confirmation (yes/no) to proceed."""
    return _changed_items(ctx, args, policies.plan_modify_items)


@_write(PaymentArgs, wording.describe_order_payment, wording.report_order_payment, PENDING_ONLY)
def modify_pending_order_payment(ctx: ToolContext, args: PaymentArgs) -> dict[str, Any]:
    """Modify the payment method of a pending order. The agent needs to explain the modification detail
    and ask for explicit user confirmation (yes/no) to proceed."""
    order = ctx.order(args.order_id)
    user = ctx.owner(order)
    return _saved(ctx, policies.plan_modify_payment(order, user, args.payment_method_id), user)


@_write(UserAddressArgs, wording.describe_user_address, wording.report_user_address)
def modify_user_address(ctx: ToolContext, args: UserAddressArgs) -> dict[str, Any]:
    """Modify the default address of a user. The agent needs to explain the modification detail and ask
    for explicit user confirmation (yes/no) to proceed."""
    new_user = policies.plan_modify_user_address(ctx.user(args.user_id), args.to_address())
    ctx.shop.save_user(new_user)
    return new_user.to_tau2()


@_write(ReturnArgs, wording.describe_return, wording.report_return, DELIVERED_ONLY)
def return_delivered_order_items(ctx: ToolContext, args: ReturnArgs) -> dict[str, Any]:
    """Return some items of a delivered order. The order status will be changed to 'return requested'.
    The agent needs to explain the return detail and ask for explicit user confirmation (yes/no) to
    proceed. The user will receive follow-up email for how and where to return the item."""
    order = ctx.order(args.order_id)
    return _saved(ctx, policies.plan_return(order, ctx.owner(order), args.item_ids, args.payment_method_id))


@_write(ItemChangeArgs, wording.describe_exchange, wording.report_item_change, DELIVERED_ONLY)
def exchange_delivered_order_items(ctx: ToolContext, args: ItemChangeArgs) -> dict[str, Any]:
    """Exchange items in a delivered order to new items of the same product type. For a delivered order,
    return or exchange can be only done once by the agent. The agent needs to explain the exchange detail
    and ask for explicit user confirmation (yes/no) to proceed."""
    return _changed_items(ctx, args, policies.plan_exchange)


SPECS = (
    cancel_pending_order,
    modify_pending_order_address,
    modify_pending_order_items,
    modify_pending_order_payment,
    modify_user_address,
    return_delivered_order_items,
    exchange_delivered_order_items,
)
