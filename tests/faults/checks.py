"""What every injected fault must leave behind: the customer's message stored before anything could fail,
a reply the customer can read (a polite answer or a handover), no traceback or internal error text."""

from __future__ import annotations

from typing import Any

from assistant.store.models import MessageRole

LEAKS = ("Traceback", "Exception", "Error:", "chromadb", "sqlite3", "OperationalError", "InternalError")


def assert_no_leak(text: str) -> None:
    for word in LEAKS:
        assert word not in text, f"internal error text reached the customer: {word!r} in {text[:300]!r}"


def assert_turn_survived(service: Any, conversation_id: str, text: str, result: Any) -> None:
    """The message is stored, the reply is visible and stored, short enough and free of internals."""
    messages = service.conversations.messages(conversation_id)
    customer = [m for m in messages if m.role == MessageRole.CUSTOMER]
    assert any(m.text == text for m in customer), "the customer's message was lost"
    assert isinstance(result.reply, str) and result.reply.strip(), "the customer got no reply"
    assert len(result.reply) <= service.settings.max_reply_chars
    assert_no_leak(result.reply)
    bot = [m for m in messages if m.role == MessageRole.BOT]
    assert bot and bot[-1].text == result.reply, "the reply the customer saw is not in the transcript"
    assert messages.index(next(m for m in customer if m.text == text)) < messages.index(bot[-1])
