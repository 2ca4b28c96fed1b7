"""The conversation store on a real database: SQLite always, PostgreSQL when available (mandatory in CI)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from assistant.store.conversations import ConversationConflict, ConversationNotFound, ConversationStore
from assistant.store.models import ConversationStatus, MessageRole, SuggestionChoice


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[ConversationStore]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'conv.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    conversations = ConversationStore(url)
    conversations.migrate()
    yield conversations


def test_secret_is_required_and_checked(store: ConversationStore) -> None:
    conversation, secret = store.create_conversation(channel="widget")
    other, other_secret = store.create_conversation()
    assert store.verify_secret(conversation.id, secret)
    assert not store.verify_secret(conversation.id, other_secret)
    assert not store.verify_secret(conversation.id, "")
    assert not store.verify_secret("no-such-id", secret)
    assert conversation.status == ConversationStatus.BOT and other.id != conversation.id


def test_messages_are_numbered_and_kept_in_order(store: ConversationStore) -> None:
    conversation, _ = store.create_conversation()
    store.add_message(conversation.id, MessageRole.CUSTOMER, "where is my order?")
    store.add_message(
        conversation.id,
        MessageRole.BOT,
        "It shipped [1].",
        citations=[{"ref": 1, "article_id": "shipping-times"}],
        tool_calls=[{"name": "get_order_details", "arguments": {"order_id": "#W1"}, "ok": True}],
        latency_ms=12.5,
    )
    messages = store.messages(conversation.id)
    assert [m.seq for m in messages] == [1, 2]
    assert messages[1].citations[0].article_id == "shipping-times"
    assert messages[1].tool_calls[0].name == "get_order_details"
    assert [m.seq for m in store.messages(conversation.id, after_seq=1)] == [2]


def test_message_for_unknown_conversation_is_refused(store: ConversationStore) -> None:
    with pytest.raises(ConversationNotFound):
        store.add_message("missing", MessageRole.CUSTOMER, "hello")


def test_concurrent_writers_never_share_a_sequence_number(store: ConversationStore) -> None:
    conversation, _ = store.create_conversation()

    def write(n: int) -> None:
        for i in range(5):
            store.add_message(conversation.id, MessageRole.CUSTOMER, f"writer {n} message {i}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seqs = [m.seq for m in store.messages(conversation.id)]
    assert seqs == list(range(1, 21))


def test_takeover_claim_is_exclusive_and_handback_resumes_bot(store: ConversationStore) -> None:
    conversation, _ = store.create_conversation()
    decision = {
        "takeover": True,
        "trigger": "explicit_request",
        "reason": "asked for a person",
        "severity": 0.7,
    }
    waiting = store.request_human(conversation.id, decision, priority=0.7)
    assert waiting.status == ConversationStatus.WAITING_FOR_HUMAN
    assert waiting.takeover == decision and waiting.waiting_since is not None
    assert [c.id for c in store.queue()] == [conversation.id]

    claimed = store.claim(conversation.id, "alice")
    assert claimed.status == ConversationStatus.HUMAN and claimed.assigned_agent == "alice"
    with pytest.raises(ConversationConflict, match="owned by alice"):
        store.claim(conversation.id, "bob")
    with pytest.raises(ConversationConflict):
        store.hand_back(conversation.id, "bob")
    assert store.queue() == []

    back = store.hand_back(conversation.id, "alice")
    assert back.status == ConversationStatus.BOT and back.assigned_agent is None


def test_request_human_does_not_take_a_conversation_from_its_agent(store: ConversationStore) -> None:
    conversation, _ = store.create_conversation()
    store.claim(conversation.id, "alice")
    after = store.request_human(conversation.id, {"trigger": "negative_sentiment"}, priority=0.9)
    assert after.status == ConversationStatus.HUMAN and after.assigned_agent == "alice"


def test_queue_orders_by_priority_then_wait(store: ConversationStore) -> None:
    calm, _ = store.create_conversation()
    angry, _ = store.create_conversation()
    store.request_human(calm.id, {"trigger": "explicit_request"}, priority=0.3)
    store.request_human(angry.id, {"trigger": "profanity"}, priority=0.9)
    assert [c.id for c in store.queue()] == [angry.id, calm.id]


def test_close_by_another_agent_is_refused(store: ConversationStore) -> None:
    conversation, _ = store.create_conversation()
    store.claim(conversation.id, "alice")
    with pytest.raises(ConversationConflict):
        store.close(conversation.id, "bob")
    assert store.close(conversation.id, "alice").status == ConversationStatus.CLOSED
    with pytest.raises(ConversationConflict):
        store.claim(conversation.id, "alice")


def test_suggestions_record_choices_and_acceptance_rate(store: ConversationStore) -> None:
    conversation, _ = store.create_conversation()
    drafts = [{"text": f"draft {i}", "citations": [{"ref": 1}], "proposed_actions": []} for i in range(3)]
    created = store.add_suggestions(conversation.id, "alice", drafts)
    assert [s.draft_index for s in created] == [0, 1, 2]
    store.decide_suggestion(created[0].id, "alice", SuggestionChoice.ACCEPTED, "draft 0")
    store.decide_suggestion(created[1].id, "alice", SuggestionChoice.EDITED, "draft 1, edited")
    rejected = store.decide_suggestion(created[2].id, "alice", SuggestionChoice.REJECTED, "ignored")
    assert rejected.final_text is None
    with pytest.raises(ConversationConflict, match="already"):
        store.decide_suggestion(created[0].id, "alice", SuggestionChoice.REJECTED, None)
    with pytest.raises(ValueError):
        store.decide_suggestion(created[0].id, "alice", SuggestionChoice.PENDING, None)
    stats = store.suggestion_stats()
    assert stats["accepted"] == 1 and stats["edited"] == 1 and stats["rejected"] == 1
    assert stats["acceptance_rate"] == pytest.approx(2 / 3)
    assert [s.choice for s in store.suggestions(conversation.id)] == [
        SuggestionChoice.ACCEPTED,
        SuggestionChoice.EDITED,
        SuggestionChoice.REJECTED,
    ]
