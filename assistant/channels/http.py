"""Outbound HTTP for provider APIs: one POST with a timeout, errors sorted into retryable and permanent."""

from __future__ import annotations

from typing import Any

import httpx

from assistant.channels.base import DeliveryError


def post(url: str, timeout_s: float, **kwargs: Any) -> Any:
    """POST and return the JSON answer. 5xx, 429, timeouts and refused connections are retryable;
    other 4xx are permanent (the request itself is wrong: retrying cannot help)."""
    try:
        response = httpx.post(url, timeout=timeout_s, **kwargs)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"provider unreachable: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise DeliveryError(f"provider answered {response.status_code}: {response.text[:200]}")
    if response.status_code >= 400:
        raise DeliveryError(
            f"provider refused ({response.status_code}): {response.text[:200]}", permanent=True
        )
    try:
        return response.json()
    except ValueError:
        return {}
