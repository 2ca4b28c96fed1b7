"""Channel identities and what each proof is worth: normalisation and trust rules as pure functions.

Trust per channel (docs/channels.md): a shop-signed widget token authenticates (`token`); an email address
or phone number whose one-time code was typed back authenticates (`otp`); an agent's manual link shares
history but authenticates nothing (`agent`); an address only seen in a header or a provider's sender field
proves nothing (`none`): it may pre-fill and look up that same address's own unauthenticated history,
never the shop account.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Literal

import phonenumbers

IdentityKind = Literal["email", "phone", "whatsapp", "widget", "api"]
Proof = Literal["none", "agent", "otp", "token"]
MemoryScope = Literal["identity", "contact"]
KINDS: tuple[str, ...] = ("email", "phone", "whatsapp", "widget", "api")
PROOF_RANK: dict[str, int] = {"none": 0, "agent": 1, "otp": 2, "token": 3}
MAX_ID_CHARS = 128


class InvalidIdentity(ValueError):
    """A value that is not a usable address / number / id for its kind."""


def normalise_email(value: str) -> str:
    _, address = parseaddr(value.strip())
    address = address.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or len(address) > 320 or any(c.isspace() for c in address):
        raise InvalidIdentity(f"not an email address: {value[:80]!r}")
    return address


def normalise_phone(value: str) -> str:
    """E.164 (+15551234567). Numbers without a country code are refused: nothing guesses a country."""
    raw = value.strip().removeprefix("whatsapp:")
    if raw and raw[0].isdigit():
        raw = "+" + raw  # WhatsApp's wa_id is the number in digits without the plus
    try:
        number = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentity(f"not a phone number: {value[:40]!r}") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity(f"not a possible phone number: {value[:40]!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(kind: str, value: str) -> str:
    if kind == "email":
        return normalise_email(value)
    if kind in ("phone", "whatsapp"):
        return normalise_phone(value)
    if kind in ("widget", "api"):
        cleaned = value.strip()
        if not cleaned or len(cleaned) > MAX_ID_CHARS or any(ord(c) < 32 for c in cleaned):
            raise InvalidIdentity(f"{kind} id must be 1-{MAX_ID_CHARS} printable characters")
        return cleaned
    raise InvalidIdentity(f"unknown identity kind {kind!r}")


def authenticates(proof: str) -> bool:
    """Whether a message from an identity with this proof may see the shop account and change it."""
    return proof in ("otp", "token")


def stronger(a: str, b: str) -> str:
    return a if PROOF_RANK.get(a, 0) >= PROOF_RANK.get(b, 0) else b


def inbound_proof(kind: str, proof: str) -> str:
    """What a message *from* this identity proves. An email's From header can be forged by anyone, so a
    mail proves nothing even when its mailbox was proven (codes sent there reach the right person; mail
    claiming to come from there may not be theirs). Provider-signed senders keep their proof."""
    return "none" if kind == "email" else proof


def conversation_user(proof: str, contact_user_id: str | None) -> str | None:
    """The shop user a new conversation from this identity is signed in as (None: not signed in)."""
    return contact_user_id if authenticates(proof) and contact_user_id else None


def memory_scope(proof: str) -> MemoryScope:
    """Whose conversations an identity's messages may recall: the whole contact's when it proved itself or
    an agent linked it, otherwise only its own."""
    return "contact" if PROOF_RANK.get(proof, 0) >= PROOF_RANK["agent"] else "identity"


def may_recall(proof: str, conversation_user_id: str | None) -> bool:
    """Whether an earlier conversation may be recalled: one that was signed in to the shop account only by
    an identity that authenticates (so an unproven sender never hears account data)."""
    return conversation_user_id is None or authenticates(proof)


def mask(kind: str, value: str) -> str:
    """How an address is shown to someone who has not proved it (e***@example.com, +44 *** *** 89)."""
    if kind == "email" and "@" in value:
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind in ("phone", "whatsapp") and len(value) > 4:
        return value[:3] + "*" * (len(value) - 5) + value[-2:]
    return value[:2] + "***"
