"""What the turn after a crash says about a change an earlier turn made: in the customer's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.prompts import Replies
from assistant.recovery import already_ran, recovered_trace, recovery_notice, settle
from assistant.store.actions import ActionRecord
from assistant.tools import Toolkit

CANCEL_ARGS = {"order_id": "#W1000001", "reason": "ordered by mistake"}


def record(
    status: str, tool: str = "cancel_pending_order", args: dict[str, object] | None = None
) -> ActionRecord:
    from assistant.confirmations import action_id

    arguments = dict(args or CANCEL_ARGS)
    return ActionRecord(
        id=7,
        conversation_id="c",
        action_id=action_id([{"name": tool, "args": arguments}]),
        tool=tool,
        arguments=arguments,
        status=status,
        created_at=datetime.now(UTC),
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Your order #W1000001 was cancelled"),
        ("fr", "Votre commande #W1000001 a été annulée"),
        ("nl", "Uw bestelling #W1000001 is geannuleerd"),
    ],
)
def test_a_done_change_is_told_as_done(language: str, expected: str) -> None:
    text = recovery_notice([record("done")], language, Replies("Shop"), Toolkit(None))
    assert text.startswith(expected)


def test_failed_and_unknown_changes_say_so() -> None:
    failed = recovery_notice([record("failed")], "en", Replies("Shop"), Toolkit(None))
    assert "did not go through" in failed and "was cancelled" not in failed
    unknown = recovery_notice([record("started")], "en", Replies("Shop"), Toolkit(None))
    assert "can't tell whether it went through" in unknown and "team" in unknown


def test_the_transcript_shows_the_change_as_a_write_of_that_turn() -> None:
    [done, unknown] = recovered_trace([record("done"), record("started")])
    assert (done.name, done.kind, done.ok, done.arguments) == (
        "cancel_pending_order",
        "write",
        True,
        CANCEL_ARGS,
    )
    assert unknown.ok is None


def test_a_pending_change_that_was_recorded_as_run_is_never_asked_again() -> None:
    pending = [{"name": "cancel_pending_order", "args": dict(CANCEL_ARGS), "description": "cancel"}]
    other = [
        {"name": "cancel_pending_order", "args": {"order_id": "#W1000005", "reason": "no longer needed"}}
    ]
    assert already_ran(pending, [record("done")])
    assert not already_ran(other, [record("done")])


@pytest.mark.parametrize(
    ("tool", "order_status", "expected"),
    [
        ("cancel_pending_order", "cancelled", "done"),
        ("cancel_pending_order", "pending", "not_run"),
        ("cancel_pending_order", "delivered", None),
        ("cancel_pending_order", None, None),
        ("return_delivered_order_items", "return requested", "done"),
        ("return_delivered_order_items", "delivered", "not_run"),
        ("modify_pending_order_address", "pending", None),  # the status can't tell: a person checks
    ],
)
def test_a_started_change_is_settled_from_the_order_status(
    tool: str, order_status: str | None, expected: str | None
) -> None:
    assert settle(record("started", tool), order_status) == expected
    assert settle(record("done", tool), order_status) is None
