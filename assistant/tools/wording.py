"""How the order tools' changes are put to the customer: the description they say yes to, and the report of
what was done. Templates are in assistant/prompts/replies.yaml (en/fr/nl); `say` fills one in the
conversation's language, so a French customer never reads an English fragment.

Each WRITE tool's spec (orders.py) names its `describe_*` and `report_*` function from here.
"""

from __future__ import annotations

import json
from typing import Any

from assistant.tools.base import Say
from assistant.tools.outcomes import Facts, ToolOutcome

# --- shared formatters (the planner uses them too) ------------------------------------------------


def describe_item(item: dict[str, Any]) -> str:
    options = ", ".join(str(v) for v in item.get("options", {}).values())
    return f"{item['name']} ({options})" if options else str(item["name"])


def describe_address(address: dict[str, Any]) -> str:
    parts = [address.get("address1"), address.get("address2"), address.get("city")]
    line = ", ".join(str(p) for p in parts if p)
    return f"{line}, {address.get('state', '')} {address.get('zip', '')}, {address.get('country', '')}".strip(
        ", "
    )


def address_line(args: dict[str, Any]) -> str:
    """An address given as tool arguments, every part in order."""
    keys = ("address1", "address2", "city", "state", "zip", "country")
    return ", ".join(str(args[k]) for k in keys if args.get(k))


def order_summary(order: dict[str, Any], status: str | None = None) -> str:
    """ "#W1 (Tent, Lamp; pending)"; `status`: the status as the customer reads it (their language)."""
    items = ", ".join(item["name"] for item in order.get("items", []))
    return f"{order['order_id']} ({items}; {status or order['status']})"


def describe_payment_method(user: dict[str, Any] | None, method_id: str, say: Say) -> str:
    """A payment method as the customer knows it ("credit card ending 4242"), from the user's details."""
    method = (user or {}).get("payment_methods", {}).get(method_id, {})
    source = method.get("source") or method_id.rsplit("_", 1)[0]
    if source == "credit_card":
        last_four = method.get("last_four")
        return say("method_card_ending", last_four=last_four) if last_four else say("method_card")
    if source == "gift_card":
        return say("method_gift_card")
    if source == "paypal":
        return say("method_paypal")
    return method_id


def payment_method_id_label(method_id: str, say: Say) -> str:
    """A payment method named by its id, when the user's details are not at hand."""
    for prefix, key in (("gift_card", "method_gift_card_id"), ("credit_card", "method_card_id")):
        if method_id.startswith(prefix):
            return say(key, id=method_id)
    if method_id.startswith("paypal"):
        return say("method_paypal_id", id=method_id)
    return method_id


def _item_label(order: dict[str, Any] | None, item_id: str, say: Say) -> str:
    for item in (order or {}).get("items", []):
        if item.get("item_id") == item_id:
            return describe_item(item)
    return say("item_unknown", item_id=item_id)


def _variant_label(facts: Facts, item_id: str, say: Say) -> str:
    variant = facts.variant(item_id)
    if variant is None:
        return say("item_unknown", item_id=item_id)
    options = ", ".join(str(v) for v in variant.get("options", {}).values())
    price = variant.get("price")
    label = f"{variant['name']} ({options})"
    return (
        say("variant_with_price", label=label, price=f"{price:.2f}")
        if isinstance(price, int | float)
        else label
    )


# --- confirmations (what the customer says yes to) --------------------------------------------------


def describe_generic(name: str, args: dict[str, Any], say: Say) -> str:
    return say("confirm_generic", name=name, arguments=json.dumps(args))


def describe_cancel(args: dict[str, Any], facts: Facts, say: Say) -> str:
    reason = str(args.get("reason"))
    key = "reason_" + reason.replace(" ", "_")
    label = say(key) if reason in {"ordered by mistake", "no longer needed"} else reason
    return say("confirm_cancel", order_id=args.get("order_id", ""), reason=label)


def describe_return(args: dict[str, Any], facts: Facts, say: Say) -> str:
    order_id = str(args.get("order_id", ""))
    items = ", ".join(_item_label(facts.orders.get(order_id), i, say) for i in args.get("item_ids", []))
    method = payment_method_id_label(str(args.get("payment_method_id", "")), say)
    return say("confirm_return", items=items, order_id=order_id, method=method)


def _describe_swaps(args: dict[str, Any], facts: Facts, say: Say, key: str) -> str:
    order_id = str(args.get("order_id", ""))
    order = facts.orders.get(order_id)
    swaps = "; ".join(
        f"{_item_label(order, old, say)} -> {_variant_label(facts, new, say)}"
        for old, new in zip(args.get("item_ids", []), args.get("new_item_ids", []), strict=False)
    )
    method = payment_method_id_label(str(args.get("payment_method_id", "")), say)
    return say(key, order_id=order_id, swaps=swaps, method=method)


