"""End to end through SupportService with the offline provider, on the real sample shop and help-centre index.

Every WRITE is checked in the database through ShopStore, before and after the customer's answer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from assistant.shop.generator import (
    DEMO_DELIVERED_ORDER_ID,
    DEMO_PENDING_ORDER_ID,
    DEMO_SECOND_DELIVERED_ORDER_ID,
    DEMO_SECOND_PENDING_ORDER_ID,
    DEMO_SECOND_USER_EMAIL,
    DEMO_SECOND_USER_ID,
    DEMO_USER_EMAIL,
    DEMO_USER_ID,
)
from tests.assistant.conftest import SampleDesk

pytestmark = pytest.mark.slow

NEW_ADDRESS = "12 Oak Road, Portland, OR 97210, USA"


def talk(service: Any, turns: list[str], user_id: str | None = None) -> list[Any]:
    conversation, _ = service.start_conversation(channel="test", user_id=user_id)
    return [service.customer_turn(conversation.id, text) for text in turns]


def order(desk: SampleDesk, order_id: str) -> Any:
    with desk.service.shop.transaction() as shop:
        return shop.get_order(order_id)


def user(desk: SampleDesk, user_id: str) -> Any:
    with desk.service.shop.transaction() as shop:
        return shop.get_user(user_id)


def calls(result: Any, name: str) -> list[dict[str, Any]]:
    return [c for c in result.tool_calls if c.name == name]


def test_order_status_after_signing_in_by_email(fresh_shop: SampleDesk) -> None:
    turns = [f"where is order {DEMO_DELIVERED_ORDER_ID}?", DEMO_USER_EMAIL]
    asked, answered = talk(fresh_shop.service, turns)
    assert "email" in asked.reply.lower()  # it asks who the customer is before looking anything up
    assert not any(c.name.startswith("get_order") for c in asked.tool_calls)
    assert [c.ok for c in calls(answered, "find_user_id_by_email")] == [True]
    assert DEMO_DELIVERED_ORDER_ID in answered.reply
    assert order(fresh_shop, DEMO_DELIVERED_ORDER_ID).status in answered.reply  # "delivered", from the DB
    assert fresh_shop.service.conversations.get(answered.conversation_id).user_id == DEMO_USER_ID


def test_cancel_asks_the_reason_lists_the_change_and_no_changes_nothing(fresh_shop: SampleDesk) -> None:
    why, listed, no = talk(
        fresh_shop.service,
        [f"I want to cancel order {DEMO_PENDING_ORDER_ID}", "I don't need it anymore", "no"],
        user_id=DEMO_USER_ID,
    )
    assert "why" in why.reply.lower() and why.awaiting_confirmation is None
    assert listed.awaiting_confirmation is not None
    action = listed.awaiting_confirmation["actions"][0]
    assert action["name"] == "cancel_pending_order"
    assert action["args"] == {"order_id": DEMO_PENDING_ORDER_ID, "reason": "no longer needed"}
    assert DEMO_PENDING_ORDER_ID in listed.reply and "yes" in listed.reply
    assert order(fresh_shop, DEMO_PENDING_ORDER_ID).status == "pending"  # listed, not done
    assert no.awaiting_confirmation is None
    assert [c.ok for c in calls(no, "cancel_pending_order")] == [False]
    assert order(fresh_shop, DEMO_PENDING_ORDER_ID).status == "pending"


def test_cancel_with_yes_cancels_and_tells_the_refund(fresh_shop: SampleDesk) -> None:
    _, listed, yes = talk(
        fresh_shop.service,
        [f"please cancel order {DEMO_PENDING_ORDER_ID}", "I ordered it by mistake", "yes"],
        user_id=DEMO_USER_ID,
    )
    assert listed.awaiting_confirmation["actions"][0]["args"]["reason"] == "ordered by mistake"
    cancelled = order(fresh_shop, DEMO_PENDING_ORDER_ID)
    assert cancelled.status == "cancelled"
    assert "refund" in yes.reply.lower() and "cancelled" in yes.reply.lower()
    # The WRITE shows in the trace of the turn in which it ran, with its result.
    (cancel,) = calls(yes, "cancel_pending_order")
    assert cancel.ok is True and cancel.output["status"] == "cancelled"


def test_return_of_a_delivered_item(fresh_shop: SampleDesk) -> None:
    before = order(fresh_shop, DEMO_DELIVERED_ORDER_ID)
    bottle = next(i for i in before.items if i.name == "Insulated Water Bottle")
    listed, yes = talk(
        fresh_shop.service,
        [f"I want to return the water bottle from order {DEMO_DELIVERED_ORDER_ID}", "yes please"],
        user_id=DEMO_USER_ID,
    )
    assert listed.awaiting_confirmation["actions"][0]["name"] == "return_delivered_order_items"
    assert "Insulated Water Bottle" in listed.reply
    after = order(fresh_shop, DEMO_DELIVERED_ORDER_ID)
    assert after.status == "return requested"
    assert after.return_items == [bottle.item_id]
    assert "return" in yes.reply.lower()


def test_exchange_for_another_colour_of_the_same_product(fresh_shop: SampleDesk) -> None:
    before = order(fresh_shop, DEMO_DELIVERED_ORDER_ID)
    bottle = next(i for i in before.items if i.name == "Insulated Water Bottle")
    listed, _ = talk(
        fresh_shop.service,
        [f"I'd like to exchange the water bottle in order {DEMO_DELIVERED_ORDER_ID} for the black one"]
        + ["yes"],
        user_id=DEMO_USER_ID,
    )
    args = listed.awaiting_confirmation["actions"][0]["args"]
    assert args["item_ids"] == [bottle.item_id]
    after = order(fresh_shop, DEMO_DELIVERED_ORDER_ID)
    assert after.status == "exchange requested"
    (new_item,) = after.exchange_new_items
    with fresh_shop.service.shop.transaction() as shop:
        product = shop.get_product_by_item_id(new_item)
    assert product.product_id == bottle.product_id and new_item != bottle.item_id
    assert product.variants[new_item].options["color"] == "black"


def test_shipping_address_of_a_pending_order(fresh_shop: SampleDesk) -> None:
    listed, yes = talk(
        fresh_shop.service,
        [f"I want to change the shipping address of order {DEMO_PENDING_ORDER_ID} to {NEW_ADDRESS}", "yes"],
        user_id=DEMO_USER_ID,
    )
    assert listed.awaiting_confirmation["actions"][0]["name"] == "modify_pending_order_address"
    address = order(fresh_shop, DEMO_PENDING_ORDER_ID).address
    assert (address.address1, address.city, address.state) == ("12 Oak Road", "Portland", "OR")
    assert address.zip == "97210"
    assert user(fresh_shop, DEMO_USER_ID).address.address1 != "12 Oak Road"  # only the order changed
    assert "12 Oak Road" in yes.reply


def test_default_address_of_the_customer(fresh_shop: SampleDesk) -> None:
    listed, _ = talk(
        fresh_shop.service, [f"change my default address to {NEW_ADDRESS}", "yes"], user_id=DEMO_USER_ID
    )
    assert listed.awaiting_confirmation["actions"][0]["name"] == "modify_user_address"
    address = user(fresh_shop, DEMO_USER_ID).address
    assert (address.address1, address.zip) == ("12 Oak Road", "97210")
    assert order(fresh_shop, DEMO_PENDING_ORDER_ID).address.address1 != "12 Oak Road"


def test_help_centre_question_is_answered_with_valid_citations(sample_desk: SampleDesk) -> None:
    from knowledge.index import HelpCenterIndex

    tokens: list[str] = []
    conversation, _ = sample_desk.service.start_conversation(channel="test")
    result = sample_desk.service.customer_turn(conversation.id, "how long does shipping take?", tokens.append)
    assert result.citations and not result.invalid_citations and not result.failed
    index = HelpCenterIndex(sample_desk.settings)
    for citation in result.citations:
        assert f"[{citation.ref}]" in result.reply
        assert index.get_article(citation.article_id), citation  # a real article of the index
        if not citation.article_id.startswith("faq-"):  # a row of faq.csv has no page of its own
            assert citation.url == f"https://help.mapleandmoss.example/articles/{citation.article_id}"
    assert "shipping-times" in {c.article_id for c in result.citations}
    assert "".join(tokens).strip() == result.reply.strip()  # the reply was streamed token by token


def test_a_rule_question_that_sounds_like_an_action_is_answered_then_offered(fresh_shop: SampleDesk) -> None:
    # "can I cancel just one item" reads as a cancellation to the intent model; the customer wants the rule.
    answered, signed_in = talk(
        fresh_shop.service, ["can I cancel just one item from my order?", DEMO_USER_EMAIL]
    )
    assert answered.citations and not answered.failed
    assert "cancel-order" in {c.article_id for c in answered.citations}
    assert "email" in answered.reply.lower()  # ...and how to get it done, in the same reply
    assert not calls(answered, "find_user_id_by_email") and not calls(answered, "get_user_details")
    # The email that follows continues the cancellation: verified, then the customer's orders are looked up.
    assert [c.ok for c in calls(signed_in, "find_user_id_by_email")] == [True]
    assert calls(signed_in, "get_user_details")


def test_an_action_with_an_order_id_asks_who_you_are_without_a_lecture(fresh_shop: SampleDesk) -> None:
    (asked,) = talk(fresh_shop.service, [f"cancel {DEMO_PENDING_ORDER_ID}, I ordered it by mistake"])
    assert not calls(asked, "search_help_center") and asked.citations == []
    assert "email" in asked.reply.lower()


def test_details_given_between_restatements_of_a_request_are_kept(fresh_shop: SampleDesk) -> None:
    # The reason comes last and sounds like a new cancellation; the order id given before it must stay.
    *_, listed = talk(
        fresh_shop.service,
        ["I need to cancel an order", DEMO_USER_EMAIL, DEMO_PENDING_ORDER_ID, "I ordered it by mistake"],
    )
    assert listed.awaiting_confirmation is not None
    action = listed.awaiting_confirmation["actions"][0]
    assert action["name"] == "cancel_pending_order"
    assert action["args"] == {"order_id": DEMO_PENDING_ORDER_ID, "reason": "ordered by mistake"}


def test_product_question_is_answered_from_the_catalogue(sample_desk: SampleDesk) -> None:
    (options,) = talk(sample_desk.service, ["What colours does the Trail Backpack come in?"])
    [details] = calls(options, "get_product_details")
    with sample_desk.service.shop.transaction() as shop:
        product = shop.get_product(details.arguments["product_id"])
    assert product.name == "Trail Backpack"
    in_stock = {v.options["color"] for v in product.variants.values() if v.available}
    assert in_stock and all(colour in options.reply for colour in in_stock)
    sold_out_only = {v.options["color"] for v in product.variants.values()} - in_stock
    assert not any(f" {colour}," in options.reply for colour in sold_out_only)

    (asked,) = talk(sample_desk.service, ["Is the Trail Backpack available in rust?"])
    rust_in_stock = any(v.available and v.options["color"] == "rust" for v in product.variants.values())
    assert ("Yes" in asked.reply) is rust_in_stock and "rust" in asked.reply


def test_unanswerable_question_says_so_and_offers_a_person(sample_desk: SampleDesk) -> None:
    (result,) = talk(sample_desk.service, ["what's the name of your CEO's cat?"])
    assert result.citations == []
    assert "couldn't find" in result.reply.lower() or "don't know" in result.reply.lower()
    assert "person" in result.reply.lower()
    assert result.failed


def test_exchange_on_a_pending_order_modifies_its_items(fresh_shop: SampleDesk) -> None:
    # Customers say "exchange" for both; a pending order's items are modified, not exchanged.
    pending = order(fresh_shop, DEMO_PENDING_ORDER_ID)
    assert pending.status == "pending"
    with fresh_shop.service.shop.transaction() as shop:
        backpack = next(i for i in pending.items if i.name == "Trail Backpack")
        product = shop.get_product(backpack.product_id)
    colour = next(
        v.options["color"]
        for v in product.variants.values()
        if v.available
        and v.options["color"] != backpack.options["color"]
        and all(v.options[k] == backpack.options[k] for k in backpack.options if k != "color")
    )
    (listed,) = talk(
        fresh_shop.service,
        [f"I'd like to exchange the Trail Backpack in order {DEMO_PENDING_ORDER_ID} for the {colour} one"],
        user_id=DEMO_USER_ID,
    )
    assert listed.awaiting_confirmation is not None, listed.reply
    action = listed.awaiting_confirmation["actions"][0]
    assert action["name"] == "modify_pending_order_items"
    assert action["args"]["item_ids"] == [backpack.item_id]


def test_yes_to_the_offer_of_a_person_hands_over(fresh_shop: SampleDesk) -> None:
    unknown, yes = talk(fresh_shop.service, ["what's the name of your CEO's cat?", "yes"])
    assert unknown.failed and "person" in unknown.reply.lower()
    assert [c.ok for c in calls(yes, "transfer_to_human_agents")] == [True]
    assert yes.status == "waiting_for_human" and yes.handover
    assert not calls(yes, "search_help_center")


def test_a_bare_yes_with_nothing_pending_is_not_searched(sample_desk: SampleDesk) -> None:
    _, yes = talk(sample_desk.service, ["how long does shipping take?", "yes"])
    assert not yes.tool_calls and not yes.failed
    assert "nothing waiting" in yes.reply.lower()


def test_an_email_in_front_of_the_request_is_verified_and_the_request_done(fresh_shop: SampleDesk) -> None:
    (listed,) = talk(
        fresh_shop.service, [f"{DEMO_USER_EMAIL} - please cancel {DEMO_PENDING_ORDER_ID}, ordered by mistake"]
    )
    assert listed.awaiting_confirmation is not None
    assert listed.awaiting_confirmation["actions"][0]["args"] == {
        "order_id": DEMO_PENDING_ORDER_ID,
        "reason": "ordered by mistake",
    }


def test_another_customers_order_is_refused_like_an_unknown_one(fresh_shop: SampleDesk) -> None:
    lucas = user(fresh_shop, DEMO_SECOND_USER_ID)
    lucas_order = order(fresh_shop, DEMO_SECOND_DELIVERED_ORDER_ID)
    secrets = {
        DEMO_SECOND_USER_ID,
        DEMO_SECOND_USER_EMAIL,
        lucas.address.address1,
        *(i.item_id for i in lucas_order.items),
        *(m for m in lucas.payment_methods),
    }
    probes = {
        DEMO_SECOND_DELIVERED_ORDER_ID: "#W9999999",
        DEMO_SECOND_PENDING_ORDER_ID: "#W9999998",
    }
    for theirs, unknown in probes.items():
        for template in ("where is order {}?", "cancel order {}", "I want to return order {}"):
            (probe,) = talk(fresh_shop.service, [template.format(theirs)], user_id=DEMO_USER_ID)
            (control,) = talk(fresh_shop.service, [template.format(unknown)], user_id=DEMO_USER_ID)
            assert probe.reply.replace(theirs, "#ID") == control.reply.replace(unknown, "#ID")
            assert probe.awaiting_confirmation is None
            seen = json.dumps([probe.reply, probe.tool_calls], default=str)
            assert not [s for s in secrets if s in seen]
            normalised = [(c.name, c.ok, c.error) for c in probe.tool_calls]
            assert normalised == [(c.name, c.ok, c.error) for c in control.tool_calls]
    assert order(fresh_shop, DEMO_SECOND_PENDING_ORDER_ID).status == "pending"


def test_pending_confirmation_survives_a_restart(fresh_shop: SampleDesk) -> None:
    from assistant.service import SupportService

    conversation, _ = fresh_shop.service.start_conversation(channel="test", user_id=DEMO_USER_ID)
    fresh_shop.service.customer_turn(conversation.id, f"cancel order {DEMO_PENDING_ORDER_ID}")
    listed = fresh_shop.service.customer_turn(conversation.id, "no longer needed")
    assert listed.awaiting_confirmation is not None
    restarted = SupportService(fresh_shop.settings)  # a new process would build exactly this
    yes = restarted.customer_turn(conversation.id, "yes")
    assert [c.ok for c in calls(yes, "cancel_pending_order")] == [True]
    assert order(fresh_shop, DEMO_PENDING_ORDER_ID).status == "cancelled"


@pytest.mark.parametrize("answer", ["yes but wait, is it refunded?", "maybe", "how long does shipping take?"])
def test_a_write_never_runs_without_an_explicit_yes(fresh_shop: SampleDesk, answer: str) -> None:
    conversation, _ = fresh_shop.service.start_conversation(channel="test", user_id=DEMO_USER_ID)
    for text in (f"cancel order {DEMO_PENDING_ORDER_ID}", "no longer needed"):
        result = fresh_shop.service.customer_turn(conversation.id, text)
    assert result.awaiting_confirmation is not None
    other = fresh_shop.service.customer_turn(conversation.id, answer)
    assert not [c for c in calls(other, "cancel_pending_order") if c.ok]
    assert order(fresh_shop, DEMO_PENDING_ORDER_ID).status == "pending"
    # The listed change was dropped: a later bare "yes" confirms nothing.
    if other.awaiting_confirmation is None:
        late = fresh_shop.service.customer_turn(conversation.id, "yes")
        assert not [c for c in calls(late, "cancel_pending_order") if c.ok]
        assert order(fresh_shop, DEMO_PENDING_ORDER_ID).status == "pending"


def test_a_turn_writes_one_checkpoint_of_its_thread(fresh_shop: SampleDesk) -> None:
    """The thread is saved when a run stops, not after every step (agent_thread.run_agent: durability exit).
    A step's checkpoint cost more CPU than the offline planner's step (docs/benchmarks.md)."""
    service = fresh_shop.service
    conversation, _ = service.start_conversation(channel="test")
    config = {"configurable": {"thread_id": conversation.id}}
    texts = [
        "how long does shipping take?",
        "and how long do refunds take?",
        f"where is order {DEMO_DELIVERED_ORDER_ID}?",
    ]
    for turns, text in enumerate(texts, start=1):
        result = service.customer_turn(conversation.id, text)
        assert result.reply
        assert len(list(service.parts.agent.checkpointer.list(config))) == turns
    # The thread still holds the whole conversation for the next run.
    messages = service.parts.agent.get_state(config).values["messages"]
    assert [m.content for m in messages if m.type == "human"] == texts
