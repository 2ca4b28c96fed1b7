"""Links to a full cited answer (SMS and WhatsApp shorten long answers and link here): signed, so the
link shows that one message and cannot be turned into a way to read other conversations."""

from __future__ import annotations

import hashlib
import hmac

from assistant.channels.base import same
from knowledge.settings import Settings


def answer_signature(secret: str, conversation_id: str, seq: int) -> str:
    return hmac.new(secret.encode(), f"answer:{conversation_id}:{seq}".encode(), hashlib.sha256).hexdigest()[
        :32
    ]


def answer_url(settings: Settings, conversation_id: str, seq: int) -> str:
    sig = answer_signature(settings.customer_token_secret, conversation_id, seq)
    return f"{settings.public_url.rstrip('/')}/v1/channels/answers/{conversation_id}/{seq}?sig={sig}"


def answer_signature_ok(settings: Settings, conversation_id: str, seq: int, sig: str) -> bool:
    return same(sig, answer_signature(settings.customer_token_secret, conversation_id, seq))
