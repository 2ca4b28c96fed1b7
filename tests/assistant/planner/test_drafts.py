"""Suggested replies a human agent can send as they are."""

from __future__ import annotations

from assistant.planner.drafts import draft_is_sendable, finish_draft
from assistant.prompts import Replies

REPLIES = Replies("Test Shop")


def test_an_offer_of_a_person_a_repeat_or_a_sentence_about_reaching_one_is_not_sendable() -> None:
    for language in ("en", "fr", "nl"):
        assert not draft_is_sendable(REPLIES("dont_know", language), [], REPLIES)
        assert not draft_is_sendable(REPLIES("loop_next_step_stranger", language), [], REPLIES)
    said = "Standard shipping takes 4 to 6 business days [1]."
    assert not draft_is_sendable(said.replace("[1]", "[2]"), [said], REPLIES)
    assert not draft_is_sendable("Type human agent in the chat at any time.", [], REPLIES)
    assert draft_is_sendable("Standard shipping takes 4 to 6 business days [1].", [], REPLIES)


def test_markers_become_the_sources_links() -> None:
    citations = [{"ref": 1, "url": "https://help.example/shipping"}, {"ref": 2, "url": ""}]
    text = finish_draft(
        "Standard shipping takes 4 to 6 business days [1]. It is free over $75 [2].", citations
    )
    assert (
        text
        == "Standard shipping takes 4 to 6 business days. It is free over $75.\nhttps://help.example/shipping"
    )
