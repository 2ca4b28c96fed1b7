"""Signed customer tokens: the shop's backend vouches for a logged-in customer (JWT, HS256, shared secret).

A token binds a new conversation to that shop user, so the customer does not have to prove who they are in
chat (email / name + zip). Only the holder of settings.customer_token_secret can mint one.
"""

from __future__ import annotations

import time

import jwt

from assistant.identity.policy import token_lifetime_problem

ISSUER = "parley-shop"
AUDIENCE = "parley"
ALGORITHM = "HS256"
MAX_USER_ID_CHARS = 64  # the conversations table's user_id column


class InvalidCustomerToken(ValueError):
    """The token is malformed, forged, expired or not meant for Parley; str(exc) says which."""


def issue_customer_token(user_id: str, secret: str, ttl: int = 3600, now: float | None = None) -> str:
    """A token for `user_id`, valid for `ttl` seconds."""
    if not user_id or len(user_id) > MAX_USER_ID_CHARS:
        raise ValueError(f"user_id must be 1-{MAX_USER_ID_CHARS} characters")
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    issued = int(now if now is not None else time.time())
    claims = {"sub": user_id, "iat": issued, "exp": issued + ttl, "iss": ISSUER, "aud": AUDIENCE}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_customer_token(token: str, secret: str, max_lifetime_s: int | None = None) -> str:
    """The user id the token was issued for; InvalidCustomerToken with a readable reason otherwise.

    With `max_lifetime_s`, a token whose exp - iat is longer is refused even when its signature is right (a
    token minted for years is a standing key to the account)."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # fixed: never let the token pick "none" or another algorithm
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidCustomerToken("customer token has expired") from exc
    except jwt.InvalidSignatureError as exc:
        raise InvalidCustomerToken("customer token signature is invalid") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidCustomerToken(f"customer token lacks the {exc.claim!r} claim") from exc
    except (jwt.InvalidAudienceError, jwt.InvalidIssuerError) as exc:
        raise InvalidCustomerToken("customer token was not issued for Parley") from exc
    except jwt.PyJWTError as exc:
        raise InvalidCustomerToken(f"customer token is malformed: {exc}") from exc
    if max_lifetime_s is not None:
        problem = token_lifetime_problem(claims.get("iat"), claims.get("exp"), max_lifetime_s)
        if problem is not None:
            raise InvalidCustomerToken(problem)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > MAX_USER_ID_CHARS:
        raise InvalidCustomerToken("customer token has no valid user id")
    return subject
