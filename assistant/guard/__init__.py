"""The sentiment/takeover guard: decides on every customer message whether a person should take over."""

from assistant.guard.guard import (
    GuardDecision,
    GuardInputError,
    GuardTrigger,
    SentimentGuard,
    TurnRecord,
    handover_message,
)

__all__ = [
    "GuardDecision",
    "GuardInputError",
    "GuardTrigger",
    "SentimentGuard",
    "TurnRecord",
    "handover_message",
]