def describe_exchange(args: dict[str, Any], facts: Facts, say: Say) -> str:
    return _describe_swaps(args, facts, say, "confirm_exchange")


def describe_item_change(args: dict[str, Any], facts: Facts, say: Say) -> str:
    return _describe_swaps(args, facts, say, "confirm_item_change")


def describe_order_address(args: dict[str, Any], facts: Facts, say: Say) -> str:
    return say("confirm_order_address", order_id=args.get("order_id", ""), address=address_line(args))


def describe_order_payment(args: dict[str, Any], facts: Facts, say: Say) -> str:
    method = payment_method_id_label(str(args.get("payment_method_id", "")), say)
    return say("confirm_order_payment", order_id=args.get("order_id", ""), method=method)


def describe_user_address(args: dict[str, Any], facts: Facts, say: Say) -> str:
    return say("confirm_user_address", address=address_line(args))


# --- reports (what was done) ------------------------------------------------------------------------


def _result(outcome: ToolOutcome) -> dict[str, Any]:
    return outcome.result if isinstance(outcome.result, dict) else {}


def _method_of(outcome: ToolOutcome, facts: Facts, say: Say) -> str:
    return describe_payment_method(facts.user, str(outcome.args.get("payment_method_id", "")), say)


def report_cancel(outcome: ToolOutcome, facts: Facts, say: Say) -> str:
    result = _result(outcome)
    parts = []
    for refund in (p for p in result.get("payment_history", []) if p.get("transaction_type") == "refund"):
        method_id = refund["payment_method_id"]
        key = "refund_gift_card" if method_id.startswith("gift_card") else "refund_other"
        method = describe_payment_method(facts.user, method_id, say)
        parts.append(say(key, amount=f"{refund['amount']:.2f}", method=method))
    return say("cancelled", order_id=result.get("order_id"), refund=" ".join(parts))


def report_return(outcome: ToolOutcome, facts: Facts, say: Say) -> str:
    result = _result(outcome)
    wanted = outcome.args.get("item_ids", [])
    returned = [describe_item(i) for i in result.get("items", []) if i["item_id"] in wanted]
    return say(
        "return_requested",
        items=", ".join(returned),
        order_id=result.get("order_id"),
        method=_method_of(outcome, facts, say),
    )


def report_item_change(outcome: ToolOutcome, facts: Facts, say: Say) -> str:
    """An exchange (delivered order) or an item change (pending order), with the price difference."""
    result = _result(outcome)
    method = _method_of(outcome, facts, say)
    changes = []
    pairs = zip(outcome.args.get("item_ids", []), outcome.args.get("new_item_ids", []), strict=False)
    for _old_id, new_id in pairs:
        product = facts.product_of_variant(new_id)
        new_options = ", ".join(product["variants"][new_id]["options"].values()) if product else new_id
        changes.append(f"{product['name'] if product else new_id} -> {new_options}")
    if outcome.name == "exchange_delivered_order_items":
        difference = float(result.get("exchange_price_difference") or 0.0)
    else:
        old = facts.orders.get(str(outcome.args.get("order_id")), {})
        old_total = sum(i["price"] for i in old.get("items", []))
        difference = round(sum(i["price"] for i in result.get("items", [])) - old_total, 2)
    diff_text = ""
    if difference > 0:
        diff_text = say("price_difference_pay", amount=f"{difference:.2f}", method=method)
    elif difference < 0:
        diff_text = say("price_difference_refund", amount=f"{-difference:.2f}", method=method)
    key = "exchange_requested" if outcome.name == "exchange_delivered_order_items" else "items_modified"
    return say(key, order_id=result.get("order_id"), changes="; ".join(changes), difference=diff_text)


def report_order_address(outcome: ToolOutcome, facts: Facts, say: Say) -> str:
    result = _result(outcome)
    address = describe_address(result.get("address", {}))
    return say("address_changed", order_id=result.get("order_id"), address=address)


def report_user_address(outcome: ToolOutcome, facts: Facts, say: Say) -> str:
    return say("user_address_changed", address=describe_address(_result(outcome).get("address", {})))


def report_order_payment(outcome: ToolOutcome, facts: Facts, say: Say) -> str:
    order_id = _result(outcome).get("order_id")
    return say("payment_changed", order_id=order_id, method=_method_of(outcome, facts, say))


def report_generic(outcome: ToolOutcome) -> str:
    return json.dumps(_result(outcome))[:500]
