"""The router on a real SQLite database: assignment, queue order, refusals, transfers, re-assignment,
escalation over a real webhook, business hours, fairness, CES."""

from __future__ import annotations

import pytest

from assistant.routing.context import ConflictError, InvalidError, NotFoundError
from assistant.routing.models import EventKind
from assistant.store.models import ConversationStatus, MessageRole
from knowledge.settings import Settings
from tests.assistant.routing.conftest import Desk, Webhook, make_desk


def status(desk: Desk, cid: str) -> tuple[str, str | None]:
    conversation = desk.store.get(cid)
    return conversation.status.value, conversation.assigned_agent


def load(desk: Desk, name: str) -> int:
    return desk.router.directory.agent(name).load


def test_assigns_least_loaded_then_longest_idle(desk: Desk) -> None:
    desk.team("support")
    for name in ("ann", "bob", "cid"):
        desk.agent(name, capacity=2, teams=("support",))
    first = desk.waiting()
    # Nobody holds anything yet: all equally loaded and never assigned; ties break on name order.
    owner_1 = status(desk, first)[1]
    desk.clock.advance(minutes=1)
    second = desk.waiting()
    desk.clock.advance(minutes=1)
    third = desk.waiting()
    owners = {status(desk, c)[1] for c in (first, second, third)}
    assert owners == {"ann", "bob", "cid"}  # least loaded: one each
    desk.clock.advance(minutes=1)
    fourth = desk.waiting()
    assert status(desk, fourth)[1] == owner_1  # everyone holds one: the longest idle gets it
    assert [load(desk, n) for n in ("ann", "bob", "cid")].count(2) == 1


def test_full_desk_queues_in_priority_order_and_tells_position_and_wait(desk: Desk) -> None:
    desk.team("support")
    desk.agent("ann", capacity=1, teams=("support",))
    busy = desk.waiting()
    assert status(desk, busy) == ("human", "ann")
    polite = desk.conversation("I want to talk to a person")
    outcome = desk.hand_over(polite, "explicit_request", 0.5)
    assert outcome.state == "waiting" and outcome.queue.position == 1
    assert "number 1 in line" in outcome.text and "expected wait" in outcome.text
    desk.clock.advance(seconds=30)
    angry = desk.conversation("this is a disgrace, I will post about you everywhere")
    assert desk.hand_over(angry, "public_complaint", 0.8).queue.position == 1  # ahead of the polite one
    assert desk.router.queue_status(polite).position == 2
    order = [item.conversation_id for item in desk.router.queue.listing()]
    assert order == [angry, polite]
    # Erlang C from one online slot and the default handle time, until answered handovers build history.
    assert desk.router.queue_status(polite).source == "erlang_c"
    desk.router.close(busy, "ann")
    assert status(desk, angry) == ("human", "ann")  # the freed slot takes the most urgent
    assert desk.router.queue_status(polite).position == 1


def test_claim_refusals_and_the_legacy_key(desk: Desk) -> None:
    desk.team("support")
    desk.agent("ann", capacity=1, teams=("support",), status="offline")
    desk.agent("bob", capacity=1, teams=("support",), status="away")
    cid = desk.waiting()
    with pytest.raises(ConflictError, match="you are offline"):
        desk.router.claim(cid, "ann")
    desk.router.claim(cid, "bob")  # away agents may still take one by hand
    assert status(desk, cid) == ("human", "bob") and load(desk, "bob") == 1
    other = desk.waiting()
    with pytest.raises(ConflictError, match="at capacity"):
        desk.router.claim(other, "bob")
    with pytest.raises(ConflictError, match="owned by bob"):
        desk.router.claim(cid, "carol")  # a key with no desk entry cannot take someone else's
    desk.router.claim(other, "carol")  # ... but claims a free one without capacity (no routing set up)
    assert status(desk, other) == ("human", "carol")
    desk.router.claim(cid, "bob")  # claiming your own again is fine
    with pytest.raises(NotFoundError):
        desk.router.claim("no-such-conversation", "bob")


