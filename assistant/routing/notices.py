"""The customer's side of the queue in their language (texts in notices.yaml): position, expected wait,
when the team is back, what to prepare, and the CES question."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from assistant.routing.hours import require_aware

DEFAULT = "en"


@cache
def texts() -> dict[str, dict[str, Any]]:
    raw = resources.files("assistant.routing").joinpath("notices.yaml").read_text(encoding="utf-8")
    data: dict[str, dict[str, Any]] = yaml.safe_load(raw)
    return data


def languages() -> list[str]:
    return list(texts())


def text(language: str | None, key: str, **values: Any) -> str:
    table = texts().get(language or DEFAULT) or texts()[DEFAULT]
    return str(table[key]).format(**values)


def wait_phrase(language: str | None, seconds: float) -> str:
    if seconds < 60:
        return text(language, "wait_now")
    minutes = math.ceil(seconds / 60)
    if minutes == 1:
        return text(language, "wait_minute")
    if minutes < 120:
        return text(language, "wait_minutes", n=minutes)
    return text(language, "wait_hours", n=round(minutes / 60))


def when_phrase(language: str | None, at: datetime, now: datetime, timezone: str) -> str:
    """ "tomorrow at 09:00 (Europe/Paris time)", in the team's zone."""
    zone = ZoneInfo(timezone)
    local, today = require_aware(at).astimezone(zone), require_aware(now).astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        when = text(language, "when_today", time=clock)
    elif local.date() == today + timedelta(days=1):
        when = text(language, "when_tomorrow", time=clock)
    elif local.date() < today + timedelta(days=7):
        weekday = (texts().get(language or DEFAULT) or texts()[DEFAULT])["weekdays"][local.weekday()]
        when = text(language, "when_weekday", weekday=weekday, time=clock)
    else:
        when = text(language, "when_date", date=local.date().isoformat(), time=clock)
    return text(language, "when_tz", when=when, timezone=timezone)


def needs_phrase(language: str | None, topic: str | None) -> str:
    table = texts().get(language or DEFAULT) or texts()[DEFAULT]
    key = f"needs_{topic}"
    return str(table.get(key, table["needs_general"]))


@dataclass(frozen=True)
class CesQuestion:
    question: str
    low: str
    high: str
    skip: str
    thanks: str
    scale: tuple[int, int] = (1, 7)

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "low_label": self.low,
            "high_label": self.high,
            "skip_label": self.skip,
            "thanks": self.thanks,
            "scale": list(self.scale),
        }


def ces_question(language: str | None) -> CesQuestion:
    return CesQuestion(
        question=text(language, "ces_question"),
        low=text(language, "ces_low"),
        high=text(language, "ces_high"),
        skip=text(language, "ces_skip"),
        thanks=text(language, "ces_thanks"),
    )
