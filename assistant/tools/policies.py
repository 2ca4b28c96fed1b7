"""The shop's order rules (policy.md), as plain functions on the schema models.

Every WRITE tool is a thin wrapper around one `plan_*` function here: it takes the current models,
checks every rule, and returns *new* models with the change applied (the inputs are never mutated),
or raises `PolicyViolation` with a message the agent can show. Keeping the rules here, free of any
database, makes each one unit-testable in both its allowed and its refused case.

The semantics follow τ²-bench's retail tools, with four deliberate differences (docs/tools.md):
- modifying the address or payment of an order needs status exactly "pending" (τ² accepts any status
  containing "pending"): policy.md says an order whose items were modified can no longer be modified;
- modifying items gives every changed item the price and options of *its own* new variant (τ² copies
  the last variant of the call onto all of them) and records the price difference rounded to cents;
- an exchange needs each new item to differ from the old one (policy.md: "different product option");
- a cancellation refunds what each payment method has paid net of earlier refunds (τ² refunds every
  history entry again, which double-refunds an order whose payment method was changed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant.shop.schema import (
    Address,
    Order,
    OrderItem,
    PaymentMethod,
    PaymentTransaction,
    Product,
    User,
    Variant,
)
from assistant.tools.base import ToolError


class PolicyViolation(ToolError):
    """A request the shop's policy refuses; the message is written for the agent (and the customer)."""


PENDING = "pending"
PENDING_ITEMS_MODIFIED = "pending (item modified)"
DELIVERED = "delivered"
CANCELLED = "cancelled"
RETURN_REQUESTED = "return requested"
EXCHANGE_REQUESTED = "exchange requested"

CANCEL_REASONS = frozenset({"no longer needed", "ordered by mistake"})
GIFT_CARD = "gift_card"


def to_cents(amount: float) -> float:
    """Money is kept as float dollars (τ² shape); every computed amount is rounded to cents."""
    return round(amount, 2)


# --- single rules -------------------------------------------------------------------------------


def require_status(order: Order, required: str, refused_message: str) -> None:
    """The action is allowed only when the order's status is exactly `required`."""
    if order.status != required:
        raise PolicyViolation(f"{refused_message} (order {order.order_id} is '{order.status}')")


def require_cancel_reason(reason: str) -> None:
    if reason not in CANCEL_REASONS:
        allowed = " or ".join(f"'{r}'" for r in sorted(CANCEL_REASONS))
        raise PolicyViolation(f"Invalid reason: the cancellation reason must be {allowed}")


def require_items_in_order(order: Order, item_ids: Sequence[str]) -> None:
    """Every listed item is in the order, counting duplicates (two identical items may both be listed)."""
    if not item_ids:
        raise PolicyViolation("No item ids given: list the items to change")
    in_order = Counter(item.item_id for item in order.items)
    for item_id, wanted in Counter(item_ids).items():
        if wanted > in_order[item_id]:
            if in_order[item_id] == 0:
                raise PolicyViolation(f"Item {item_id} not found in order {order.order_id}")
            raise PolicyViolation(
                f"Item {item_id} appears {in_order[item_id]} time(s) in order {order.order_id}, not {wanted}"
            )


def claim_order_items(order: Order, item_ids: Sequence[str]) -> list[int]:
    """Positions in order.items of the listed items; a duplicated id claims a further copy each time."""
    require_items_in_order(order, item_ids)
    claimed: list[int] = []
    for item_id in item_ids:
        position = next(
            i for i, item in enumerate(order.items) if item.item_id == item_id and i not in claimed
        )
        claimed.append(position)
    return claimed


def user_payment_method(user: User, payment_method_id: str) -> PaymentMethod:
    """The payment method must be one of the customer's own."""
    method = user.payment_methods.get(payment_method_id)
    if method is None:
        raise PolicyViolation(f"Payment method {payment_method_id} not found for this customer")
    return method


def is_gift_card(method: PaymentMethod) -> bool:
    return method.source == GIFT_CARD


def require_gift_card_covers(method: PaymentMethod, amount: float, what: str) -> None:
    """A gift card pays only what its balance covers (other methods are not limited)."""
    if is_gift_card(method) and (method.balance or 0.0) < amount:
        raise PolicyViolation(
            f"Insufficient gift card balance to pay for {what}: "
            f"balance {method.balance or 0.0:.2f}, needed {amount:.2f}"
        )


