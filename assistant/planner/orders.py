"""The order flows: who the customer is, which order they mean, and the change they want.

authenticate -> find the order (by id, by the words describing it, or by asking with a list) -> check
its status against the tools' own status rules -> collect what the change needs -> emit the WRITE call
(the agent's confirmation step then asks for an explicit yes). Facts come only from tool results.
"""

from __future__ import annotations

from typing import Any

from assistant.planner.kit import PlannerKit
from assistant.planner.slots import match_items, mentions_all_items, requested_options
from assistant.planner.state import DialogueState, Step
from assistant.tools.wording import describe_item, describe_payment_method

# Orders we look up one by one when the customer did not say which order they mean.
MAX_ORDERS_TO_SCAN = 6
# Which tools carry out each action intent; their specs say under which order statuses they can.
INTENT_TOOLS: dict[str, tuple[str, ...]] = {
    "cancel_order": ("cancel_pending_order",),
    # Customers say "exchange" or "change" for both: a pending order's items are modified, a delivered
    # order's items exchanged. The order's status decides, not the word.
    "modify_order_items": ("modify_pending_order_items", "exchange_delivered_order_items"),
    "exchange_items": ("exchange_delivered_order_items", "modify_pending_order_items"),
    "modify_order_address": ("modify_pending_order_address",),
    "modify_order_payment": ("modify_pending_order_payment",),
    "return_items": ("return_delivered_order_items",),
}
_DONE_WORD = {
    "cancel_order": "done_cancelled",
    "modify_order_items": "done_changed",
    "modify_order_address": "done_changed",
    "modify_order_payment": "done_changed",
    "return_items": "done_returned",
    "exchange_items": "done_exchanged",
}


def payment_label(kit: PlannerKit, state: DialogueState, method_id: str) -> str:
    return describe_payment_method(state.user, method_id, kit.tools.say(state.language))


# --- who the customer is ------------------------------------------------------------------------
def authenticate(kit: PlannerKit, state: DialogueState) -> Step:
    if not kit.lookup_signs_in:
        # Verified identity: what the customer types proves nothing. The service sends a one-time code to
        # the email they give (assistant/identity/signin.py); the code typed back signs them in.
        return kit.say(state, "ask_signin_email")
    slots = state.slots
    if slots.email and not state.failed_before("find_user_id_by_email", email=slots.email):
        return Step(tool="find_user_id_by_email", args={"email": slots.email})
    if slots.first_name and slots.last_name and slots.zip_code:
        args = {"first_name": slots.first_name, "last_name": slots.last_name, "zip": slots.zip_code}
        if not state.failed_before("find_user_id_by_name_zip", **args):
            return Step(tool="find_user_id_by_name_zip", args=args)
    last_failed = next(
        (o for o in reversed(state.turn) if o.name.startswith("find_user_id") and not o.ok), None
    )
    if last_failed is not None and last_failed.name == "find_user_id_by_email":
        return kit.say(state, "auth_failed_email", failed=True, email=last_failed.args.get("email", ""))
    if last_failed is not None:
        return kit.say(
            state,
            "auth_failed_name",
            failed=True,
            first_name=last_failed.args.get("first_name", ""),
            last_name=last_failed.args.get("last_name", ""),
            zip_code=last_failed.args.get("zip", ""),
        )
    # Ask only for what is missing: never make the customer repeat themselves.
    if slots.first_name and slots.last_name and not slots.zip_code:
        return kit.say(state, "ask_zip", first_name=slots.first_name)
    if slots.zip_code and not slots.first_name:
        return kit.say(state, "ask_name")
    return kit.say(state, "ask_auth")


# --- which order ----------------------------------------------------------------------------------
def orders_listing(kit: PlannerKit, state: DialogueState) -> str:
    order_ids = (state.user or {}).get("orders", [])
    known = [kit.summary(state, state.orders[o]) for o in order_ids if o in state.orders]
    unknown = [o for o in order_ids if o not in state.orders]
    listing = "; ".join(known + unknown)
    return kit.text(state, "your_orders", orders=listing) if listing else ""


def _not_found(kit: PlannerKit, state: DialogueState, order_id: str) -> Step:
    # Another customer's order looks exactly like one that does not exist.
    return kit.say(
        state, "order_not_found", failed=True, order_id=order_id, orders=orders_listing(kit, state)
    )


