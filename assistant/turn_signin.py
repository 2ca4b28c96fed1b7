"""The verified identity policy inside a turn: an email starts a one-time code, the code typed back signs the
conversation in (assistant/identity: policy.py, signin.py; docs/security.md)."""

from __future__ import annotations

from assistant.identity.signin import held_request
from assistant.parts import ServiceParts
from assistant.store.conversations import Conversation, ConversationStore, Message
from assistant.store.models import MessageRole
from assistant.turn import TurnResult


def code_sign_in(
    parts: ServiceParts,
    conversations: ConversationStore,
    conversation: Conversation,
    customer_message: Message,
    text: str,
    language: str,
) -> TurnResult | tuple[Conversation, str, str] | None:
    """The sign-in flow's answer (a code sent, a wrong code...) as the turn's result; or, when the code signed
    the conversation in and a request waits, (the signed-in conversation, that request, the note to put before
    its answer); None when the message is not for the flow."""
    outcome = parts.sign_in.handle(conversation.id, text, language)
    if outcome is None:
        return None
    reply = outcome.reply
    if outcome.user_id is not None:
        conversations.set_user(conversation.id, outcome.user_id)
        conversation = conversation.model_copy(update={"user_id": outcome.user_id})
        earlier = [
            m.text
            for m in conversations.messages(conversation.id)
            if m.role == MessageRole.CUSTOMER and m.seq < customer_message.seq
        ]
        request = held_request(earlier)
        if request is not None:
            return conversation, request, reply
        reply = f"{reply} {parts.replies('signin_how_can_i_help', language)}"
    bot_message = conversations.add_message(conversation.id, MessageRole.BOT, reply)
    return TurnResult(
        conversation_id=conversation.id,
        status=conversation.status,
        reply=reply,
        customer_seq=customer_message.seq,
        reply_seq=bot_message.seq,
        latency_ms=0.0,
        provider=parts.provider,
        language=language,
    )
