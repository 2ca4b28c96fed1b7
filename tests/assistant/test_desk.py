"""Takeover end to end through the real store: the guard hands over, the bot goes silent, one agent at a time,
handback resumes the bot, suggestions are recorded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.desk import AgentDesk
from assistant.parts import ServiceParts
from assistant.service import SupportService
from assistant.shop.generator import DEMO_USER_EMAIL, DEMO_USER_ID, generate_shop
from assistant.store.conversations import ConversationConflict
from assistant.store.models import ConversationStatus, MessageRole, SuggestionChoice
from knowledge.settings import Settings

pytestmark = pytest.mark.slow
HELP_CENTER = Path(__file__).resolve().parents[2] / "knowledge" / "sample_data" / "help_center"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SupportService]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("desk"), _env_file=None)  # type: ignore[call-arg]
    support = SupportService(settings)
    support.shop.import_data(generate_shop())
    support.help_center.index.ingest([HELP_CENTER], progress=False)
    yield support


@pytest.fixture
def desk(service: SupportService) -> AgentDesk:
    return AgentDesk(service)


def _waiting_reason(service: SupportService, conversation_id: str) -> dict:  # type: ignore[type-arg]
    conversation = service.conversations.get(conversation_id)
    assert conversation.status == ConversationStatus.WAITING_FOR_HUMAN
    assert conversation.takeover is not None
    return conversation.takeover


def test_angry_message_hands_over_and_bot_stays_silent(service: SupportService) -> None:
    conversation, _ = service.start_conversation()
    result = service.customer_turn(
        conversation.id, "This is absolutely terrible service, you people are useless!!!"
    )
    assert result.handover and result.status == ConversationStatus.WAITING_FOR_HUMAN
    assert "wait" in (result.reply or "")  # one handover message with the expected wait
    takeover = _waiting_reason(service, conversation.id)
    assert takeover["trigger"] in {"negative_sentiment", "shouting", "profanity"}
    assert takeover["reason"]

    silent = service.customer_turn(conversation.id, "hello? where is my order #W1000001")
    assert silent.reply is None and silent.status == ConversationStatus.WAITING_FOR_HUMAN
    roles = [m.role for m in service.conversations.messages(conversation.id)]
    # The customer's later message is stored, and no bot message follows it.
    assert roles[-1] == MessageRole.CUSTOMER and roles.count(MessageRole.BOT) == 1


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Can I please talk to a real person?", "en"),
        ("Je voudrais parler à un conseiller, s'il vous plaît", "fr"),
        ("Mag ik een medewerker spreken?", "nl"),
    ],
)
def test_explicit_ask_hands_over_in_the_customer_language(
    service: SupportService, text: str, language: str
) -> None:
    conversation, _ = service.start_conversation()
    result = service.customer_turn(conversation.id, text)
    assert result.handover
    takeover = _waiting_reason(service, conversation.id)
    assert takeover["trigger"] == "explicit_request"
    assert takeover["language"] == language


def test_loop_of_failed_answers_hands_over(service: SupportService) -> None:
    conversation, _ = service.start_conversation()
    first = service.customer_turn(conversation.id, "What is the name of your CEO?")
    second = service.customer_turn(conversation.id, "Who founded the company and when did they die?")
    assert first.failed and second.failed and not second.handover
    third = service.customer_turn(conversation.id, "Which stock exchange are you listed on?")
    assert third.handover
    assert _waiting_reason(service, conversation.id)["trigger"] == "bot_failures"


def test_repeated_request_hands_over(service: SupportService) -> None:
    conversation, _ = service.start_conversation()
    results = [
        service.customer_turn(conversation.id, "Can you tell me when my package will be delivered?")
        for _ in range(3)
    ]
    assert not results[1].handover and results[-1].handover
    takeover = _waiting_reason(service, conversation.id)
    assert "repeated_request" in [takeover["trigger"], *takeover.get("triggers", [])]


def test_claim_is_exclusive_and_handback_resumes_the_bot(service: SupportService, desk: AgentDesk) -> None:
    conversation, _ = service.start_conversation(user_id=DEMO_USER_ID)
    service.customer_turn(conversation.id, "I want to speak to a human agent")
    entry = next(e for e in desk.queue() if e.conversation.id == conversation.id)
    assert entry.customer is not None and entry.customer["email"] == DEMO_USER_EMAIL
    assert entry.orders and "speak to a human" in entry.summary

    desk.claim(conversation.id, "alice")
    with pytest.raises(ConversationConflict):
        desk.claim(conversation.id, "bob")
    with pytest.raises(ConversationConflict):
        desk.send(conversation.id, "bob", "hi, Bob here")
    desk.send(conversation.id, "alice", "Hi, this is Alice. How can I help?")
    assert service.customer_turn(conversation.id, "where is my order?").reply is None

    drafts = desk.suggest(conversation.id, "alice")
    assert 1 <= len(drafts) <= 3
    decided, sent = desk.decide(
        conversation.id, drafts[0].id, "alice", SuggestionChoice.EDITED, "Edited reply"
    )
    assert decided.choice == SuggestionChoice.EDITED and sent is not None and sent.text == "Edited reply"
    if len(drafts) > 1:
        rejected, nothing = desk.decide(
            conversation.id, drafts[1].id, "alice", SuggestionChoice.REJECTED, None
        )
        assert rejected.choice == SuggestionChoice.REJECTED and nothing is None

    desk.hand_back(conversation.id, "alice")
    resumed = service.customer_turn(conversation.id, "how long do refunds take?")
    assert resumed.reply and resumed.status == ConversationStatus.BOT and resumed.citations


def test_bot_stays_silent_after_a_restart(service: SupportService) -> None:
    conversation, _ = service.start_conversation()
    service.customer_turn(conversation.id, "get me a human now")
    # A new process would build exactly this; the loaded model is reused, the state comes from the store.
    restarted = SupportService(
        service.settings, ServiceParts(service.settings, embedder=service.parts.embedder)
    )
    result = restarted.customer_turn(conversation.id, "hello??")
    assert result.reply is None and result.status == ConversationStatus.WAITING_FOR_HUMAN


def test_copilot_proposes_writes_but_never_runs_them(service: SupportService, desk: AgentDesk) -> None:
    conversation, _ = service.start_conversation(user_id=DEMO_USER_ID)
    service.customer_turn(
        conversation.id, "I need a human to cancel order #W1000001, I ordered it by mistake"
    )
    desk.claim(conversation.id, "carol")
    drafts = desk.suggest(conversation.id, "carol")
    proposed = [a for d in drafts for a in d.proposed_actions]
    assert proposed and proposed[0]["name"] == "cancel_pending_order"
    with service.shop.transaction() as shop:
        order = shop.get_order("#W1000001")
        assert order is not None and order.status == "pending"


class FakeSummariser:
    def __init__(self, reply: str | None) -> None:
        self.reply = reply
        self.transcripts: list[str] = []

    def __call__(self, transcript: str) -> str | None:
        self.transcripts.append(transcript)
        return self.reply


def _queue_entry(desk: AgentDesk, conversation_id: str):  # type: ignore[no-untyped-def]
    return next(e for e in desk.queue() if e.conversation.id == conversation_id)


def test_model_summary_is_written_once_per_handover(service: SupportService, desk: AgentDesk) -> None:
    conversation, _ = service.start_conversation()
    service.customer_turn(conversation.id, "I want to talk to a person about order #W1000002")
    fake = FakeSummariser("Wants a person about order #W1000002; calm.")
    desk.__dict__["summariser"] = fake  # what a configured model would be
    assert _queue_entry(desk, conversation.id).summary == "Wants a person about order #W1000002; calm."
    assert _queue_entry(desk, conversation.id).summary == fake.reply
    ours = [t for t in fake.transcripts if "customer: I want to talk to a person about order #W1000002" in t]
    assert len(ours) == 1  # stored with the takeover: refreshing the queue costs no model call
    assert service.conversations.get(conversation.id).takeover["summary_source"] == "model"  # type: ignore[index]


def test_failed_model_summary_falls_back_to_the_extractive_one(
    service: SupportService, desk: AgentDesk
) -> None:
    conversation, _ = service.start_conversation()
    service.customer_turn(conversation.id, "can I speak to an agent please")
    fake = FakeSummariser(None)
    desk.__dict__["summariser"] = fake
    first = _queue_entry(desk, conversation.id).summary
    assert first.startswith("The customer wrote 1 message(s)")
    assert _queue_entry(desk, conversation.id).summary == first
    ours = [t for t in fake.transcripts if "customer: can I speak to an agent please" in t]
    assert len(ours) == 1  # not retried on every refresh