def select_order(
    kit: PlannerKit, state: DialogueState, eligible: frozenset[str] | None
) -> tuple[Step | None, dict[str, Any] | None]:
    """(a step to take first, or None) and the order the task is about once known."""
    if state.user is None:
        assert state.user_id is not None
        return Step(tool="get_user_details", args={"user_id": state.user_id}), None
    own_orders: list[str] = list(state.user.get("orders", []))
    order_id = state.slots.latest_order_id
    if order_id is not None:
        if order_id not in own_orders:
            return _not_found(kit, state, order_id), None
        if order_id not in state.orders:
            if state.called_this_turn("get_order_details", order_id=order_id) is not None:
                return _not_found(kit, state, order_id), None
            return Step(tool="get_order_details", args={"order_id": order_id}), None
        return None, state.orders[order_id]
    # No order id given: look at the customer's orders and pick the one the words point at.
    for candidate in own_orders[:MAX_ORDERS_TO_SCAN]:
        if candidate not in state.orders and not state.failed_before("get_order_details", order_id=candidate):
            return Step(tool="get_order_details", args={"order_id": candidate}), None
    known = [state.orders[o] for o in own_orders if o in state.orders]
    if eligible is not None:
        known = [o for o in known if o["status"] in eligible] or known
    if len(known) == 1:
        return None, known[0]
    matching = [o for o in known if match_items(state.task_text, o.get("items", []))]
    if len(matching) == 1:
        return None, matching[0]
    options = "; ".join(kit.summary(state, o) for o in (matching or known))
    return kit.say(state, "ask_order", orders=options), None


# --- the action ---------------------------------------------------------------------------------
def action_flow(kit: PlannerKit, state: DialogueState) -> Step:
    """The signed-in customer's request on their account or one of their orders."""
    assert state.user_id is not None
    intent = state.intent
    if intent == "modify_user_address":
        if state.slots.address is None:
            return kit.say(state, "ask_new_address")
        return Step(tool="modify_user_address", args={"user_id": state.user_id, **state.slots.address})
    if intent == "account_info":
        if state.user is None:
            return Step(tool="get_user_details", args={"user_id": state.user_id})
        return account_summary(kit, state)
    eligible = kit.tools.statuses(INTENT_TOOLS[intent]) if intent in INTENT_TOOLS else None
    if intent == "order_status" and state.slots.latest_order_id is None and state.user is not None:
        pending_lookup, _ = select_order(kit, state, None)
        if pending_lookup is not None and pending_lookup.tool:
            return pending_lookup
        known = [state.orders[o] for o in state.user.get("orders", []) if o in state.orders]
        if len(known) != 1:
            matching = [o for o in known if match_items(state.task_text, o.get("items", []))]
            if len(matching) != 1:
                return Step(text=orders_listing(kit, state))
            return order_status(kit, state, matching[0])
    step, order = select_order(kit, state, eligible)
    if step is not None:
        return step
    assert order is not None
    if intent in {"exchange_items", "modify_order_items"} and order["status"] in {"pending", "delivered"}:
        intent = state.intent = "modify_order_items" if order["status"] == "pending" else "exchange_items"
        eligible = frozenset({order["status"]})
    if intent == "order_status":
        return order_status(kit, state, order)
    if eligible is not None and order["status"] not in eligible:
        return _wrong_status(kit, state, order, eligible)
    if intent == "cancel_order":
        return cancel(kit, state, order)
    if intent == "return_items":
        return return_items(kit, state, order)
    if intent in {"exchange_items", "modify_order_items"}:
        return change_items(kit, state, order)
    if intent == "modify_order_address":
        if state.slots.address is None:
            return kit.say(state, "ask_new_address")
        return Step(
            tool="modify_pending_order_address", args={"order_id": order["order_id"], **state.slots.address}
        )
    return change_payment(kit, state, order)


def _wrong_status(
    kit: PlannerKit, state: DialogueState, order: dict[str, Any], eligible: frozenset[str]
) -> Step:
    status = kit.status(state, order["status"])
    action = kit.text(state, _DONE_WORD[state.intent])
    if "pending" in eligible:
        text = kit.text(state, "not_pending", order_id=order["order_id"], status=status, action=action)
        if order["status"] == "delivered":
            text += " " + kit.text(state, "delivered_hint")
    else:
        text = kit.text(state, "not_delivered", order_id=order["order_id"], status=status, action=action)
    return Step(text=text, failed=False)


def order_status(kit: PlannerKit, state: DialogueState, order: dict[str, Any]) -> Step:
    items = ", ".join(describe_item(i) for i in order.get("items", []))
    text = kit.text(
        state,
        "order_status",
        order_id=order["order_id"],
        items=items,
        status=kit.status(state, order["status"]),
    )
    tracking = [t for f in order.get("fulfillments", []) for t in f.get("tracking_id", [])]
    if tracking:
        text += " " + kit.text(state, "tracking", tracking=", ".join(tracking))
    return Step(text=text)


def account_summary(kit: PlannerKit, state: DialogueState) -> Step:
    user = state.user or {}
    methods = []
    for method_id, method in user.get("payment_methods", {}).items():
        label = payment_label(kit, state, method_id)
        if method.get("balance") is not None:
            label = kit.text(state, "with_balance", method=label, amount=f"{method['balance']:.2f}")
        methods.append(label)
    name = user.get("name", {})
    return kit.say(
        state,
        "account_summary",
        name=f"{name.get('first_name', '')} {name.get('last_name', '')}".strip(),
        email=user.get("email", ""),
        methods=", ".join(methods),
        orders=", ".join(user.get("orders", [])),
    )