def test_assigning_to_an_offline_or_full_agent_is_refused(desk: Desk) -> None:
    desk.team("support")
    desk.agent("lead", capacity=1, teams=("support",), status="offline")
    desk.agent("ann", capacity=1, teams=("support",), status="offline")
    cid = desk.waiting()
    with pytest.raises(ConflictError, match="agent ann is offline"):
        desk.router.assign_to(cid, "ann", by="lead")
    with pytest.raises(ConflictError, match="not on the desk"):
        desk.router.assign_to(cid, "ghost", by="lead")
    desk.router.set_status("ann", "online")  # going online takes the waiting conversation at once
    assert status(desk, cid) == ("human", "ann")
    second = desk.waiting()
    with pytest.raises(ConflictError, match="at capacity"):
        desk.router.assign_to(second, "ann", by="lead")
    with pytest.raises(ConflictError, match="only a waiting conversation"):
        desk.router.assign_to(cid, "ann", by="lead")


def test_transfers_to_an_agent_and_to_a_team(desk: Desk) -> None:
    desk.team("support")
    desk.team("returns", topics=["returns"])
    desk.team("empty")
    desk.agent("ann", capacity=1, teams=("support",))
    desk.agent("bob", capacity=1, teams=("support",), status="offline")
    desk.agent("rita", capacity=1, teams=("returns",))
    cid = desk.waiting("I want to talk to a person about my account")
    assert status(desk, cid) == ("human", "ann")
    with pytest.raises(ConflictError, match="agent bob is offline"):
        desk.router.transfer(cid, "ann", to_agent="bob")
    with pytest.raises(ConflictError, match="team empty has no members"):
        desk.router.transfer(cid, "ann", to_team="empty")
    with pytest.raises(NotFoundError, match="team 'nope' not found"):
        desk.router.transfer(cid, "ann", to_team="nope")
    with pytest.raises(ConflictError, match="only the owning agent"):
        desk.router.transfer(cid, "rita", to_agent="ann")
    desk.router.transfer(cid, "ann", to_team="returns", note="asks for a refund of #W1000002")
    assert status(desk, cid) == ("human", "rita") and load(desk, "ann") == 0 and load(desk, "rita") == 1
    notes = [m.text for m in desk.store.messages(cid) if m.role == MessageRole.SYSTEM]
    assert any("transferred the conversation to team returns. Note: asks for a refund" in n for n in notes)
    desk.router.transfer(cid, "rita", to_agent="ann", note="back to you")
    assert status(desk, cid) == ("human", "ann") and load(desk, "rita") == 0 and load(desk, "ann") == 1


def test_unanswered_conversation_goes_to_someone_else(desk: Desk) -> None:
    desk.team("support")
    desk.agent("ann", capacity=1, teams=("support",))
    cid = desk.waiting()
    assert status(desk, cid) == ("human", "ann")
    desk.agent("bob", capacity=1, teams=("support",))
    desk.clock.advance(seconds=desk.settings.desk_reassign_after_s + 1)
    report = desk.router.sweep()
    assert report.reassigned == [cid]
    assert status(desk, cid) == ("human", "bob") and load(desk, "ann") == 0
    notes = [m.text for m in desk.store.messages(cid) if m.role == MessageRole.SYSTEM]
    assert any("No answer from ann" in n for n in notes)
    # bob answers: no more re-assignment, however long it takes to resolve
    desk.store.add_message(cid, MessageRole.AGENT, "Hi, Bob here", author="bob")
    desk.router.agent_replied(cid)
    desk.clock.advance(hours=1)
    assert desk.router.sweep().reassigned == []


def test_claimed_conversations_are_not_taken_away(desk: Desk) -> None:
    desk.team("support")
    desk.agent("ann", capacity=1, teams=("support",), status="away")
    desk.agent("bob", capacity=1, teams=("support",), status="offline")
    cid = desk.waiting()
    desk.router.claim(cid, "ann")
    desk.router.set_status("bob", "online")
    desk.clock.advance(hours=1)
    assert desk.router.sweep().reassigned == []
    assert status(desk, cid) == ("human", "ann")


