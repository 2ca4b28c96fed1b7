"""After a crash between a shop change and the reply: what the next turn tells the customer.

The write-ahead records (assistant/store/actions.py) a reply never reported are turned into one notice in
the customer's language ("Your order #W1000001 was cancelled: ...") and into tool-call records stored with
that reply, so the console's transcript shows the change in the turn that told the customer.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.confirmations import action_id
from assistant.prompts import Replies
from assistant.records import ToolCallRecord
from assistant.shop.store import ShopStore
from assistant.store.actions import ActionLog, ActionRecord
from assistant.tools.outcomes import Facts
from assistant.tools.policies import (
    CANCELLED,
    DELIVERED,
    EXCHANGE_REQUESTED,
    PENDING,
    PENDING_ITEMS_MODIFIED,
    RETURN_REQUESTED,
)
from assistant.tools.toolkit import Toolkit

DONE_WORDS = {
    "cancel_pending_order": "done_cancelled",
    "modify_pending_order_items": "done_changed",
    "modify_pending_order_address": "done_changed",
    "modify_pending_order_payment": "done_changed",
    "return_delivered_order_items": "done_returned",
    "exchange_delivered_order_items": "done_exchanged",
}


# The order status each change leaves behind, and the one it needs: a `started` record (the process died
# between the record and the change, or between the change and its result) is settled from the shop itself.
STATUS_AFTER = {
    "cancel_pending_order": (CANCELLED, frozenset({PENDING, PENDING_ITEMS_MODIFIED})),
    "return_delivered_order_items": (RETURN_REQUESTED, frozenset({DELIVERED})),
    "exchange_delivered_order_items": (EXCHANGE_REQUESTED, frozenset({DELIVERED})),
}


def settle(record: ActionRecord, order_status: str | None) -> str | None:
    """'done' or 'not_run' for a started record whose order's status shows which; None when it can't tell
    (a change that leaves the status as it was, like a new address, is left for a person to check)."""
    if record.status != "started" or record.tool not in STATUS_AFTER or order_status is None:
        return None
    after, before = STATUS_AFTER[record.tool]
    if order_status == after:
        return "done"
    return "not_run" if order_status in before else None


def recovery_notice(
    records: Sequence[ActionRecord], language: str, replies: Replies, toolkit: Toolkit
) -> str:
    """A sentence per unreported change: done (what), failed (nothing changed), unknown (a person checks)."""
    sentences: list[str] = []
    for record in records:
        description = toolkit.describe(record.tool, dict(record.arguments), Facts(), language)
        order_id = record.arguments.get("order_id")
        if record.status == "done" and order_id and record.tool in DONE_WORDS:
            done = replies(DONE_WORDS[record.tool], language)
            sentences.append(replies("action_recovered", language, order_id=order_id, done=done))
        elif record.status == "done":
            sentences.append(replies("action_recovered_other", language, description=description))
        elif record.status in ("failed", "not_run"):
            sentences.append(replies("action_recovered_failed", language, description=description))
        else:
            sentences.append(replies("action_unfinished", language, description=description))
    return " ".join(sentences)


def recovered_trace(records: Sequence[ActionRecord]) -> list[ToolCallRecord]:
    """The changes as tool calls of the turn that reports them (kind write; ok None while unknown)."""
    return [
        ToolCallRecord(
            name=r.tool,
            arguments=dict(r.arguments),
            id=f"recovered-{r.id}",
            ok={"done": True, "failed": False}.get(r.status),
            output=r.result,
            error=r.error,
            kind="write",
        )
        for r in records
    ]


def recorded_calls(records: Sequence[ActionRecord]) -> set[str]:
    return {r.action_id for r in records}


def already_ran(actions: Sequence[dict[str, object]], records: Sequence[ActionRecord]) -> bool:
    """A pending change whose calls were recorded as run: the crash came after the yes (never ask again)."""
    done = recorded_calls([r for r in records if r.status in ("done", "started")])
    return any(action_id([{"name": a.get("name", ""), "args": a.get("args", {})}]) in done for a in actions)


def settle_from_shop(records: list[ActionRecord], shop: ShopStore, log: ActionLog) -> list[ActionRecord]:
    """The records, each `started` one settled (in the log too) from its order's status in the shop."""
    settled: list[ActionRecord] = []
    for record in records:
        order_id = str(record.arguments.get("order_id") or "")
        if record.status == "started" and order_id:
            with shop.transaction() as session:
                order = session.get_order(order_id)
            outcome = settle(record, str(order.status) if order is not None else None)
            if outcome is not None:
                log.settle(record.id, outcome)
                record = record.model_copy(update={"status": outcome})
        settled.append(record)
    return settled