def replacement_variant(
    item: OrderItem, new_item_id: str, products: Mapping[str, Product], *, must_differ: bool
) -> Variant:
    """The new item must be an available variant of the *same* product (no shirt-to-shoe swaps)."""
    if must_differ and new_item_id == item.item_id:
        raise PolicyViolation(f"The new item {new_item_id} should be different from the old item")
    product = products.get(item.product_id)
    variant = product.variants.get(new_item_id) if product is not None else None
    if variant is None:
        raise PolicyViolation(
            f"New item {new_item_id} is not a variant of the same product as item {item.item_id} "
            f"({item.name}, product {item.product_id})"
        )
    if not variant.available:
        raise PolicyViolation(f"New item {new_item_id} is not available")
    return variant


@dataclass(frozen=True)
class ItemSwap:
    position: int  # index in order.items
    old: OrderItem
    new: Variant


def plan_item_swaps(
    order: Order,
    item_ids: Sequence[str],
    new_item_ids: Sequence[str],
    products: Mapping[str, Product],
) -> tuple[list[ItemSwap], float]:
    """Pair old and new items (same position), check each pair, and return the total price difference."""
    positions = claim_order_items(order, item_ids)
    if len(item_ids) != len(new_item_ids):
        raise PolicyViolation("The number of new items should match the number of items to change")
    swaps = [
        ItemSwap(
            pos, order.items[pos], replacement_variant(order.items[pos], new_id, products, must_differ=True)
        )
        for pos, new_id in zip(positions, new_item_ids, strict=True)
    ]
    difference = to_cents(sum(swap.new.price - swap.old.price for swap in swaps))
    return swaps, difference


@dataclass(frozen=True)
class ItemChange:
    """What modifying and exchanging items both ask for: which items of the order become which variants
    (same positions), and the customer's payment method that settles the price difference."""

    item_ids: Sequence[str]
    new_item_ids: Sequence[str]
    payment_method_id: str


def plan_paid_swaps(
    order: Order, user: User, products: Mapping[str, Product], change: ItemChange, what: str
) -> tuple[list[ItemSwap], float]:
    """`plan_item_swaps`, then the difference must be payable by one of the customer's own methods
    (a gift card only up to its balance): the checks shared by modifying and exchanging items."""
    swaps, difference = plan_item_swaps(order, change.item_ids, change.new_item_ids, products)
    require_gift_card_covers(user_payment_method(user, change.payment_method_id), difference, what)
    return swaps, difference


def original_payment_method_id(order: Order) -> str | None:
    """The method of the order's first payment: where a refund goes unless it goes to a gift card."""
    for transaction in order.payment_history:
        if transaction.transaction_type == "payment":
            return transaction.payment_method_id
    return None


def require_refund_destination(order: Order, user: User, payment_method_id: str) -> PaymentMethod:
    """A refund goes to the original payment method or to one of the customer's gift cards."""
    method = user_payment_method(user, payment_method_id)
    if not is_gift_card(method) and payment_method_id != original_payment_method_id(order):
        raise PolicyViolation("The refund must go to the original payment method or to an existing gift card")
    return method


def net_paid_by_method(order: Order) -> dict[str, float]:
    """What each payment method has paid for this order, net of refunds (in history order)."""
    net: dict[str, float] = {}
    for transaction in order.payment_history:
        sign = 1.0 if transaction.transaction_type == "payment" else -1.0
        net[transaction.payment_method_id] = net.get(transaction.payment_method_id, 0.0) + sign * (
            transaction.amount
        )
    return {method_id: to_cents(amount) for method_id, amount in net.items()}


def _credit_gift_card(user: User, payment_method_id: str, amount: float) -> None:
    """Add `amount` (negative: charge) to a gift card's balance; other methods have no balance here.

    A method the customer has since removed is skipped: the refund is still recorded on the order."""
    method = user.payment_methods.get(payment_method_id)
    if method is not None and is_gift_card(method):
        method.balance = to_cents((method.balance or 0.0) + amount)


# --- whole actions ------------------------------------------------------------------------------


def plan_cancel(order: Order, user: User, reason: str) -> tuple[Order, User]:
    """Cancel a pending order: status 'cancelled', reason kept, every payment refunded to its method
    (a gift card gets its money back on its balance at once)."""
    require_status(order, PENDING, "Non-pending order cannot be cancelled")
    require_cancel_reason(reason)
    order, user = order.model_copy(deep=True), user.model_copy(deep=True)
    refunds = []
    for method_id, amount in net_paid_by_method(order).items():
        if amount <= 0:
            continue
        _credit_gift_card(user, method_id, amount)
        refunds.append(
            PaymentTransaction(transaction_type="refund", amount=amount, payment_method_id=method_id)
        )
    order.status = CANCELLED
    order.cancel_reason = reason
    order.payment_history = [*order.payment_history, *refunds]
    return order, user


