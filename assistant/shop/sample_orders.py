"""How the sample shop writes an order: items copied from the catalogue, the payment, and what its status
implies (a refund for a cancelled order, a fulfilment with a tracking id once it has shipped)."""

from __future__ import annotations

from assistant.shop.schema import (
    Address,
    Fulfillment,
    Order,
    OrderItem,
    PaymentTransaction,
    Product,
    Variant,
)

SHIPPED_STATUSES = ("processed", "delivered")


def order_item(product: Product, variant: Variant) -> OrderItem:
    """The order line for one catalogue variant (name, ids, price and options as sold)."""
    return OrderItem(
        name=product.name,
        product_id=product.product_id,
        item_id=variant.item_id,
        price=variant.price,
        options=dict(variant.options),
    )


def sample_order(
    order_id: str,
    user_id: str,
    address: Address,
    items: list[OrderItem],
    status: str,
    payment_method_id: str,
    tracking_id: str | None,
    cancel_reason: str | None = None,
) -> Order:
    """An order paid in full by one method, with what its status implies."""
    total = round(sum(item.price for item in items), 2)
    payments = [
        PaymentTransaction(transaction_type="payment", amount=total, payment_method_id=payment_method_id)
    ]
    if status == "cancelled":
        # A cancelled order was refunded in full to the method that paid for it.
        payments.append(
            PaymentTransaction(transaction_type="refund", amount=total, payment_method_id=payment_method_id)
        )
    fulfillments = []
    if status in SHIPPED_STATUSES and tracking_id is not None:
        fulfillments.append(Fulfillment(tracking_id=[tracking_id], item_ids=[item.item_id for item in items]))
    order = Order(
        order_id=order_id,
        user_id=user_id,
        address=address,
        items=items,
        status=status,
        fulfillments=fulfillments,
        payment_history=payments,
    )
    if cancel_reason is not None:
        order.cancel_reason = cancel_reason  # assignment marks it set, so to_tau2() writes it
    return order
