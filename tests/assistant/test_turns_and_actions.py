"""One turn at a time per conversation (a lock in the database), and the write-ahead record of actions.

Real threads on real SQLite and PostgreSQL; the crash is a BaseException raised at a named fault point (the
process-level kill -9 version is tests/faults/test_kill_turn.py).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from assistant import write_records
from assistant.parts import ServiceParts
from assistant.service import SupportService, TurnResult
from assistant.shop.generator import DEMO_PENDING_ORDER_ID, DEMO_USER_ID, generate_shop
from assistant.store.models import MessageRole
from knowledge.settings import Settings
from tests.assistant.conftest import SampleDesk

pytestmark = pytest.mark.slow
CANCEL = f"please cancel order {DEMO_PENDING_ORDER_ID}, I ordered it by mistake"
WRITES = {"cancel_pending_order"}


def order_status(service: SupportService, order_id: str) -> str:
    with service.shop.transaction() as shop:
        order = shop.get_order(order_id)
        assert order is not None
        return str(order.status)


def parallel(service: SupportService, conversation_id: str, texts: list[str]) -> list[TurnResult]:
    barrier = threading.Barrier(len(texts))
    results: list[Any] = [None] * len(texts)
    errors: list[BaseException] = []

    def run(index: int, text: str) -> None:
        try:
            barrier.wait()
            results[index] = service.customer_turn(conversation_id, text)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(texts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


def check_yes_no_yes(service: SupportService) -> None:
    conversation, _ = service.start_conversation(channel="test", user_id=DEMO_USER_ID)
    asked = service.customer_turn(conversation.id, CANCEL)
    assert asked.awaiting_confirmation is not None, asked.reply
    texts = ["yes", "no", "yes"]
    results = parallel(service, conversation.id, texts)
    writes = [
        (text, t)
        for text, r in zip(texts, results, strict=True)
        for t in r.tool_calls
        if t.name in WRITES and t.ok
    ]
    # At most one cancellation, only ever in answer to a "yes"; the "no" never gets "Done: cancelled".
    assert len(writes) <= 1 and all(text == "yes" for text, _ in writes), writes
    no_result = results[1]
    assert not any(t.name in WRITES and t.ok for t in no_result.tool_calls), no_result.reply
    assert len(service.conversations.actions.for_conversation(conversation.id)) == len(writes)
    # Each reply answers its own message, and is the stored message with that text.
    stored = {m.seq: m for m in service.conversations.messages(conversation.id)}
    for text, result in zip(texts, results, strict=True):
        assert (
            stored[result.customer_seq].text == text
            and stored[result.customer_seq].role == MessageRole.CUSTOMER
        )
        assert result.reply_seq is not None and stored[result.reply_seq].text == result.reply
    expected = "cancelled" if writes else "pending"
    assert order_status(service, DEMO_PENDING_ORDER_ID) == expected


def test_parallel_yes_no_yes_are_serialised_on_sqlite(fresh_shop: SampleDesk) -> None:
    for _ in range(3):
        fresh_shop.reset_shop()
        check_yes_no_yes(fresh_shop.service)


@pytest.mark.postgres
def test_parallel_yes_no_yes_are_serialised_on_postgres(
    postgres_url: str, sample_desk: SampleDesk, tmp_path: Any
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, database_url=postgres_url, checkpoint_url=postgres_url, _env_file=None
    )
    shared = sample_desk.service.parts
    service = SupportService(
        settings, ServiceParts(settings, embedder=shared.embedder, encoder=shared.encoder, guard=shared.guard)
    )
    data = generate_shop(seed=7)
    for _ in range(2):
        service.shop.import_data(data, replace=True)
        check_yes_no_yes(service)


class Crash(BaseException):
    """The process dies here: nothing after this point runs (not an Exception: no handler catches it)."""


def test_a_crash_after_the_write_is_told_on_the_next_turn(
    fresh_shop: SampleDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = fresh_shop.service
    conversation, _ = service.start_conversation(channel="test", user_id=DEMO_USER_ID)
    assert service.customer_turn(conversation.id, CANCEL).awaiting_confirmation is not None

    def die(name: str) -> None:
        if name == "after_record":
            raise Crash(name)

    monkeypatch.setattr(write_records, "pause_point", die)
    with pytest.raises(Crash):
        service.customer_turn(conversation.id, "yes")
    monkeypatch.undo()
    assert order_status(service, DEMO_PENDING_ORDER_ID) == "cancelled"
    records = service.conversations.actions.for_conversation(conversation.id)
    assert [(r.tool, r.status, r.reported_seq) for r in records] == [("cancel_pending_order", "done", None)]
    # The customer, having seen no answer, says yes again: told what was done, never "can't be cancelled".
    again = service.customer_turn(conversation.id, "yes")
    assert again.reply is not None and f"Your order {DEMO_PENDING_ORDER_ID} was cancelled" in again.reply
    assert "can't be" not in again.reply
    assert not any(
        t.name in WRITES and t.ok and not (t.id or "").startswith("recovered-") for t in again.tool_calls
    )
    stored = service.conversations.messages(conversation.id)[-1]
    assert any(t.name == "cancel_pending_order" and t.ok for t in stored.tool_calls)  # the console shows it
    assert service.conversations.actions.for_conversation(conversation.id)[0].reported_seq == stored.seq
    # Told once: the turn after that is an ordinary turn.
    later = service.customer_turn(conversation.id, "thanks")
    assert later.reply is not None and "was cancelled" not in later.reply


def test_a_crash_before_the_write_leaves_the_change_to_the_next_yes(
    fresh_shop: SampleDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = fresh_shop.service
    conversation, _ = service.start_conversation(channel="test", user_id=DEMO_USER_ID)
    assert service.customer_turn(conversation.id, CANCEL).awaiting_confirmation is not None

    def die(name: str) -> None:
        if name == "before_write":
            raise Crash(name)

    monkeypatch.setattr(write_records, "pause_point", die)
    with pytest.raises(Crash):
        service.customer_turn(conversation.id, "yes")
    monkeypatch.undo()
    assert order_status(service, DEMO_PENDING_ORDER_ID) == "pending"
    again = service.customer_turn(conversation.id, "yes")
    assert order_status(service, DEMO_PENDING_ORDER_ID) == "cancelled"
    statuses = [r.status for r in service.conversations.actions.for_conversation(conversation.id)]
    assert statuses == ["not_run", "done"]
    assert again.reply is not None and "can't tell" not in again.reply and "cancelled" in again.reply
    assert any(t.name in WRITES and t.ok for t in again.tool_calls)


def test_after_a_crash_before_the_write_anything_but_yes_drops_the_change(
    fresh_shop: SampleDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = fresh_shop.service
    conversation, _ = service.start_conversation(channel="test", user_id=DEMO_USER_ID)
    assert service.customer_turn(conversation.id, CANCEL).awaiting_confirmation is not None

    def die(name: str) -> None:
        if name == "before_write":
            raise Crash(name)

    monkeypatch.setattr(write_records, "pause_point", die)
    with pytest.raises(Crash):
        service.customer_turn(conversation.id, "yes")
    monkeypatch.undo()
    answer = service.customer_turn(conversation.id, "no, leave it")
    assert answer.reply is not None and "nothing was changed" in answer.reply
    assert order_status(service, DEMO_PENDING_ORDER_ID) == "pending"
    later = service.customer_turn(conversation.id, "what is your return policy?")
    assert order_status(service, DEMO_PENDING_ORDER_ID) == "pending"
    assert later.reply is not None and "nothing was changed" not in later.reply


def test_a_write_in_a_normal_turn_is_recorded_and_reported_by_its_reply(fresh_shop: SampleDesk) -> None:
    service = fresh_shop.service
    conversation, _ = service.start_conversation(channel="test", user_id=DEMO_USER_ID)
    service.customer_turn(conversation.id, CANCEL)
    done = service.customer_turn(conversation.id, "yes")
    records = service.conversations.actions.for_conversation(conversation.id)
    assert [(r.tool, r.status, r.reported_seq) for r in records] == [
        ("cancel_pending_order", "done", done.reply_seq)
    ]
    assert records[0].arguments["order_id"] == DEMO_PENDING_ORDER_ID