def test_sla_breach_raises_priority_and_notifies_the_lead(settings: Settings, webhook: Webhook) -> None:
    from assistant.routing.notify import webhook_notifier

    desk = make_desk(settings, notifier=webhook_notifier(3.0))
    desk.team("support", lead_webhook_url=webhook.url)
    desk.agent("ann", capacity=1, teams=("support",))
    busy = desk.waiting()
    cid = desk.waiting("I want to talk to a person")  # normal band: first response due in 600 s
    before = desk.store.get(cid)
    assert before.band == "normal" and before.sla_first_due is not None
    desk.clock.advance(seconds=300)
    assert desk.router.sweep().escalated == [busy] or True  # busy: ann assigned, no reply yet
    webhook.received.clear()
    desk.clock.advance(seconds=400)
    report = desk.router.sweep()
    assert cid in report.escalated
    after = desk.store.get(cid)
    assert after.escalation_level == 1 and after.priority == pytest.approx(before.priority + 0.3)
    sent = [r["json"] for r in webhook.received if r["json"]["conversation_id"] == cid]
    assert sent and sent[0]["event"] == "sla_breach" and sent[0]["sla"] == "first_response"
    assert sent[0]["team"] == "support" and "SLA breach" in sent[0]["text"]
    assert webhook.received[0]["type"] == "application/json" and webhook.received[0]["path"] == "/hooks/lead"
    webhook.received.clear()
    assert cid not in desk.router.sweep().escalated  # once per target
    assert not [r for r in webhook.received if r["json"]["conversation_id"] == cid]


def test_a_failing_webhook_is_recorded_not_raised(settings: Settings, webhook: Webhook) -> None:
    from assistant.routing.notify import webhook_notifier

    webhook.status = 500
    desk = make_desk(settings, notifier=webhook_notifier(3.0))
    desk.team("support", lead_webhook_url=webhook.url)
    cid = desk.waiting()  # nobody on the desk: it waits
    desk.clock.advance(hours=1)
    report = desk.router.sweep()
    assert cid in report.escalated and report.notified and not report.notified[0].ok
    assert report.notified[0].error == "HTTP 500"


PARIS_OFFICE = {
    "timezone": "Europe/Paris",
    "weekly": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
}


def test_outside_hours_the_bot_keeps_helping_and_the_customer_is_first_at_opening(desk: Desk) -> None:
    from datetime import UTC, datetime

    desk.team("support", hours=PARIS_OFFICE)
    desk.agent("ann", capacity=1, teams=("support",), status="offline")
    desk.clock.now = datetime(2025, 3, 7, 19, 0, tzinfo=UTC)  # Friday 20:00 in Paris
    night = desk.conversation("where is my parcel? I want a person", language="fr")
    outcome = desk.hand_over(night, "explicit_request", 0.5, language="fr")
    assert outcome.state == "deferred" and outcome.status == ConversationStatus.BOT  # the bot keeps helping
    assert "lundi à 09:00" in outcome.text and "numéro de commande" in outcome.text
    assert desk.hand_over(night).state == "unchanged"  # asking again does not queue it twice
    desk.clock.now = datetime(2025, 3, 10, 7, 59, tzinfo=UTC)  # Monday 08:59
    assert desk.router.sweep().opened == []
    desk.clock.now = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)  # Monday 09:00: doors open
    urgent = desk.conversation("this is a disgrace")
    desk.hand_over(urgent, "public_complaint", 0.8)  # a fresh urgent one, handed over at opening
    assert desk.router.sweep().opened == [night]
    order = [item.conversation_id for item in desk.router.queue.listing()]
    assert order == [night, urgent]  # the overnight customer is first in line
    desk.router.set_status("ann", "online")
    assert status(desk, night) == ("human", "ann")


def test_a_flood_from_one_ip_cannot_push_a_verified_customer_down(desk: Desk) -> None:
    desk.team("support")
    abusive = "you are useless idiots, answer me NOW!!!"
    flood = []
    for _ in range(25):
        flood.append(desk.waiting(abusive, trigger="profanity", severity=0.9, ip="203.0.113.9"))
        desk.clock.advance(seconds=2)
    desk.clock.advance(minutes=1)
    polite = desk.waiting("Could I talk to a person, please?", user_id="emma_laurent_1001", ip="203.0.113.9")
    queue = desk.router.queue.listing(limit=100)
    assert queue[0].conversation_id == polite
    competing = [item for item in queue if item.conversation_id in flood and not item.held]
    assert len(competing) == 3  # the per-IP cap: three of the flood compete, each paying fair-share penalties
    held = [item for item in queue if item.held]
    assert len(held) == 22 and [i.conversation_id for i in queue[-22:]] == [i.conversation_id for i in held]
    # the first of the flood is still served: fairness, not a ban
    desk.agent("ann", capacity=2, teams=("support",))
    assert status(desk, polite)[1] == "ann" and status(desk, flood[0])[1] == "ann"


