"""Memory across channels: what a contact's recent conversations on other channels tell the bot and agents.

`ContactMemory.recall(conversation)` gathers, from the contact's recent other conversations that this
identity may recall (`identities.may_recall` / `memory_scope`): the open requests in the customer's own
words, the orders discussed, what the bot or an agent last told them (what was promised), the changes made,
and the last handover reason. `notes(...)` turns that into messages for the agent, once per conversation:

- a SystemMessage starting with MEMORY_MARKER: a readable summary followed by one JSON line of facts
  (`{"conversations": [{"channel", "when", "open", "requests", "order_ids", "last_reply", "done",
  "handover_reason"}], "name": ...}`) that a planner can read;
- the customer's own words of each still-open request, as HumanMessages named `earlier_<channel>`, so a
  planner that reads customer messages for details (order ids, reasons) never asks for them again.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant.contacts.identities import inbound_proof, may_recall, memory_scope
from assistant.contacts.store import ContactNotFound, ContactStore, Identity
from assistant.store.conversations import Conversation, ConversationStore, Message
from assistant.store.models import ConversationStatus, MessageRole

MEMORY_MARKER = "Earlier conversations with this customer on other channels:"
ORDER_ID_RE = re.compile(r"#?\b[Ww](\d{7})\b")
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
MAX_REQUEST_CHARS = 300
MAX_OPEN_MESSAGES = 3
HELD_CHANNELS = ("email", "whatsapp", "sms", "api")  # channels where the linking flow may hold a message


@dataclass
class Recalled:
    conversation_id: str
    channel: str
    when: str
    open: bool
    requests: list[str] = field(default_factory=list)
    order_ids: list[str] = field(default_factory=list)
    last_reply: str | None = None
    done: list[str] = field(default_factory=list)
    handover_reason: str | None = None


@dataclass
class Memory:
    name: str | None
    conversations: list[Recalled]

    @property
    def empty(self) -> bool:
        return not self.conversations

    def summary(self) -> str:
        """A few lines for people and models: one per earlier conversation."""
        lines = []
        for c in self.conversations:
            state = "open" if c.open else "closed"
            parts = [f"{c.when} on {c.channel} ({state})"]
            if c.requests:
                parts.append('asked: "' + " / ".join(c.requests) + '"')
            if c.order_ids:
                parts.append("orders " + ", ".join(c.order_ids))
            if c.done:
                parts.append("done: " + "; ".join(c.done))
            if c.last_reply:
                parts.append(f'last told: "{c.last_reply}"')
            if c.handover_reason:
                parts.append(f"handed over because: {c.handover_reason}")
            lines.append("- " + "; ".join(parts))
        return "\n".join(lines)

    def facts(self) -> dict[str, Any]:
        return {"name": self.name, "conversations": [asdict(c) for c in self.conversations]}

    @property
    def open_requests(self) -> list[Recalled]:
        return [c for c in self.conversations if c.open and c.requests]


def _clip(text: str, limit: int = MAX_REQUEST_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def order_ids(texts: list[str]) -> list[str]:
    found: list[str] = []
    for text in texts:
        for digits in ORDER_ID_RE.findall(text):
            if f"#W{digits}" not in found:
                found.append(f"#W{digits}")
    return found


def is_code(text: str) -> bool:
    """A message that is only a one-time code (not a request worth recalling)."""
    compact = text.strip().replace(" ", "").replace("-", "")
    return compact.isdigit() and len(compact) <= 12


def recall_conversation(conversation: Conversation, messages: list[Message]) -> Recalled | None:
    """What one earlier conversation tells: pure, from its messages and takeover record."""
    customer = [
        m for m in messages if m.role == MessageRole.CUSTOMER and m.text.strip() and not is_code(m.text)
    ]
    if not customer:
        return None
    writes = [
        (m.seq, t)
        for m in messages
        if m.role == MessageRole.BOT
        for t in m.tool_calls
        if t.kind == "write" and t.ok
    ]
    last_write_seq = max((seq for seq, _ in writes), default=0)
    # What the customer asked after the last change that was made is still open.
    still_open = [m for m in customer if m.seq > last_write_seq]
    is_open = bool(still_open) and conversation.status != ConversationStatus.CLOSED
    requests = still_open[-MAX_OPEN_MESSAGES:] if is_open else customer[:1]
    replies = [m for m in messages if m.role in (MessageRole.BOT, MessageRole.AGENT) and m.text.strip()]
    texts = [m.text for m in customer] + [m.text for m in replies]
    takeover = conversation.takeover or {}
    return Recalled(
        conversation_id=conversation.id,
        channel=conversation.channel,
        when=conversation.created_at.astimezone(UTC).strftime("%Y-%m-%d"),
        open=is_open,
        requests=[_clip(m.text) for m in requests],
        order_ids=order_ids(texts),
        last_reply=_clip(replies[-1].text, 200) if replies else None,
        done=[t.call_text() for _, t in writes],
        handover_reason=str(takeover.get("reason") or takeover.get("trigger") or "") or None,
    )


class ContactMemory:
    """Reads a contact's history for the bot (notes) and for agents (summary); writes nothing."""

    def __init__(
        self, contacts: ContactStore, conversations: ConversationStore, days: int = 30, limit: int = 5
    ):
        self.contacts = contacts
        self.conversations = conversations
        self.days = days
        self.limit = limit

    def recall(self, conversation: Conversation) -> Memory:
        if conversation.contact_id is None or conversation.identity_id is None:
            return Memory(None, [])
        try:
            identity = self.contacts.identity(conversation.identity_id)
            contact = self.contacts.get(conversation.contact_id)
        except ContactNotFound:
            return Memory(None, [])
        if identity.contact_id != contact.id:
            return Memory(None, [])  # split since: this conversation no longer belongs to that contact
        proof = inbound_proof(identity.kind, identity.proof)
        if conversation.user_id and proof == "none":
            proof = "otp"  # this conversation itself was signed in (a code typed back in it)
        scope_identity = None if memory_scope(proof) == "contact" else identity.id
        since = datetime.now(UTC) - timedelta(days=self.days)
        recalled: list[Recalled] = []
        for other in self.contacts.conversations(
            contact.id, identity_id=scope_identity, limit=self.limit * 4
        ):
            if other.id == conversation.id or other.created_at < since:
                continue
            if not may_recall(proof, other.user_id):
                continue
            item = recall_conversation(other, self.conversations.messages(other.id))
            if item is not None:
                recalled.append(item)
            if len(recalled) >= self.limit:
                break
        recalled.reverse()  # oldest first, as the story happened
        name = contact.display_name if recalled or proof != "none" else None
        return Memory(name, recalled)

    def notes(self, conversation: Conversation, thread: list[BaseMessage]) -> list[BaseMessage]:
        """The memory as messages for the agent, once per conversation ([] when it was given already), and
        this conversation's own customer messages that the agent never saw (held while the customer proved
        who they are on a channel)."""
        held = self.held_messages(conversation, thread)
        if any(isinstance(m, SystemMessage) and MEMORY_MARKER in str(m.content) for m in thread):
            return held
        memory = self.recall(conversation)
        return held if memory.empty else [*memory_messages(memory), *held]

    def held_messages(self, conversation: Conversation, thread: list[BaseMessage]) -> list[BaseMessage]:
        if conversation.channel not in HELD_CHANNELS:
            return []
        seen = {str(m.content) for m in thread if isinstance(m, HumanMessage)}
        customer = [m for m in self.conversations.messages(conversation.id) if m.role == MessageRole.CUSTOMER]
        return [
            HumanMessage(m.text, name="held")
            for m in customer[:-1]  # the last one is the message of this turn
            # Never an address (a request to link, answered by the code flow: replaying it would let a
            # chat planner sign in by knowing an email) and never a code.
            if m.text not in seen
            and not m.text.strip().replace(" ", "").isdigit()
            and not EMAIL_RE.search(m.text)
        ]

    def summary(self, conversation: Conversation) -> str:
        """One line for agents' handover summaries ("" when there is nothing to recall)."""
        memory = self.recall(conversation)
        if memory.empty:
            return ""
        parts = [
            f"{c.when} on {c.channel}: "
            + (" / ".join(c.requests) or "(no request)")
            + (f" [handed over: {c.handover_reason}]" if c.handover_reason else "")
            for c in memory.conversations
        ]
        return "Earlier on other channels: " + "; ".join(parts)


def memory_messages(memory: Memory) -> list[BaseMessage]:
    text = f"{MEMORY_MARKER}\n{memory.summary()}\nFACTS {json.dumps(memory.facts(), ensure_ascii=False)}"
    notes: list[BaseMessage] = [SystemMessage(text)]
    for item in memory.open_requests:
        for request in item.requests:
            notes.append(HumanMessage(request, name=f"earlier_{item.channel}"))
    return notes


def identity_label(identity: Identity) -> str:
    return f"{identity.kind}:{identity.value}"
