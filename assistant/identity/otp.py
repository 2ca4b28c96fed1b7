"""One-time codes: prove control of an email address or phone number by typing back a code sent to it.

The API is three calls (docs/channels.md, "One-time codes"):

    codes = OneTimeCodes(database_url, ttl_s=600, max_attempts=5, max_per_hour=5)
    issued = codes.issue("link", "email:ann@example.com", deliver=lambda code: send_mail(code))
    result = codes.verify("link", "email:ann@example.com", "123456")   # result.ok, result.reason

- `purpose` separates uses (linking a channel, signing in on the widget, ...): a code for one never
  verifies another.
- `target` is where the code went, as `kind:value` (normalised by the caller).
- Only a salted hash of the code is stored. A code expires after `ttl_s`, dies after `max_attempts` wrong
  guesses, verifies once, and a newer code for the same purpose and target replaces older ones.
- `deliver(code)` sends it (through a channel adapter); when it raises, the code is withdrawn and the error
  propagates, so a code nobody received can never be verified.
- Issuing is rate limited per target (`max_per_hour`): `OtpRateLimited` says when to retry.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import DateTime, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from assistant.db import Base, session_factory

VerifyReason = Literal["ok", "wrong_code", "expired", "too_many_attempts", "no_code"]
MAX_TARGET_CHARS = 320


class OtpRow(Base):
    __tablename__ = "identity_otp_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    purpose: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(MAX_TARGET_CHARS), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    salt: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OtpRateLimited(RuntimeError):
    """Too many codes for this target lately; `retry_after_s` says when another may be sent."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many codes sent; try again in {int(retry_after_s) + 1} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class IssuedCode:
    id: int
    target: str
    expires_at: datetime


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    reason: VerifyReason
    attempts_left: int = 0


# --- pure rules (tested allowed and refused) ---------------------------------------------------------
def hash_code(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def new_code(length: int = 6) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(length))


def normalise_typed_code(text: str) -> str:
    """What the customer typed, without spaces and dashes ("123 456" and "123-456" are "123456")."""
    return "".join(ch for ch in text if ch.isdigit())