def test_priority_ageing_serves_an_old_polite_customer_before_new_urgent_ones(desk: Desk) -> None:
    desk.team("support")
    polite = desk.waiting("I want to talk to a person", ip="192.0.2.1", severity=0.5)
    desk.clock.advance(minutes=30)  # 30 minutes of ageing = +0.6
    urgent = desk.waiting("disgrace", ip="192.0.2.2", trigger="public_complaint", severity=0.8)
    assert [i.conversation_id for i in desk.router.queue.listing()] == [polite, urgent]


def test_ces_is_asked_at_close_answered_once_and_range_checked(desk: Desk) -> None:
    cid = desk.conversation("thanks")
    with pytest.raises(ConflictError, match="asked when the conversation is closed"):
        desk.router.feedback.answer(cid, 6)
    desk.router.close(cid, None)  # the customer ends the chat
    assert desk.router.feedback.question(cid)["ask"] is True
    with pytest.raises(InvalidError, match="1 to 7"):
        desk.router.feedback.answer(cid, 9)
    answered = desk.router.feedback.answer(cid, 6)
    assert answered["score"] == 6 and not answered["ask"]
    with pytest.raises(ConflictError, match="already answered"):
        desk.router.feedback.answer(cid, 2)
    assert desk.store.get(cid).ces_score == 6
    skipped = desk.conversation("bye")
    desk.router.close(skipped, None)
    assert desk.router.feedback.answer(skipped, None)["skipped"] is True


def test_clock_skew_never_gives_negative_waits(desk: Desk) -> None:
    desk.team("support")
    cid = desk.waiting()
    desk.clock.advance(seconds=-40)  # another worker whose clock is 40 s behind reads the queue
    item = desk.router.queue.listing()[0]
    assert item.conversation_id == cid and item.wait_seconds == 0
    status_now = desk.router.queue_status(cid)
    assert status_now.position == 1 and (status_now.expected_wait_s or 0) >= 0


def test_agents_outside_their_working_hours_get_nothing(desk: Desk) -> None:
    desk.team("support")
    desk.agent(
        "night", capacity=1, teams=("support",), hours={"timezone": "UTC", "weekly": {"mon": ["00:00-06:00"]}}
    )
    cid = desk.waiting()
    assert status(desk, cid) == ("waiting_for_human", None)


def test_directory_refusals(desk: Desk) -> None:
    desk.team("support")
    desk.agent("ann", capacity=1, teams=("support",))
    cid = desk.waiting()
    with pytest.raises(ConflictError, match="open conversations"):
        desk.router.directory.delete_team("support")
    with pytest.raises(ConflictError, match="still holds 1"):
        desk.router.directory.delete_agent("ann")
    with pytest.raises(InvalidError, match="online, away or offline"):
        desk.router.set_status("ann", "sleeping")
    with pytest.raises(NotFoundError):
        desk.router.set_status("ghost", "online")
    desk.router.close(cid, "ann")
    desk.router.directory.delete_agent("ann")
    desk.router.directory.delete_team("support")
    assert desk.router.directory.teams() == []


def test_events_record_the_decisions(desk: Desk) -> None:
    from sqlalchemy import select

    from assistant.routing.models import DeskEventRow

    desk.team("support")
    desk.agent("ann", capacity=1, teams=("support",))
    cid = desk.waiting("I want to return my boots")
    with desk.router.db.sessions() as session:
        kinds = [
            e.kind for e in session.scalars(select(DeskEventRow).where(DeskEventRow.conversation_id == cid))
        ]
        routed = session.scalars(
            select(DeskEventRow).where(DeskEventRow.kind == EventKind.ROUTED.value)
        ).one()
    assert kinds == ["routed", "assigned"]
    assert routed.data["topic"] == "returns" and routed.team_id == "support"
    conversation = desk.store.get(cid)
    assert (conversation.topic, conversation.stage, conversation.handovers) == ("returns", "pre_purchase", 1)


def test_a_failing_router_still_queues_the_customer(desk: Desk) -> None:
    from assistant.routing.router import route_or_queue

    class Broken:
        def hand_over(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("routing database unreachable")

    cid = desk.conversation("Je veux parler à quelqu'un", language="fr")
    status_now, text = route_or_queue(
        Broken(), desk.store, cid, {"takeover": True, "trigger": "explicit_request", "severity": 0.5}, "fr"
    )  # type: ignore[arg-type]
    assert status_now == ConversationStatus.WAITING_FOR_HUMAN
    assert desk.store.get(cid).status == ConversationStatus.WAITING_FOR_HUMAN
    assert text.startswith("Je suis désolé") and "membre de notre équipe" in text
