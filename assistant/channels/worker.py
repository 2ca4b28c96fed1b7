"""The channel worker (`parley worker`): inbound messages -> turns, bot and agent messages -> deliveries.

Webhooks only verify and store; this worker does the rest, so a slow model never makes a provider retry.
Any number of workers may run: each inbound message and each delivery is claimed by one of them, and the
mailbox poller runs in exactly one (a lease in the database).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from assistant.channels.answers import answer_url
from assistant.channels.base import UNSUPPORTED_REPLY, DeliveryError, OutboundMessage
from assistant.channels.inbox import InboundRecord, Inbox
from assistant.channels.leases import Leases
from assistant.channels.linking import Linker
from assistant.channels.outbox import Delivery, Outbox
from assistant.channels.registry import adapter
from assistant.channels.threads import Threads
from assistant.contacts.identities import InvalidIdentity, conversation_user, inbound_proof
from assistant.identity.otp import OneTimeCodes
from assistant.service import SupportService
from assistant.store.conversations import Conversation, ConversationNotFound
from assistant.store.models import ConversationStatus, MessageRole

log = logging.getLogger(__name__)
IMAP_LEASE = "imap-poller"
CONFIRM_BUTTONS = ["Yes", "No"]
NOT_TEXT = "(a message that is not text: a sticker, picture, location or voice note)"


@dataclass
class RoundReport:
    processed: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


class ChannelWorker:
    def __init__(self, service: SupportService, holder: str | None = None) -> None:
        self.service = service
        self.settings = service.settings
        url = str(self.settings.database_url)
        service.conversations  # noqa: B018  (migrates the database on first use)
        self.inbox = Inbox(url)
        self.outbox = Outbox(url)
        self.threads = Threads(url)
        self.leases = Leases(url)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"

    @property
    def contacts(self) -> Any:
        return self.service.contact_memory.contacts

    @cached_property
    def codes(self) -> OneTimeCodes:
        s = self.settings
        return OneTimeCodes(
            str(s.database_url),
            ttl_s=s.otp_ttl_s,
            max_attempts=s.otp_max_attempts,
            max_per_hour=s.otp_max_per_hour,
        )

    @cached_property
    def linker(self) -> Linker:
        return Linker(
            self.contacts,
            self.codes,
            self.service.contact_memory,
            self.service.shop,
            lambda address, message: adapter(self.settings, "email").deliver(address, message),
            self.settings.shop_name,
        )

    # --- inbound -------------------------------------------------------------------------------
    def process_inbound(self, limit: int = 10) -> int:
        records = self.inbox.claim(limit)
        for record in records:
            try:
                self.handle(record)
            except Exception as exc:  # a bug or a database outage: keep the message, retry, stay visible
                log.exception("inbound message %s failed", record.id)
                self.inbox.release(record.id, f"{type(exc).__name__}: {exc}")
        return len(records)

    def handle(self, record: InboundRecord) -> None:
        message = record.message
        if message.automated:
            self.inbox.finish(record.id, "ignored", error=f"not answered: {message.automated}")
            return
        try:
            identity = self.contacts.resolve(message.sender_kind, message.sender, message.display_name)
        except InvalidIdentity as exc:
            self.inbox.finish(record.id, "ignored", error=str(exc))
            return
        conversation = self._conversation(message.channel, self.threads.find(message, identity.id), identity)
        self.inbox.assign(record.id, conversation.id)
        if message.channel == "email":
            self.threads.remember("email", message.message_ref, conversation.id)
        store = self.service.conversations
        if message.kind == "unsupported":
            customer = store.add_message(conversation.id, MessageRole.CUSTOMER, message.text or NOT_TEXT)
            if conversation.status == ConversationStatus.BOT:
                reply = store.add_message(conversation.id, MessageRole.BOT, UNSUPPORTED_REPLY)
                self._queue(conversation, reply.seq)
            self.inbox.finish(record.id, "done", conversation_id=conversation.id, message_seq=customer.seq)
            return
        outcome = self.linker.handle(identity, conversation, message.text)
        if outcome is not None:
            customer = store.add_message(conversation.id, MessageRole.CUSTOMER, message.text)
            if outcome.linked and outcome.user_id:
                store.set_user(conversation.id, outcome.user_id)
            reply = store.add_message(conversation.id, MessageRole.BOT, outcome.reply)
            self._queue(conversation, reply.seq)
            self.inbox.finish(record.id, "done", conversation_id=conversation.id, message_seq=customer.seq)
            return
        try:
            result = self.service.customer_turn(conversation.id, message.text)
        except Exception as exc:
            # The message is stored (customer_turn writes it first); a person must see it, not lose it.
            log.exception("turn failed for inbound message %s", record.id)
            store.request_human(
                conversation.id,
                {
                    "takeover": True,
                    "trigger": "channel_error",
                    "reason": "the assistant could not answer this message; it is stored",
                    "severity": 0.6,
                },
                priority=0.6,
            )
            self.inbox.finish(
                record.id, "failed", conversation_id=conversation.id, error=f"{type(exc).__name__}: {exc}"
            )
            return
        if result.reply_seq is not None:
            options = {"buttons": CONFIRM_BUTTONS} if result.awaiting_confirmation else None
            self._queue(conversation, result.reply_seq, options)
        self.inbox.finish(record.id, "done", conversation_id=conversation.id, message_seq=result.customer_seq)

    def _conversation(self, channel: str, conversation_id: str | None, identity: Any) -> Conversation:
        store = self.service.conversations
        if conversation_id is not None:
            try:
                return store.get(conversation_id)
            except ConversationNotFound:
                pass
        contact = self.contacts.get(identity.contact_id)
        conversation, _ = store.create_conversation(
            channel=channel,
            user_id=conversation_user(inbound_proof(identity.kind, identity.proof), contact.user_id),
            contact_id=identity.contact_id,
            identity_id=identity.id,
        )
        return conversation

    def _queue(self, conversation: Conversation, seq: int, options: dict[str, Any] | None = None) -> None:
        recipient = self._recipient(conversation.identity_id)
        self.outbox.enqueue(conversation.id, seq, conversation.channel, recipient, options)

    def _recipient(self, identity_id: int | None) -> str:
        if identity_id is None:
            return ""
        try:
            return str(self.contacts.identity(identity_id).value)
        except LookupError:
            return ""

    # --- outbound ------------------------------------------------------------------------------
    def sweep(self) -> int:
        """Queue bot and agent messages that nobody queued (an agent's reply from the console or API)."""
        queued = 0
        for conversation_id, seq, channel, identity_id in self.outbox.unqueued_messages():
            if self.outbox.enqueue(conversation_id, seq, channel, self._recipient(identity_id)) is not None:
                queued += 1
        return queued

    def deliver_due(self) -> tuple[int, int]:
        sent = failed = 0
        for delivery in self.outbox.claim_due():
            if self.deliver(delivery):
                sent += 1
            else:
                failed += 1
        return sent, failed

    def deliver(self, delivery: Delivery) -> bool:
        s = self.settings
        store = self.service.conversations
        message = next(
            (m for m in store.messages(delivery.conversation_id) if m.seq == delivery.message_seq), None
        )
        out = OutboundMessage(
            text=message.text if message is not None else "",
            citations=[c.model_dump() for c in message.citations] if message is not None else [],
            conversation_id=delivery.conversation_id,
            full_answer_url=answer_url(s, delivery.conversation_id, delivery.message_seq),
            buttons=list(delivery.options.get("buttons", [])),
            automated=message is None or message.role == MessageRole.BOT,
        )
        if delivery.channel == "email":
            out.subject, out.in_reply_to, out.references = self.threads.reply_context(
                delivery.conversation_id
            )
        try:
            if message is None or not delivery.recipient:
                raise DeliveryError("nothing to send or nobody to send it to", permanent=True)
            delivered = adapter(s, delivery.channel).deliver(delivery.recipient, out)
        except DeliveryError as exc:
            status = self.outbox.failed(
                delivery.id,
                str(exc),
                permanent=exc.permanent,
                max_attempts=s.channel_delivery_attempts,
                base_s=s.channel_retry_base_s,
                max_s=s.channel_retry_max_s,
            )
            log.warning("delivery %s on %s failed (%s): %s", delivery.id, delivery.channel, status, exc)
            if status == "undelivered":
                store.add_message(
                    delivery.conversation_id,
                    MessageRole.SYSTEM,
                    f"Message {delivery.message_seq} was NOT delivered on {delivery.channel} after "
                    f"{delivery.attempts + 1} attempt(s): {str(exc)[:300]}",
                )
            return False
        self.outbox.sent(delivery.id, delivered.provider_id)
        if delivery.channel == "email" and delivered.message_ref:
            self.threads.remember("email", delivered.message_ref, delivery.conversation_id)
        return True

    # --- loop ----------------------------------------------------------------------------------
    def run_once(self) -> RoundReport:
        report = RoundReport()
        report.processed = self.process_inbound()
        report.queued = self.sweep()
        report.sent, report.failed = self.deliver_due()
        return report

    def run(self, stop: threading.Event, imap: bool = True) -> None:
        poller = None
        if imap and self.settings.imap_host:
            poller = threading.Thread(target=self.poll_mailbox, args=(stop,), name="imap-poller", daemon=True)
            poller.start()
        while not stop.is_set():
            try:
                report = self.run_once()
            except Exception:  # the database is down: wait and try again
                log.exception("worker round failed")
                report = RoundReport()
            if not (report.processed or report.queued or report.sent):
                stop.wait(self.settings.channel_worker_poll_s)
        if poller is not None:
            poller.join(timeout=5)

    def poll_mailbox(self, stop: threading.Event) -> None:
        """Fetch new mail while this process holds the poller lease (IDLE between rounds)."""
        from assistant.channels.imap import ImapPoller

        ttl = max(60.0, 3 * self.settings.imap_idle_s, 3 * self.settings.imap_poll_s)
        poller = ImapPoller(self.settings, self.inbox.store)
        try:
            while not stop.is_set():
                if not self.leases.acquire(IMAP_LEASE, self.holder, ttl):
                    stop.wait(self.settings.imap_poll_s)
                    continue
                try:
                    poller.fetch_new()
                    poller.wait(self.settings.imap_poll_s)
                except Exception:  # server down or connection dropped: reconnect next round
                    log.exception("mailbox poll failed")
                    poller.close()
                    stop.wait(min(30.0, self.settings.imap_poll_s))
        finally:
            poller.close()
            self.leases.release(IMAP_LEASE, self.holder)
