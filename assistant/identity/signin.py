"""Signing a conversation in with a one-time code (the "verified" identity policy; docs/security.md).

An anonymous customer who writes an email address ("my email is ann@example.com, cancel #W1234567") gets
the same answer whether or not the address is a shop account's: "if it is one of ours, a code is on its
way". A code is issued (and only its salted hash kept) either way, but it is mailed only when the address is
on file: so wrong codes, lock-outs and rate limits answer alike for existing and unknown addresses, and the
chat is no oracle for who is a customer. The code typed back in the same conversation signs it in as the
account whose email received it; the request the customer made before (held, not answered) is then run.

The shop and the mail are injected (`find_user`, `send_code`): this package sits below both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.identity.otp import OneTimeCodes, OtpRateLimited
from assistant.prompts import Replies

log = logging.getLogger(__name__)
PURPOSE = "signin"
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CODE_MESSAGE = re.compile(r"^\D{0,20}?(\d[\d\s-]{4,9}\d)\D{0,5}$")
CODE_DIGITS = 6
MAX_HELD_CHARS = 600

FindUser = Callable[[str], str | None]  # email -> the shop user id with exactly that email on file
SendCode = Callable[[str, str, str, str], None]  # (email, subject, body, language); raises when not sent


@dataclass(frozen=True)
class SignInOutcome:
    """What the sign-in flow answers to one message: a reply, and the user id when a code signed it in."""

    reply: str
    user_id: str | None = None


# --- pure rules ------------------------------------------------------------------------------------
def typed_code(text: str) -> str | None:
    """The code in a short message that is only a code ("123456", "code: 123 456"), else None."""
    match = CODE_MESSAGE.match(text.strip())
    if not match:
        return None
    digits = "".join(ch for ch in match.group(1) if ch.isdigit())
    return digits if len(digits) == CODE_DIGITS else None


def email_in(text: str) -> str | None:
    """The first email address in the text, lower-cased (addresses are compared case-insensitively)."""
    found = EMAIL_IN_TEXT.search(text)
    return found.group(0).strip(".").lower() if found else None


def conversation_prefix(conversation_id: str) -> str:
    return f"conv:{conversation_id}>"


def target_for(conversation_id: str, email: str) -> str:
    """Where a code went and who asked: the code verifies only in the conversation that asked for it."""
    return f"{conversation_prefix(conversation_id)}email:{email}"


def email_of_target(target: str) -> str:
    return target.split(">email:", 1)[1]


def held_request(customer_texts: list[str]) -> str | None:
    """The request the customer made before signing in (the newest message that is more than an email
    address or a code), with email addresses taken out; None when there is none."""
    for text in reversed(customer_texts):
        if typed_code(text) is not None:
            continue
        rest = EMAIL_IN_TEXT.sub(" ", text)
        words = [w for w in re.split(r"\W+", rest) if w]
        # "my email is", "it's", "here": what is left of a message that only gave the address
        if len(words) <= 4 and not any(ch.isdigit() for ch in rest):
            continue
        return " ".join(rest.split())[:MAX_HELD_CHARS]
    return None


# --- the flow ---------------------------------------------------------------------------------------
class CodeSignIn:
    def __init__(
        self, codes: OneTimeCodes, find_user: FindUser, send_code: SendCode, replies: Replies
    ) -> None:
        self.codes = codes
        self.find_user = find_user
        self.send_code = send_code
        self.replies = replies

    def handle(self, conversation_id: str, text: str, language: str) -> SignInOutcome | None:
        """The flow's answer to a message of a conversation that is not signed in; None: not for this flow
        (the agent answers it, with no access to any account)."""
        code = typed_code(text)
        if code is not None:
            target = self.codes.last_target(PURPOSE, conversation_prefix(conversation_id))
            if target is not None:
                return self._check(target, code, language)
        email = email_in(text)
        if email is None:
            return None
        return self._send(conversation_id, email, language)

    def _send(self, conversation_id: str, email: str, language: str) -> SignInOutcome:
        minutes = max(1, self.codes.ttl_s // 60)
        user_id = self.find_user(email)
        subject = self.replies("signin_code_mail_subject", language)

        def deliver(code: str) -> None:
            if user_id is None:
                return  # nobody to send it to; the code exists so that the answers stay alike
            body = self.replies("signin_code_mail_body", language, code=code, minutes=minutes)
            self.send_code(email, subject, body, language)

        try:
            self.codes.issue(
                PURPOSE, target_for(conversation_id, email), deliver, rate_suffix=f">email:{email}"
            )
        except OtpRateLimited:
            return SignInOutcome(self.replies("signin_rate_limited", language))
        except Exception as exc:  # mail down: logged for the operator; the answer stays the same
            log.warning("sign-in code for conversation %s not sent: %s", conversation_id, exc)
        return SignInOutcome(self.replies("signin_code_sent", language, email=email, minutes=minutes))

    def _check(self, target: str, code: str, language: str) -> SignInOutcome:
        result = self.codes.verify(PURPOSE, target, code)
        if result.ok:
            user_id = self.find_user(email_of_target(target))
            if user_id is not None:
                return SignInOutcome(self.replies("signin_done", language), user_id=user_id)
            return SignInOutcome(self.replies("signin_code_dead", language))
        if result.reason == "wrong_code":
            return SignInOutcome(self.replies("signin_wrong_code", language, attempts=result.attempts_left))
        return SignInOutcome(self.replies("signin_code_dead", language))
