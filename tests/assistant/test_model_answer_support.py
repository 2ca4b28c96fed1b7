"""A remote model's answer keeps only sentences a retrieved passage supports (issue 14, item 6).

Against the OpenAI-protocol stub: the model answers after a real help-centre search with a fabricated
sentence, a wrong citation number, and a citation of a passage that was not retrieved. What reaches the
customer has no uncited and no unsupported sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from assistant.reply import SupportCheck, split_sentences
from tests.assistant.conftest import SampleDesk
from tests.assistant.openai_stub import StubReply, start_stub_server, tool_call

pytestmark = pytest.mark.slow

HITS = [
    {
        "article_id": "refund-timing",
        "title": "When will I get my refund?",
        "locale": "en",
        "text": "Refunds to a credit card or PayPal take 5 to 7 business days. "
        "Gift card refunds are immediate.",
    },
    {
        "article_id": "shipping-times",
        "title": "How long does shipping take?",
        "locale": "en",
        "text": "Orders placed before 14:00 ET leave the warehouse the same business day.",
    },
]


def test_the_check_keeps_supported_sentences_recites_wrong_numbers_and_drops_inventions() -> None:
    answer = (
        "Refunds to a credit card take 5 to 7 business days [1]. "
        "Orders placed before 14:00 ET leave the warehouse the same day [1]. "
        "We also give every customer a free tote bag with each refund [2]."
    )
    text, removed = SupportCheck().check(answer, HITS)
    assert text == (
        "Refunds to a credit card take 5 to 7 business days [1]. "
        "Orders placed before 14:00 ET leave the warehouse the same day [2]."
    )
    assert removed == ["We also give every customer a free tote bag with each refund [2]."]
    unchanged = "Gift card refunds are immediate [1]."
    assert SupportCheck().check(unchanged, HITS) == (unchanged, [])


def test_meaning_counts_only_next_to_shared_words() -> None:
    def encode(texts: list[str]) -> np.ndarray:  # every text means the same: only the words may decide
        return np.ones((len(texts), 4)) / 2.0

    with_meaning = SupportCheck(encode=encode)
    # Half of the words are in the passage: enough together with a close sentence, not without one.
    claim = "PayPal refunds take longer for approval checks [1]."
    assert with_meaning.supports(claim, HITS[0]) and not SupportCheck().supports(claim, HITS[0])
    assert not with_meaning.supports("Kayaks ship free to Canada [1].", HITS[0])


def test_words_every_retrieved_passage_shares_are_weak_evidence() -> None:
    hits = [
        {"title": "Refunds", "locale": "en", "text": f"Maple & Moss gift card refund note {i}."}
        for i in range(6)
    ]
    invented = "Maple & Moss refunds every order twice as a loyalty gift [1]."
    # Alone, most of its words are in the passage; among passages that all share them, they prove nothing.
    assert SupportCheck().supports("Maple & Moss gift card refunds [1].", hits[0], hits)
    assert not SupportCheck().supports(invented, hits[0], hits)


@pytest.fixture
def stopped() -> Iterator[list[Any]]:
    stops: list[Any] = []
    yield stops
    for stop in stops:
        stop()


def run_model_answer(desk: SampleDesk, stopped: list[Any], answer: str) -> Any:
    script = [
        StubReply(tool_calls=[tool_call("search_help_center", {"query": "when do I get my refund"})]),
        StubReply(content=answer),
    ]
    base_url, stop = start_stub_server(script)
    stopped.append(stop)
    service = desk.service_with(
        llm_provider="openai",
        llm_base_url=base_url,
        llm_api_key="k",
        llm_model="stub-model",
        llm_max_retries=0,
    )
    conversation, _ = service.start_conversation(channel="test")
    return service.customer_turn(conversation.id, "when do I get my refund?")


def test_through_the_service_no_uncited_or_unsupported_sentence_reaches_the_customer(
    fresh_shop: SampleDesk, stopped: list[Any]
) -> None:
    answer = (
        "Refunds to a credit card or PayPal take 5 to 7 business days [3]. "  # wrong number (or right)
        "Maple & Moss refunds every order twice as a loyalty gift [1]. "  # fabricated
        "Refunds also arrive by carrier pigeon on Sundays [9]."  # a passage that was not retrieved
    )
    result = run_model_answer(fresh_shop, stopped, answer)
    (search,) = result.tool_calls
    hits = search.output["hits"]
    assert "twice as a loyalty gift" not in result.reply and "pigeon" not in result.reply
    assert "5 to 7 business days" in result.reply
    sentences = split_sentences(result.reply)
    assert sentences and all("[" in s for s in sentences), sentences  # zero uncited sentences
    checker = SupportCheck()
    for citation in result.citations:
        assert 1 <= citation.ref <= len(hits)
    for sentence in sentences:
        refs = [c.ref for c in result.citations if f"[{c.ref}]" in sentence]
        assert refs and all(checker.supports(sentence, hits[r - 1]) for r in refs), sentence


def test_when_nothing_is_supported_the_customer_hears_we_do_not_know(
    fresh_shop: SampleDesk, stopped: list[Any]
) -> None:
    result = run_model_answer(fresh_shop, stopped, "Every refund comes with a free kayak [1].")
    assert "kayak" not in result.reply and "couldn't find that in our help centre" in result.reply
    assert result.failed and not result.citations