def check_code(
    typed: str,
    code_hash: str,
    salt: str,
    *,
    attempts: int,
    max_attempts: int,
    expires_at: datetime,
    used: bool,
    now: datetime,
) -> VerifyReason:
    """The verdict for one typed code against one stored code, before counting this attempt."""
    if used:
        return "no_code"
    if now >= expires_at:
        return "expired"
    if attempts >= max_attempts:
        return "too_many_attempts"
    if not hmac.compare_digest(code_hash, hash_code(normalise_typed_code(typed), salt)):
        return "wrong_code"
    return "ok"


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class OneTimeCodes:
    def __init__(
        self,
        database_url: str,
        *,
        ttl_s: int = 600,
        max_attempts: int = 5,
        max_per_hour: int = 5,
        length: int = 6,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = session_factory(database_url)
        self.ttl_s = ttl_s
        self.max_attempts = max_attempts
        self.max_per_hour = max_per_hour
        self.length = length
        self.clock = clock

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def issue(
        self,
        purpose: str,
        target: str,
        deliver: Callable[[str], None],
        *,
        rate_suffix: str | None = None,
    ) -> IssuedCode:
        """Create a code for `target`, hand it to `deliver`, and keep only its hash.

        The hourly limit counts codes for `target`, or, with `rate_suffix`, for every target ending with it
        (a flow whose target names the conversation limits codes per mailbox across conversations)."""
        if not purpose or len(purpose) > 32 or not target or len(target) > MAX_TARGET_CHARS:
            raise ValueError("purpose and target are required (at most 32 / 320 characters)")
        now = self._now()
        with self._sessions.begin() as session:
            same = OtpRow.target == target if rate_suffix is None else OtpRow.target.endswith(rate_suffix)
            recent = session.scalars(
                select(OtpRow.created_at)
                .where(same, OtpRow.created_at > now - timedelta(hours=1))
                .order_by(OtpRow.created_at)
            ).all()
            if len(recent) >= self.max_per_hour:
                oldest = _as_utc(recent[0])
                raise OtpRateLimited((oldest + timedelta(hours=1) - now).total_seconds())
            # A newer code replaces older ones for the same purpose and target.
            session.execute(
                update(OtpRow)
                .where(OtpRow.purpose == purpose, OtpRow.target == target, OtpRow.used_at.is_(None))
                .values(used_at=now)
            )
            code = new_code(self.length)
            salt = secrets.token_hex(8)
            row = OtpRow(
                purpose=purpose,
                target=target,
                code_hash=hash_code(code, salt),
                salt=salt,
                attempts=0,
                created_at=now,
                expires_at=now + timedelta(seconds=self.ttl_s),
            )
            session.add(row)
            session.flush()
            issued = IssuedCode(row.id, target, row.expires_at)
        try:
            deliver(code)
        except Exception:
            self._withdraw(issued.id)
            raise
        return issued

    def _withdraw(self, code_id: int) -> None:
        with self._sessions.begin() as session:
            session.execute(update(OtpRow).where(OtpRow.id == code_id).values(used_at=self._now()))

    def verify(self, purpose: str, target: str, typed: str) -> VerifyResult:
        """Check a typed code against the newest live code for purpose + target; each call is an attempt."""
        now = self._now()
        with self._sessions.begin() as session:
            row = session.scalars(
                select(OtpRow)
                .where(OtpRow.purpose == purpose, OtpRow.target == target)
                .order_by(OtpRow.id.desc())
                .limit(1)
                .with_for_update()
            ).first()
            if row is None:
                return VerifyResult(False, "no_code")
            reason = check_code(
                typed,
                row.code_hash,
                row.salt,
                attempts=row.attempts,
                max_attempts=self.max_attempts,
                expires_at=_as_utc(row.expires_at),
                used=row.used_at is not None,
                now=now,
            )
            if reason == "ok":
                row.used_at = now
                return VerifyResult(True, "ok")
            if reason == "wrong_code":
                row.attempts += 1
                left = max(0, self.max_attempts - row.attempts)
                return VerifyResult(False, "too_many_attempts" if left == 0 else "wrong_code", left)
            return VerifyResult(False, reason)

    def latest_target(self, purpose: str, prefix: str) -> str | None:
        """The target of the newest live code for `purpose` whose target starts with `prefix` (a flow that
        encodes who asked and where the code went in the target finds its pending code this way)."""
        now = self._now()
        with self._sessions() as session:
            return session.scalar(
                select(OtpRow.target)
                .where(
                    OtpRow.purpose == purpose,
                    OtpRow.target.startswith(prefix, autoescape=True),
                    OtpRow.used_at.is_(None),
                    OtpRow.expires_at > now,
                    OtpRow.attempts < self.max_attempts,
                )
                .order_by(OtpRow.id.desc())
                .limit(1)
            )

    def last_target(self, purpose: str, prefix: str) -> str | None:
        """The target of the newest code for `purpose` whose target starts with `prefix`, live or not (so a
        code typed after expiry or lock-out gets its own answer)."""
        with self._sessions() as session:
            return session.scalar(
                select(OtpRow.target)
                .where(OtpRow.purpose == purpose, OtpRow.target.startswith(prefix, autoescape=True))
                .order_by(OtpRow.id.desc())
                .limit(1)
            )

    def pending(self, purpose: str, target: str) -> bool:
        """Whether a live (unused, unexpired, not locked) code waits for this purpose and target."""
        now = self._now()
        with self._sessions() as session:
            count = session.scalar(
                select(func.count())
                .select_from(OtpRow)
                .where(
                    OtpRow.purpose == purpose,
                    OtpRow.target == target,
                    OtpRow.used_at.is_(None),
                    OtpRow.expires_at > now,
                    OtpRow.attempts < self.max_attempts,
                )
            )
            return bool(count)
