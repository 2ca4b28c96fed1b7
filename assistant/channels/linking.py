"""Linking a new channel to a known person, in the chat, with a one-time code sent to the other channel.

A message from an unproven identity (a phone, WhatsApp or API sender, or an email sender: a From header proves
nothing) that names an email address gets the same answer
whether or not that address is known ("if it is one of ours, a code is on its way"), so the chat is no
oracle for who is a customer. When the address belongs to a contact or a shop account, a code goes there by
email. The code typed back in this chat proves that whoever writes here reads that mailbox: the identity
joins that contact with proof `otp`, and when the address is a shop account's email on file, the contact is
that shop user (so this chat is signed in). A wrong code counts against the attempt limit.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from assistant.channels.base import DeliveryError, OutboundMessage
from assistant.contacts.identities import InvalidIdentity, inbound_proof, mask, normalise_email
from assistant.contacts.memory import ContactMemory
from assistant.contacts.store import ContactConflict, ContactStore, Identity
from assistant.identity.otp import OneTimeCodes, OtpRateLimited
from assistant.store.conversations import Conversation

log = logging.getLogger(__name__)
PURPOSE = "link"
LINKABLE_KINDS = ("email", "phone", "whatsapp", "api")
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
ORDER_IN_TEXT = re.compile(r"#?\b[Ww]\d{7}\b")
CODE_MESSAGE = re.compile(r"^\D{0,20}(\d[\d\s-]{4,9}\d)\D{0,5}$")


@dataclass(frozen=True)
class LinkOutcome:
    reply: str
    linked: bool = False
    user_id: str | None = None


def target_of(identity: Identity, email: str) -> str:
    return f"{identity.kind}:{identity.value}>email:{email}"


def typed_code(text: str) -> str | None:
    """The code in a short message that is only a code ("123456", "code: 123 456")."""
    match = CODE_MESSAGE.match(text.strip())
    if not match:
        return None
    digits = "".join(ch for ch in match.group(1) if ch.isdigit())
    return digits if len(digits) == 6 else None


class Linker:
    def __init__(
        self,
        contacts: ContactStore,
        codes: OneTimeCodes,
        memory: ContactMemory,
        shop: Any,
        send_email: Any,
        shop_name: str,
    ) -> None:
        self.contacts = contacts
        self.codes = codes
        self.memory = memory
        self.shop = shop
        self.send_email = send_email  # (address, OutboundMessage) -> Delivered
        self.shop_name = shop_name

    def _shop_user(self, email: str) -> tuple[str | None, str | None]:
        with self.shop.transaction() as shop:
            ids = shop.find_user_ids_by_email(email)
            if len(ids) != 1:
                return None, None
            user = shop.get_user(ids[0])
            first = user.name.first_name if user is not None else None
            return ids[0], first

    def handle(self, identity: Identity, conversation: Conversation, text: str) -> LinkOutcome | None:
        """A reply of the linking flow, or None when this message is for the bot."""
        if identity.kind not in LINKABLE_KINDS or conversation.user_id:
            return None  # signed in already (a token, or a code typed in this conversation)
        if inbound_proof(identity.kind, identity.proof) in ("otp", "token"):
            return None
        code = typed_code(text)
        pending = self.codes.latest_target(PURPOSE, f"{identity.kind}:{identity.value}>")
        if code and pending:
            return self._confirm(identity, conversation, pending, code)
        found = EMAIL_IN_TEXT.search(text)
        if found is None:
            if identity.kind == "email" and ORDER_IN_TEXT.search(text) and self._shop_user(identity.value)[0]:
                # Pre-fill: the From address is an account's email; a code sent there proves the sender.
                return self._offer(identity, identity.value)
            return None
        try:
            email = normalise_email(found.group(0))
        except InvalidIdentity:
            return None
        return self._offer(identity, email)

    def _offer(self, identity: Identity, email: str) -> LinkOutcome:
        reply = (
            f"To continue with your earlier conversations and your {self.shop_name} account here, I need to "
            f"check this is you: if {mask('email', email)} is one of our customers' addresses, a 6-digit "
            "code is on its way to it. Please send me the code here."
        )
        known = self.contacts.find("email", email) is not None or self._shop_user(email)[0] is not None
        if not known:
            return LinkOutcome(reply)
        message = OutboundMessage(
            text=(
                f"Your {self.shop_name} code is {{code}}. Type it in the chat to link it with this email "
                "address. It expires in 10 minutes. If you did not ask for it, ignore this message."
            ),
            subject=f"Your {self.shop_name} verification code",
            automated=True,
        )

        def deliver(code: str) -> None:
            self.send_email(
                email, OutboundMessage(**{**message.__dict__, "text": message.text.format(code=code)})
            )

        try:
            self.codes.issue(PURPOSE, target_of(identity, email), deliver)
        except OtpRateLimited:
            return LinkOutcome(
                "Too many codes were sent to that address lately; please try again in an hour."
            )
        except DeliveryError as exc:
            log.warning("link code not sent: %s", exc)
            return LinkOutcome("I could not send a code right now; please try again in a few minutes.")
        return LinkOutcome(reply)

    def _confirm(self, identity: Identity, conversation: Conversation, target: str, code: str) -> LinkOutcome:
        result = self.codes.verify(PURPOSE, target, code)
        if not result.ok:
            if result.reason == "wrong_code":
                return LinkOutcome(f"That code is not right. {result.attempts_left} attempt(s) left.")
            return LinkOutcome(
                "That code can no longer be used. Send your email address again for a new one."
            )
        email = target.split(">email:", 1)[1]
        email_identity = self.contacts.resolve("email", email)
        user_id, first_name = self._shop_user(email)
        try:
            # Typing the code proves control of the mailbox: the address is proven too.
            self.contacts.prove(email_identity.id, "otp", user_id=user_id)
            linked = self.contacts.link(identity.id, email_identity.contact_id, "otp")
        except ContactConflict as exc:
            return LinkOutcome(f"I could not link this chat: {exc}. A person will look at it.")
        name = first_name or self.contacts.get(linked.contact_id).display_name
        refreshed = conversation.model_copy(
            update={"contact_id": linked.contact_id, "identity_id": linked.id}
        )
        earlier = self.memory.recall(refreshed)
        lines = [
            f"Thank you{', ' + name if name else ''}: this chat is now linked to your earlier conversations."
        ]
        for item in earlier.open_requests[-2:]:
            lines.append(
                f'On {item.channel} ({item.when}) you wrote: "{item.requests[-1]}"'
                + (f" (order {', '.join(item.order_ids)})" if item.order_ids else "")
                + ". I'm picking it up from there."
            )
        held = self._held_request(conversation)
        if held:
            lines.append(f'You asked here: "{held}". Shall I carry on with it?')
        elif not earlier.open_requests:
            lines.append("How can I help?")
        return LinkOutcome(" ".join(lines), linked=True, user_id=user_id)

    def _held_request(self, conversation: Conversation) -> str | None:
        """The customer's last request in this conversation before the code exchange (the bot has not
        answered it yet: it waited for the proof)."""
        from assistant.store.models import MessageRole

        texts = [
            m.text
            for m in self.memory.conversations.messages(conversation.id)
            if m.role == MessageRole.CUSTOMER
            and typed_code(m.text) is None
            and not EMAIL_IN_TEXT.fullmatch(m.text.strip())
        ]
        return texts[-1][:300] if texts and ORDER_IN_TEXT.search(texts[-1]) else None