def cancel(kit: PlannerKit, state: DialogueState, order: dict[str, Any]) -> Step:
    reason = state.slots.cancel_reason
    if reason is None:
        return kit.say(state, "ask_cancel_reason", order_id=order["order_id"])
    return Step(tool="cancel_pending_order", args={"order_id": order["order_id"], "reason": reason})


def refund_method(state: DialogueState, order: dict[str, Any]) -> str:
    """Original payment method, unless the customer asked for a gift card they own."""
    original = order["payment_history"][0]["payment_method_id"] if order.get("payment_history") else ""
    methods = (state.user or {}).get("payment_methods", {})
    if state.slots.payment_kind == "gift_card":
        gift_cards = [m for m in methods if methods[m].get("source") == "gift_card"]
        if gift_cards:
            return original if original in gift_cards else gift_cards[0]
    return original


def chosen_items(state: DialogueState, order: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = order.get("items", [])
    if mentions_all_items(state.task_text):
        return items
    return match_items(state.task_text, items)


def _ask_items(kit: PlannerKit, state: DialogueState, order: dict[str, Any], verb: str) -> Step:
    listing = "; ".join(describe_item(i) for i in order.get("items", []))
    action = kit.text(state, f"verb_{verb}")
    return kit.say(state, "ask_items", order_id=order["order_id"], action=action, items=listing)


def refund_refused(kit: PlannerKit, state: DialogueState, order: dict[str, Any]) -> Step | None:
    """The customer asked for the refund on a method the policy does not allow: say why, and the options."""
    kind = state.slots.payment_kind
    if kind in (None, "gift_card", "original"):
        return None
    original = order["payment_history"][0]["payment_method_id"] if order.get("payment_history") else ""
    methods = (state.user or {}).get("payment_methods", {})
    if not original or methods.get(original, {}).get("source") == kind:
        return None
    return kit.say(state, "refund_original_only", method=payment_label(kit, state, original))


def return_items(kit: PlannerKit, state: DialogueState, order: dict[str, Any]) -> Step:
    chosen = chosen_items(state, order)
    if not chosen:
        return _ask_items(kit, state, order, "return")
    refused = refund_refused(kit, state, order)
    if refused is not None:
        return refused
    return Step(
        tool="return_delivered_order_items",
        args={
            "order_id": order["order_id"],
            "item_ids": [i["item_id"] for i in chosen],
            "payment_method_id": refund_method(state, order),
        },
    )


def change_items(kit: PlannerKit, state: DialogueState, order: dict[str, Any]) -> Step:
    exchange = state.intent == "exchange_items"
    chosen = chosen_items(state, order)
    if not chosen:
        return _ask_items(kit, state, order, "exchange" if exchange else "change")
    for item in chosen:
        if item["product_id"] not in state.products:
            return Step(tool="get_product_details", args={"product_id": item["product_id"]})
    old_ids: list[str] = []
    new_ids: list[str] = []
    for item in chosen:
        variants = list(state.products[item["product_id"]].get("variants", {}).values())
        current = dict(item.get("options", {}))
        wanted = requested_options(state.task_text, variants, current)
        available = [v for v in variants if v.get("available") and v["item_id"] != item["item_id"]]
        option_list = "; ".join(", ".join(str(x) for x in v["options"].values()) for v in available[:8])
        shown = {"item": item["name"], "options": option_list}  # what either question names
        if not wanted:
            return kit.say(state, "ask_new_options", current=", ".join(current.values()), **shown)
        target = {**current, **wanted}
        exact = [v for v in available if v["options"] == target]
        close = [v for v in available if all(v["options"].get(k) == val for k, val in wanted.items())]
        pick = exact or sorted(
            close, key=lambda v: -sum(v["options"].get(k) == val for k, val in current.items())
        )
        if not pick:
            return kit.say(state, "option_unavailable", wanted=", ".join(wanted.values()), **shown)
        old_ids.append(item["item_id"])
        new_ids.append(pick[0]["item_id"])
    return Step(
        tool="exchange_delivered_order_items" if exchange else "modify_pending_order_items",
        args={
            "order_id": order["order_id"],
            "item_ids": old_ids,
            "new_item_ids": new_ids,
            "payment_method_id": refund_method(state, order),
        },
    )


def change_payment(kit: PlannerKit, state: DialogueState, order: dict[str, Any]) -> Step:
    methods = (state.user or {}).get("payment_methods", {})
    original = order["payment_history"][0]["payment_method_id"] if order.get("payment_history") else ""
    kind = state.slots.payment_kind
    candidates = [m for m, info in methods.items() if m != original and kind and info.get("source") == kind]
    if state.slots.card_last_four:
        candidates = [m for m in candidates if methods[m].get("last_four") == state.slots.card_last_four]
    if len(candidates) != 1:
        listing = ", ".join(payment_label(kit, state, m) for m in methods if m != original)
        return kit.say(state, "ask_payment_method", methods=listing)
    return Step(
        tool="modify_pending_order_payment",
        args={"order_id": order["order_id"], "payment_method_id": candidates[0]},
    )
