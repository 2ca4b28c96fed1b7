"""A help-centre index that cannot be read (moved away, damaged) hands the customer to a person, with the
message kept: never a crash, never an ungrounded answer, never a plain "I don't know"."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.store.models import ConversationStatus, MessageRole
from tests.assistant.conftest import SampleDesk


def test_a_moved_index_hands_over_and_keeps_the_message(sample_desk: SampleDesk) -> None:
    service = sample_desk.service
    folder = Path(sample_desk.settings.data_dir) / "chroma"
    moved = folder.with_name("chroma-moved")
    assert service.help_center.search("shipping")  # a running server: the index is open and answering
    conversation, _ = service.start_conversation()
    shutil.move(folder, moved)
    try:
        result = service.customer_turn(conversation.id, "how long does shipping take?")
    finally:
        shutil.move(moved, folder)
    assert result.handover and result.status == ConversationStatus.WAITING_FOR_HUMAN
    assert not result.citations
    (search,) = [t for t in result.tool_calls if t.name == "search_help_center"]
    assert search.ok is False and "unavailable" in str(search.error)
    stored = service.conversations.messages(conversation.id)
    assert stored[0].role == MessageRole.CUSTOMER and stored[0].text == "how long does shipping take?"
    assert "unavailable" in str(service.conversations.get(conversation.id).takeover)
    # Restored, the next customer is answered again.
    other, _ = service.start_conversation()
    assert service.customer_turn(other.id, "how long does shipping take?").citations
