"""The contact store on a real database: resolve, prove, link (conversations follow), split undoes it."""

from __future__ import annotations

import pytest

from assistant.contacts.store import ContactConflict, ContactStore
from assistant.store.conversations import ConversationStore
from knowledge.settings import Settings


@pytest.fixture
def stores(settings: Settings) -> tuple[ContactStore, ConversationStore]:
    conversations = ConversationStore(str(settings.database_url))
    conversations.migrate()
    return ContactStore(str(settings.database_url)), conversations


def test_resolve_is_idempotent_and_normalised(stores: tuple[ContactStore, ConversationStore]) -> None:
    contacts, _ = stores
    first = contacts.resolve("email", "Emma <EMMA@example.com>", "Emma")
    again = contacts.resolve("email", "emma@example.com")
    assert first.id == again.id and first.proof == "none"
    other = contacts.resolve("whatsapp", "15551230000")
    assert other.contact_id != first.contact_id  # a new identity is a new person until proven otherwise


def test_link_moves_conversations_and_split_undoes_it(stores: tuple[ContactStore, ConversationStore]) -> None:
    contacts, conversations = stores
    email = contacts.resolve("email", "emma@example.com")
    phone = contacts.resolve("whatsapp", "+15551230001")
    old_contact = phone.contact_id
    chat, _ = conversations.create_conversation("whatsapp", contact_id=phone.contact_id, identity_id=phone.id)
    linked = contacts.link(phone.id, email.contact_id, "otp")
    assert linked.contact_id == email.contact_id and linked.proof == "otp"
    assert conversations.get(chat.id).contact_id == email.contact_id
    assert {i.kind for i in contacts.get(email.contact_id).identities} == {"email", "whatsapp"}
    assert contacts.list_contacts(query="5551230001")[0].id == email.contact_id
    assert old_contact not in [c.id for c in contacts.list_contacts()]  # the empty contact is gone

    split = contacts.split(phone.id)
    assert [i.id for i in split.identities] == [phone.id]
    assert split.identities[0].proof == "none"  # its proof was a proof of belonging to the other contact
    assert conversations.get(chat.id).contact_id == split.id
    assert [i.kind for i in contacts.get(email.contact_id).identities] == ["email"]


def test_split_of_the_only_identity_is_refused(stores: tuple[ContactStore, ConversationStore]) -> None:
    contacts, _ = stores
    alone = contacts.resolve("phone", "+15551230002")
    with pytest.raises(ContactConflict):
        contacts.split(alone.id)


def test_two_shop_accounts_are_never_merged(stores: tuple[ContactStore, ConversationStore]) -> None:
    contacts, _ = stores
    a = contacts.prove(contacts.resolve("widget", "user_a").id, "token", user_id="user_a")
    b = contacts.prove(contacts.resolve("widget", "user_b").id, "token", user_id="user_b")
    with pytest.raises(ContactConflict):
        contacts.link(a.id, b.contact_id, "agent")
    with pytest.raises(ContactConflict):
        contacts.prove(a.id, "otp", user_id="user_b")


def test_widget_sign_in_joins_the_shop_users_contact(stores: tuple[ContactStore, ConversationStore]) -> None:
    contacts, conversations = stores
    email = contacts.resolve("email", "emma@example.com")
    contacts.prove(email.id, "otp", user_id="emma_1")
    chat, _ = conversations.create_conversation("widget", user_id="emma_1")
    signed = contacts.sign_in_widget(chat, "emma_1")
    assert signed.contact_id == email.contact_id
    widget = contacts.find("widget", "emma_1")
    assert widget is not None and widget.proof == "token"
    assert conversations.get(chat.id).identity_id == widget.id
