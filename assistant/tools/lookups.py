"""The READ tools (τ²-bench retail names, arguments and return shapes): who the customer is, their
account and orders, the catalogue, arithmetic, and the hand-over to a person.

Each function takes the ToolContext (open shop transaction + customer scope) and its validated arguments;
its docstring is the description the language model reads.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from assistant.tools.base import ToolArgs, ToolContext, ToolError, ToolKind, tool

READ = ToolKind.READ

Id = Annotated[str, StringConstraints(min_length=1, max_length=100)]
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


@tool(READ, EmailArgs, needs_authentication=False, authenticates=True)
def find_user_id_by_email(ctx: ToolContext, args: EmailArgs) -> str:
    """Find user id by email. If the user is not found, the function will return an error message."""
    user_ids = ctx.shop.find_user_ids_by_email(args.email)
    if not user_ids:
        raise ToolError("User not found")
    return user_ids[0]


@tool(READ, NameZipArgs, needs_authentication=False, authenticates=True)
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


@tool(READ, UserIdArgs)
def get_user_details(ctx: ToolContext, args: UserIdArgs) -> dict[str, Any]:
    """Get the details of a user, including their orders."""
    return ctx.user(args.user_id).to_tau2()


@tool(READ, OrderIdArgs)
def get_order_details(ctx: ToolContext, args: OrderIdArgs) -> dict[str, Any]:
    """Get the status and details of an order."""
    return ctx.order(args.order_id).to_tau2()


@tool(READ, ProductIdArgs, needs_authentication=False)
def get_product_details(ctx: ToolContext, args: ProductIdArgs) -> dict[str, Any]:
    """Get the inventory details of a product."""
    product = ctx.shop.get_product(args.product_id)
    if product is None:
        raise ToolError("Product not found")
    return product.to_tau2()


@tool(READ, ItemIdArgs, needs_authentication=False)
def get_item_details(ctx: ToolContext, args: ItemIdArgs) -> dict[str, Any]:
    """Get the inventory details of an item."""
    product = ctx.shop.get_product_by_item_id(args.item_id)
    if product is None or args.item_id not in product.variants:
        raise ToolError("Item not found")
    return product.variants[args.item_id].to_tau2()


@tool(READ, NoArgs, needs_authentication=False)
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


@tool(READ, CalculateArgs, needs_authentication=False, uses_shop=False)
def calculate(ctx: ToolContext, args: CalculateArgs) -> str:
    """Calculate the result of a mathematical expression (numbers, +, -, *, /, parentheses), rounded to
    2 decimals."""
    return str(round(evaluate_arithmetic(args.expression), 2))


# --- hand-over ----------------------------------------------------------------------------------


class TransferArgs(ToolArgs):
    summary: Annotated[str, StringConstraints(max_length=MAX_SUMMARY_CHARS)] = Field(
        description="A summary of the user's issue."
    )


TRANSFER_SUCCESSFUL = "Transfer successful"


@tool(READ, TransferArgs, needs_authentication=False, hands_over=True, uses_shop=False)
def transfer_to_human_agents(ctx: ToolContext, args: TransferArgs) -> str:
    """Transfer the user to a human agent, with a summary of the user's issue. Only transfer if the user
    explicitly asks for a human agent, or if, given the policy and the available tools, you cannot solve
    the user's issue."""
    return TRANSFER_SUCCESSFUL


SPECS = (
    find_user_id_by_email,
    find_user_id_by_name_zip,
    get_user_details,
    get_order_details,
    get_product_details,
    get_item_details,
    list_all_product_types,
    calculate,
    transfer_to_human_agents,
)
