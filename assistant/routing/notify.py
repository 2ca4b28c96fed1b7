"""Telling a team lead: a JSON POST to the team's webhook (Slack-style incoming webhooks, or anything that
accepts JSON). Failures are returned, logged in the desk's event log, and never raised into a request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    url: str
    ok: bool
    status_code: int | None
    error: str | None = None


Notifier = Callable[[str, dict[str, Any]], Delivery]


def webhook_notifier(timeout_s: float) -> Notifier:
    def post(url: str, payload: dict[str, Any]) -> Delivery:
        try:
            response = httpx.post(url, json=payload, timeout=timeout_s, follow_redirects=False)
        except httpx.HTTPError as exc:
            log.warning("escalation webhook %s failed: %s", url, exc)
            return Delivery(url, False, None, type(exc).__name__)
        ok = 200 <= response.status_code < 300
        if not ok:
            log.warning("escalation webhook %s answered %s", url, response.status_code)
        return Delivery(url, ok, response.status_code, None if ok else f"HTTP {response.status_code}")

    return post
