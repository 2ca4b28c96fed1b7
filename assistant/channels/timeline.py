"""One contact, one timeline: every conversation on every channel, merged in time, with delivery states;
and an agent's reply on the channel the customer last used (or one the agent picks)."""

from __future__ import annotations

from typing import Any

from assistant.channels.outbox import Outbox
from assistant.channels.registry import IDENTITY_KIND, configured_channels
from assistant.contacts.store import Contact, ContactStore
from assistant.desk import AgentDesk
from assistant.store.conversations import Conversation, ConversationConflict
from assistant.store.models import ConversationStatus, MessageRole

MAX_CONVERSATIONS = 50


class ReplyError(ValueError):
    """The reply cannot go out on that channel (no identity there, unknown channel)."""


def contact_dict(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.id,
        "display_name": contact.display_name,
        "user_id": contact.user_id,
        "identities": [
            {"id": i.id, "kind": i.kind, "value": i.value, "proof": i.proof, "display_name": i.display_name}
            for i in contact.identities
        ],
    }


def timeline(desk: AgentDesk, contacts: ContactStore, outbox: Outbox, contact_id: str) -> dict[str, Any]:
    contact = contacts.get(contact_id)
    store = desk.store
    conversations = contacts.conversations(contact.id, limit=MAX_CONVERSATIONS)
    deliveries = {
        (d.conversation_id, d.message_seq): d
        for d in outbox.list(conversation_ids=[c.id for c in conversations], limit=2000)
    }
    entries: list[dict[str, Any]] = []
    for conversation in conversations:
        for message in store.messages(conversation.id):
            delivery = deliveries.get((conversation.id, message.seq))
            entries.append(
                {
                    "conversation_id": conversation.id,
                    "channel": conversation.channel,
                    "seq": message.seq,
                    "role": message.role.value,
                    "author": message.author,
                    "text": message.text,
                    "citations": message.citations,
                    "created_at": message.created_at.isoformat(),
                    "delivery": delivery.as_dict() if delivery is not None else None,
                }
            )
    entries.sort(key=lambda e: (e["created_at"], e["seq"]))
    customer = [e for e in entries if e["role"] == MessageRole.CUSTOMER.value]
    last_used = customer[-1]["channel"] if customer else (conversations[0].channel if conversations else None)
    kinds = {i.kind for i in contact.identities}
    available = [c for c in configured_channels(desk.service.settings) if IDENTITY_KIND[c] in kinds]
    return {
        "contact": contact_dict(contact),
        "conversations": [
            {
                **c.model_dump(mode="json"),
                "summary": desk.summary(c) if c.takeover else None,
            }
            for c in conversations
        ],
        "entries": entries,
        "last_used_channel": last_used,
        "reply_channels": available,
        "undelivered": [d.as_dict() for d in deliveries.values() if d.status == "undelivered"],
    }


def _target_conversation(
    desk: AgentDesk, contacts: ContactStore, contact: Contact, channel: str
) -> Conversation:
    """The contact's open conversation on `channel`, or a new one with its identity there."""
    for conversation in contacts.conversations(contact.id, limit=MAX_CONVERSATIONS):
        if conversation.channel == channel and conversation.status != ConversationStatus.CLOSED:
            return conversation
    kind = IDENTITY_KIND.get(channel)
    identity = next((i for i in contact.identities if i.kind == kind), None)
    if identity is None:
        raise ReplyError(f"this contact has no {kind} identity to reply to on {channel}")
    conversation, _ = desk.store.create_conversation(
        channel=channel, contact_id=contact.id, identity_id=identity.id
    )
    return conversation


def agent_reply(
    desk: AgentDesk,
    contacts: ContactStore,
    outbox: Outbox,
    contact_id: str,
    agent: str,
    text: str,
    channel: str | None = None,
) -> dict[str, Any]:
    """Send `text` on `channel` (default: the channel the customer last used). The agent takes the
    conversation there; the latest handover summary goes with it when it came from another conversation."""
    contact = contacts.get(contact_id)
    view = timeline(desk, contacts, outbox, contact_id)
    channel = channel or view["last_used_channel"]
    if channel not in IDENTITY_KIND:
        raise ReplyError(f"unknown channel {channel!r}")
    if channel not in configured_channels(desk.service.settings):
        raise ReplyError(f"the {channel} channel is not configured on this deployment")
    target = _target_conversation(desk, contacts, contact, channel)
    if target.status != ConversationStatus.HUMAN or target.assigned_agent != agent:
        if target.assigned_agent not in (None, agent):
            raise ConversationConflict(f"the {channel} conversation is owned by {target.assigned_agent}")
        desk.claim(target.id, agent)
    handed = next((c for c in view["conversations"] if c["summary"] and c["id"] != target.id), None)
    if handed is not None and target.takeover is None:
        desk.store.add_message(
            target.id,
            MessageRole.SYSTEM,
            f"Handover from {handed['channel']} conversation {handed['id'][:8]}: {handed['summary']}",
        )
    message = desk.send(target.id, agent, text)
    identity = next((i for i in contact.identities if i.id == target.identity_id), None)
    delivery_id = None
    if channel != "widget" and identity is not None:
        delivery_id = outbox.enqueue(target.id, message.seq, channel, identity.value, None)
    return {
        "conversation_id": target.id,
        "channel": channel,
        "message": message.model_dump(mode="json"),
        "delivery_id": delivery_id,
    }