def plan_modify_address(order: Order, address: Address) -> Order:
    """Change the shipping address of a pending order."""
    require_status(order, PENDING, "Non-pending order cannot be modified")
    order = order.model_copy(deep=True)
    order.address = address.model_copy()
    return order


def plan_modify_user_address(user: User, address: Address) -> User:
    """Change the customer's default address (no other rule)."""
    user = user.model_copy(deep=True)
    user.address = address.model_copy()
    return user


def plan_modify_items(
    order: Order, user: User, products: Mapping[str, Product], change: ItemChange
) -> tuple[Order, User]:
    """Swap items of a pending order for other available variants of the same products, once.

    The price difference is charged (or refunded) to the given method; status becomes
    'pending (item modified)', after which the order can no longer be modified or cancelled.
    """
    require_status(order, PENDING, "Non-pending order cannot be modified")
    swaps, difference = plan_paid_swaps(order, user, products, change, "the new items")
    order, user = order.model_copy(deep=True), user.model_copy(deep=True)
    order.payment_history = [
        *order.payment_history,
        PaymentTransaction(
            transaction_type="payment" if difference > 0 else "refund",
            amount=abs(difference),
            payment_method_id=change.payment_method_id,
        ),
    ]
    _credit_gift_card(user, change.payment_method_id, -difference)
    items = list(order.items)
    for swap in swaps:
        item = items[swap.position].model_copy(deep=True)
        item.item_id = swap.new.item_id
        item.price = swap.new.price
        item.options = dict(swap.new.options)
        items[swap.position] = item
    order.items = items
    order.status = PENDING_ITEMS_MODIFIED
    return order, user


def plan_modify_payment(order: Order, user: User, payment_method_id: str) -> tuple[Order, User]:
    """Pay a pending order with another of the customer's methods: charge the new one, refund the old."""
    require_status(order, PENDING, "Non-pending order cannot be modified")
    method = user_payment_method(user, payment_method_id)
    history = order.payment_history
    if len(history) != 1 or history[0].transaction_type != "payment":
        raise PolicyViolation("There should be exactly one payment for a pending order")
    old_method_id = history[0].payment_method_id
    if old_method_id == payment_method_id:
        raise PolicyViolation("The new payment method should be different from the current one")
    amount = history[0].amount
    require_gift_card_covers(method, amount, "the order")
    order, user = order.model_copy(deep=True), user.model_copy(deep=True)
    order.payment_history = [
        *order.payment_history,
        PaymentTransaction(transaction_type="payment", amount=amount, payment_method_id=payment_method_id),
        PaymentTransaction(transaction_type="refund", amount=amount, payment_method_id=old_method_id),
    ]
    _credit_gift_card(user, payment_method_id, -amount)
    if old_method_id in user.payment_methods:
        _credit_gift_card(user, old_method_id, amount)
    return order, user


def plan_return(order: Order, user: User, item_ids: Sequence[str], payment_method_id: str) -> Order:
    """Request the return of delivered items, refunded to the original method or a gift card."""
    require_status(order, DELIVERED, "Non-delivered order cannot be returned")
    require_refund_destination(order, user, payment_method_id)
    require_items_in_order(order, item_ids)
    order = order.model_copy(deep=True)
    order.status = RETURN_REQUESTED
    order.return_items = sorted(item_ids)
    order.return_payment_method_id = payment_method_id
    return order


def plan_exchange(order: Order, user: User, products: Mapping[str, Product], change: ItemChange) -> Order:
    """Request the exchange of delivered items for other available variants of the same products.

    Nothing is charged yet (the difference is settled when the items come back), but a gift card
    must already cover a positive difference.
    """
    require_status(order, DELIVERED, "Non-delivered order cannot be exchanged")
    _, difference = plan_paid_swaps(order, user, products, change, "the price difference")
    order = order.model_copy(deep=True)
    order.status = EXCHANGE_REQUESTED
    order.exchange_items = sorted(change.item_ids)
    order.exchange_new_items = sorted(change.new_item_ids)
    order.exchange_payment_method_id = change.payment_method_id
    order.exchange_price_difference = difference
    return order
