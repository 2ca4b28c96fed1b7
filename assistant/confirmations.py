"""What a WRITE tool call would change, written for the customer who must confirm it with a yes."""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage


def _known_orders(messages: list[BaseMessage]) -> dict[str, dict[str, Any]]:
    orders: dict[str, dict[str, Any]] = {}
    for message in messages:
        if isinstance(message, ToolMessage):
            try:
                data = json.loads(str(message.content))
            except ValueError:
                continue
            if isinstance(data, dict) and "order_id" in data and "items" in data:
                orders[data["order_id"]] = data
    return orders


def _known_variants(messages: list[BaseMessage]) -> dict[str, dict[str, Any]]:
    variants: dict[str, dict[str, Any]] = {}
    for message in messages:
        if isinstance(message, ToolMessage):
            try:
                data = json.loads(str(message.content))
            except ValueError:
                continue
            if isinstance(data, dict) and "variants" in data:
                for item_id, variant in data["variants"].items():
                    variants[item_id] = {"name": data.get("name", ""), **variant}
    return variants


def _item_label(order: dict[str, Any] | None, item_id: str) -> str:
    for item in (order or {}).get("items", []):
        if item.get("item_id") == item_id:
            options = ", ".join(str(v) for v in item.get("options", {}).values())
            return f"{item['name']} ({options})" if options else str(item["name"])
    return f"item {item_id}"


def _variant_label(variants: dict[str, dict[str, Any]], item_id: str) -> str:
    variant = variants.get(item_id)
    if variant is None:
        return f"item {item_id}"
    options = ", ".join(str(v) for v in variant.get("options", {}).values())
    price = variant.get("price")
    return f"{variant['name']} ({options})" + (f" at ${price:.2f}" if isinstance(price, int | float) else "")


def _method(method_id: str) -> str:
    if method_id.startswith("gift_card"):
        return f"gift card {method_id}"
    if method_id.startswith("credit_card"):
        return f"credit card {method_id}"
    if method_id.startswith("paypal"):
        return f"PayPal {method_id}"
    return method_id


def _address(args: dict[str, Any]) -> str:
    parts = [
        args.get("address1"),
        args.get("address2"),
        args.get("city"),
        args.get("state"),
        args.get("zip"),
        args.get("country"),
    ]
    return ", ".join(str(p) for p in parts if p)


def describe_tool_call(name: str, args: dict[str, Any], messages: list[BaseMessage]) -> str:
    orders = _known_orders(messages)
    order_id = str(args.get("order_id", ""))
    order = orders.get(order_id)
    if name == "cancel_pending_order":
        reason = args.get("reason")
        return f"cancel order {order_id} (reason: {reason}); the payment is refunded to the original method"
    if name == "return_delivered_order_items":
        items = ", ".join(_item_label(order, i) for i in args.get("item_ids", []))
        refund_to = _method(str(args.get("payment_method_id", "")))
        return f"return {items} from order {order_id}, refund to {refund_to}"
    if name in {"exchange_delivered_order_items", "modify_pending_order_items"}:
        variants = _known_variants(messages)
        swaps = "; ".join(
            f"{_item_label(order, old)} -> {_variant_label(variants, new)}"
            for old, new in zip(args.get("item_ids", []), args.get("new_item_ids", []), strict=False)
        )
        verb = "exchange" if name.startswith("exchange") else "change"
        once = " (items can be changed only once per order, so please check this is everything)"
        return (
            f"{verb} on order {order_id}: {swaps}; any price difference is settled with "
            f"{_method(str(args.get('payment_method_id', '')))}{once}"
        )
    if name == "modify_pending_order_address":
        return f"ship order {order_id} to {_address(args)}"
    if name == "modify_pending_order_payment":
        return f"pay order {order_id} with {_method(str(args.get('payment_method_id', '')))} instead"
    if name == "modify_user_address":
        return f"change your default address to {_address(args)}"
    return f"{name} with {json.dumps(args)}"


_YES = {
    "yes",
    "y",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "confirm",
    "confirmed",
    "correct",
    "proceed",
    "oui",
    "ja",
    "graag",
    "akkoord",
    "prima",
    "absolutely",
    "definitely",
}
_YES_PHRASES = (
    "go ahead",
    "please do",
    "do it",
    "that's right",
    "yes please",
    "d'accord",
    "allez-y",
    "vas-y",
    "c'est bon",
    "ga je gang",
    "doe maar",
    "is goed",
    "klopt",
)
_NO = {"no", "n", "nope", "nah", "non", "nee", "don't", "dont", "stop", "wait", "cancel"}
_HEDGES = ("but", "wait", "not", "mais", "pas", "maar", "niet", "actually", "instead", "?")


def classify_confirmation(text: str) -> str:
    """'yes' only for an explicit yes without a hedge; 'no' for a refusal; 'other' for anything else."""
    lowered = text.lower().strip()
    tokens = [t.strip(".,!;:") for t in lowered.split()]
    if not tokens:
        return "other"
    hedged = any(h in lowered for h in _HEDGES)
    if tokens[0] in _NO or lowered in {
        "no thanks",
        "no thank you",
        "non merci",
        "nee dank je",
        "nee bedankt",
    }:
        return "no"
    if (
        not hedged
        and len(tokens) <= 8
        and (tokens[0] in _YES or any(lowered.startswith(p) for p in _YES_PHRASES))
    ):
        return "yes"
    return "other"
