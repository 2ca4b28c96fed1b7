"""The retail tools, with τ²-bench's names, arguments and return shapes; the rules are in policies.py.

Each function takes the ToolContext (open shop transaction + customer scope) and its validated
arguments. Its docstring is the description the language model reads.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from assistant.shop.schema import Address, Product
from assistant.tools import policies
from assistant.tools.base import ToolArgs, ToolContext, ToolError, ToolKind, retail_tool

READ, WRITE = ToolKind.READ, ToolKind.WRITE

Id = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
ItemIds = Annotated[list[Id], Field(max_length=50)]
MAX_EXPRESSION_CHARS = 300
MAX_SUMMARY_CHARS = 4000


# --- identification -----------------------------------------------------------------------------


class EmailArgs(ToolArgs):
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)] = Field(
        description="The email of the customer, such as 'something@example.com'."
    )


class NameZipArgs(ToolArgs):
    first_name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="The first name of the customer, such as 'John'."
    )
    last_name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="The last name of the customer, such as 'Doe'."
    )
    zip: Annotated[str, StringConstraints(min_length=1, max_length=20)] = Field(
        description="The zip code of the customer, such as '12345'."
    )


@retail_tool(READ, EmailArgs, needs_authentication=False, authenticates=True)
def find_user_id_by_email(ctx: ToolContext, args: EmailArgs) -> str:
    """Find user id by email. If the user is not found, the function will return an error message."""
    user_ids = ctx.shop.find_user_ids_by_email(args.email)
    if not user_ids:
        raise ToolError("User not found")
    return user_ids[0]


@retail_tool(READ, NameZipArgs, needs_authentication=False, authenticates=True)
def find_user_id_by_name_zip(ctx: ToolContext, args: NameZipArgs) -> str:
    """Find user id by first name, last name, and zip code. If the user is not found, the function will
    return an error message. By default, find user id by email, and only call this function if the user
    is not found by email or cannot remember email."""
    user_ids = ctx.shop.find_user_ids_by_name_zip(args.first_name, args.last_name, args.zip)
    if not user_ids:
        raise ToolError("User not found")
    return user_ids[0]


# --- reads --------------------------------------------------------------------------------------


class UserIdArgs(ToolArgs):
    user_id: Id = Field(description="The user id, such as 'sara_doe_496'.")


class OrderIdArgs(ToolArgs):
    order_id: Id = Field(
        description="The order id, such as '#W0000000'. Be careful there is a '#' symbol at the beginning."
    )


class ProductIdArgs(ToolArgs):
    product_id: Id = Field(
        description="The product id, such as '6086499569'. "
        "Be careful the product id is different from the item id."
    )


class ItemIdArgs(ToolArgs):
    item_id: Id = Field(
        description="The item id, such as '6086499569'. "
        "Be careful the item id is different from the product id."
    )


class NoArgs(ToolArgs):
    pass


@retail_tool(READ, UserIdArgs)
def get_user_details(ctx: ToolContext, args: UserIdArgs) -> dict[str, Any]:
    """Get the details of a user, including their orders."""
    return ctx.user(args.user_id).to_tau2()


@retail_tool(READ, OrderIdArgs)
def get_order_details(ctx: ToolContext, args: OrderIdArgs) -> dict[str, Any]:
    """Get the status and details of an order."""
    return ctx.order(args.order_id).to_tau2()


@retail_tool(READ, ProductIdArgs, needs_authentication=False)
def get_product_details(ctx: ToolContext, args: ProductIdArgs) -> dict[str, Any]:
    """Get the inventory details of a product."""
    product = ctx.shop.get_product(args.product_id)
    if product is None:
        raise ToolError("Product not found")
    return product.to_tau2()


@retail_tool(READ, ItemIdArgs, needs_authentication=False)
def get_item_details(ctx: ToolContext, args: ItemIdArgs) -> dict[str, Any]:
    """Get the inventory details of an item."""
    product = ctx.shop.get_product_by_item_id(args.item_id)
    if product is None or args.item_id not in product.variants:
        raise ToolError("Item not found")
    return product.variants[args.item_id].to_tau2()


@retail_tool(READ, NoArgs, needs_authentication=False)
def list_all_product_types(ctx: ToolContext, args: NoArgs) -> dict[str, str]:
    """List the name and product id of all product types. Each product type has a variety of different
    items with unique item ids and options. There are only 50 product types in the store.
    Returns a mapping of product names to their product ids, sorted alphabetically by name."""
    return dict(sorted((product.name, product.product_id) for product in ctx.shop.list_products()))


# --- calculate ----------------------------------------------------------------------------------


class CalculateArgs(ToolArgs):
    expression: Annotated[str, StringConstraints(max_length=MAX_EXPRESSION_CHARS)] = Field(
        description="The mathematical expression to calculate, such as '2 + 2'. The expression can contain "
        "numbers, operators (+, -, *, /), parentheses, and spaces."
    )


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
ARITHMETIC_ONLY = "Invalid expression: only numbers, + - * /, parentheses and spaces are allowed"


def _evaluate(node: ast.expr) -> int | float:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return float(_BINARY[type(node.op)](_evaluate(node.left), _evaluate(node.right)))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return float(_UNARY[type(node.op)](_evaluate(node.operand)))
    raise ToolError(ARITHMETIC_ONLY)


def evaluate_arithmetic(expression: str) -> float:
    """Evaluate + - * / over numbers and parentheses by walking the syntax tree (never eval)."""
    if not expression.strip():
        raise ToolError("Invalid expression: it is empty")
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"Invalid expression: longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
        value = float(_evaluate(tree.body))
    except ZeroDivisionError:
        raise ToolError("Invalid expression: division by zero") from None
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        raise ToolError(ARITHMETIC_ONLY) from None
    if not math.isfinite(value):
        raise ToolError("Invalid expression: the result is too large")
    return value


@retail_tool(READ, CalculateArgs, needs_authentication=False, uses_shop=False)
def calculate(ctx: ToolContext, args: CalculateArgs) -> str:
    """Calculate the result of a mathematical expression (numbers, +, -, *, /, parentheses), rounded to
    2 decimals."""
    return str(round(evaluate_arithmetic(args.expression), 2))


# --- writes -------------------------------------------------------------------------------------


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
        return Address(
            address1=self.address1,
            address2=self.address2,
            city=self.city,
            country=self.country,
            state=self.state,
            zip=self.zip,
        )


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


def _products_of(ctx: ToolContext, product_ids: set[str]) -> dict[str, Product]:
    products = {}
    for product_id in product_ids:
        product = ctx.shop.get_product(product_id)
        if product is not None:
            products[product_id] = product
    return products


@retail_tool(WRITE, CancelArgs)
def cancel_pending_order(ctx: ToolContext, args: CancelArgs) -> dict[str, Any]:
    """Cancel a pending order. If the order is already processed or delivered, it cannot be cancelled.
    The agent needs to explain the cancellation detail and ask for explicit user confirmation (yes/no) to
    proceed. If the user confirms, the order status will be changed to 'cancelled' and the payment will
    be refunded. The refund will be added to the user's gift card balance immediately if the payment was
    made using a gift card, otherwise the refund would take 5-7 business days to process. The function
    returns the order details after the cancellation."""
    order = ctx.order(args.order_id)
    user = ctx.owner(order)
    new_order, new_user = policies.plan_cancel(order, user, args.reason)
    ctx.shop.save_order(new_order)
    if new_user != user:
        ctx.shop.save_user(new_user)
    return new_order.to_tau2()


@retail_tool(WRITE, OrderAddressArgs)
def modify_pending_order_address(ctx: ToolContext, args: OrderAddressArgs) -> dict[str, Any]:
    """Modify the shipping address of a pending order. The agent needs to explain the modification detail
    and ask for explicit user confirmation (yes/no) to proceed."""
    new_order = policies.plan_modify_address(ctx.order(args.order_id), args.to_address())
    ctx.shop.save_order(new_order)
    return new_order.to_tau2()


@retail_tool(WRITE, ItemChangeArgs)
def modify_pending_order_items(ctx: ToolContext, args: ItemChangeArgs) -> dict[str, Any]:
    """Modify items in a pending order to new items of the same product type. For a pending order, this
    function can only be called once. The agent needs to explain the exchange detail and ask for explicit
    user confirmation (yes/no) to proceed."""
    order = ctx.order(args.order_id)
    user = ctx.owner(order)
    products = _products_of(ctx, {item.product_id for item in order.items})
    new_order, new_user = policies.plan_modify_items(
        order, user, products, args.item_ids, args.new_item_ids, args.payment_method_id
    )
    ctx.shop.save_order(new_order)
    if new_user != user:
        ctx.shop.save_user(new_user)
    return new_order.to_tau2()


@retail_tool(WRITE, PaymentArgs)
def modify_pending_order_payment(ctx: ToolContext, args: PaymentArgs) -> dict[str, Any]:
    """Modify the payment method of a pending order. The agent needs to explain the modification detail
    and ask for explicit user confirmation (yes/no) to proceed."""
    order = ctx.order(args.order_id)
    user = ctx.owner(order)
    new_order, new_user = policies.plan_modify_payment(order, user, args.payment_method_id)
    ctx.shop.save_order(new_order)
    if new_user != user:
        ctx.shop.save_user(new_user)
    return new_order.to_tau2()


@retail_tool(WRITE, UserAddressArgs)
def modify_user_address(ctx: ToolContext, args: UserAddressArgs) -> dict[str, Any]:
    """Modify the default address of a user. The agent needs to explain the modification detail and ask
    for explicit user confirmation (yes/no) to proceed."""
    new_user = policies.plan_modify_user_address(ctx.user(args.user_id), args.to_address())
    ctx.shop.save_user(new_user)
    return new_user.to_tau2()


@retail_tool(WRITE, ReturnArgs)
def return_delivered_order_items(ctx: ToolContext, args: ReturnArgs) -> dict[str, Any]:
    """Return some items of a delivered order. The order status will be changed to 'return requested'.
    The agent needs to explain the return detail and ask for explicit user confirmation (yes/no) to
    proceed. The user will receive follow-up email for how and where to return the item."""
    order = ctx.order(args.order_id)
    new_order = policies.plan_return(order, ctx.owner(order), args.item_ids, args.payment_method_id)
    ctx.shop.save_order(new_order)
    return new_order.to_tau2()


@retail_tool(WRITE, ItemChangeArgs)
def exchange_delivered_order_items(ctx: ToolContext, args: ItemChangeArgs) -> dict[str, Any]:
    """Exchange items in a delivered order to new items of the same product type. For a delivered order,
    return or exchange can be only done once by the agent. The agent needs to explain the exchange detail
    and ask for explicit user confirmation (yes/no) to proceed."""
    order = ctx.order(args.order_id)
    products = _products_of(ctx, {item.product_id for item in order.items})
    new_order = policies.plan_exchange(
        order, ctx.owner(order), products, args.item_ids, args.new_item_ids, args.payment_method_id
    )
    ctx.shop.save_order(new_order)
    return new_order.to_tau2()


# --- hand-over ----------------------------------------------------------------------------------


class TransferArgs(ToolArgs):
    summary: Annotated[str, StringConstraints(max_length=MAX_SUMMARY_CHARS)] = Field(
        description="A summary of the user's issue."
    )


TRANSFER_SUCCESSFUL = "Transfer successful"


@retail_tool(READ, TransferArgs, needs_authentication=False, hands_over=True, uses_shop=False)
def transfer_to_human_agents(ctx: ToolContext, args: TransferArgs) -> str:
    """Transfer the user to a human agent, with a summary of the user's issue. Only transfer if the user
    explicitly asks for a human agent, or if, given the policy and the available tools, you cannot solve
    the user's issue."""
    return TRANSFER_SUCCESSFUL
