"""The whole turn on PostgreSQL: conversations, shop data and LangGraph checkpoints in one server database."""

from __future__ import annotations

import pytest

from assistant.parts import ServiceParts
from assistant.service import SupportService
from assistant.shop.generator import DEMO_PENDING_ORDER_ID, DEMO_USER_EMAIL, generate_shop
from assistant.store.models import ConversationStatus
from knowledge.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_confirmation_survives_a_restart_on_postgres(postgres_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(  # type: ignore[call-arg]
        data_dir=tmp_path, database_url=postgres_url, checkpoint_url=postgres_url, _env_file=None
    )
    first = SupportService(settings)
    first.shop.import_data(generate_shop())
    conversation, _ = first.start_conversation()
    first.customer_turn(conversation.id, f"my email is {DEMO_USER_EMAIL}")
    asked = first.customer_turn(
        conversation.id, f"please cancel {DEMO_PENDING_ORDER_ID}, I ordered it by mistake"
    )
    assert asked.awaiting_confirmation is not None

    # A new process (another API worker, or after a restart) picks the conversation up from PostgreSQL.
    # The model is the same; only the state must come from the DB.
    second = SupportService(settings, ServiceParts(settings, embedder=first.parts.embedder))
    done = second.customer_turn(conversation.id, "yes")
    assert done.status == ConversationStatus.BOT
    assert any(t.name == "cancel_pending_order" and t.ok for t in done.tool_calls)
    with second.shop.transaction() as shop:
        order = shop.get_order(DEMO_PENDING_ORDER_ID)
        assert (
            order is not None and order.status == "cancelled" and order.cancel_reason == "ordered by mistake"
        )
    assert [m.role.value for m in second.conversations.messages(conversation.id)] == ["customer", "bot"] * 3
