"""Run the guard over the labelled sets and compute the numbers `parley guard-eval` prints.

- messages.jsonl: single customer messages with a takeover label (precision/recall/F1 overall, per
  category, per language);
- conversations.jsonl: multi-turn conversations replayed turn by turn through the guard exactly as the
  API calls it (the message plus the turns before it); takeover yes/no accuracy and the turn where it fired;
- Bitext (read-only, outside the repository): `contact_human_agent` and `complaint` rows as positives,
  an equal number of calm-intent rows as negatives, sampled deterministically. It is the held-out set:
  thresholds were not tuned on it.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.guard.guard import SentimentGuard, TurnRecord
from eval.guard.metrics import BinaryMetrics, TurnTiming, binary_metrics, grouped_metrics, turn_timing
from knowledge.jsonl import JsonLineError, json_lines

HERE = Path(__file__).resolve().parent
DEFAULT_MESSAGES = HERE / "messages.jsonl"
DEFAULT_CONVERSATIONS = HERE / "conversations.jsonl"
# ../shared/datasets next to the repository (the same place tests/conftest.py reads datasets from).
DEFAULT_BITEXT = HERE.parents[2] / "shared" / "datasets" / "bitext" / "customer_support_6480.csv"

BITEXT_POSITIVE_INTENTS = ("contact_human_agent", "complaint")
# Intents where a calm customer asks for information or a routine change; nobody is asking for a person.
BITEXT_CALM_INTENTS = (
    "track_order",
    "check_refund_policy",
    "delivery_period",
    "delivery_options",
    "check_payment_methods",
    "check_invoice",
    "get_invoice",
    "change_shipping_address",
    "track_refund",
    "place_order",
)


class EvalDataError(ValueError):
    """A labelled file is missing or malformed; the message names the file and line."""


def load_jsonl(path: Path, required: Sequence[str]) -> list[dict[str, Any]]:
    if not path.is_file():
        raise EvalDataError(f"{path}: file not found")
    rows = []
    try:
        for number, row in json_lines(path.read_text(encoding="utf-8").splitlines()):
            if not isinstance(row, dict):
                raise EvalDataError(f"{path}:{number}: expected an object")
            missing = [key for key in required if key not in row]
            if missing:
                raise EvalDataError(f"{path}:{number}: missing {', '.join(missing)}")
            rows.append(row)
    except JsonLineError as exc:
        raise EvalDataError(f"{path}:{exc.line}: invalid JSON ({exc.reason})") from exc
    return rows


@dataclass
class MessageReport:
    overall: BinaryMetrics
    by_category: dict[str, BinaryMetrics]
    by_language: dict[str, BinaryMetrics]
    errors: list[dict[str, Any]] = field(default_factory=list)  # misclassified rows with the reason

    def as_dict(self) -> dict[str, Any]:
        return {
            "overall": self.overall.as_dict(),
            "by_category": {k: v.as_dict() for k, v in self.by_category.items()},
            "by_language": {k: v.as_dict() for k, v in self.by_language.items()},
            "errors": self.errors,
        }


def evaluate_messages(guard: SentimentGuard, rows: Sequence[dict[str, Any]]) -> MessageReport:
    """Each row needs text, label ("takeover"|"no_takeover"); category and language are optional."""
    scored: list[tuple[str, str, bool, bool]] = []
    errors: list[dict[str, Any]] = []
    for row in rows:
        label = row["label"]
        if label not in ("takeover", "no_takeover"):
            raise EvalDataError(f"row {row.get('id')}: label must be takeover or no_takeover, got {label!r}")
        expected = label == "takeover"
        decision = guard.evaluate(str(row["text"]), [])
        language = str(row.get("language") or decision.language)
        scored.append((str(row.get("category", "-")), language, expected, decision.takeover))
        if expected != decision.takeover:
            errors.append(
                {
                    "id": row.get("id"),
                    "text": row["text"],
                    "expected": label,
                    "category": row.get("category"),
                    "reason": decision.reason,
                    "sentiment": decision.sentiment,
                }
            )
    return MessageReport(
        overall=binary_metrics((e, p) for _, _, e, p in scored),
        by_category=grouped_metrics([(c, e, p) for c, _, e, p in scored]),
        by_language=grouped_metrics([(lang, e, p) for _, lang, e, p in scored]),
        errors=errors,
    )


@dataclass
class ConversationReport:
    takeover: BinaryMetrics
    timing: TurnTiming
    by_category: dict[str, BinaryMetrics]
    details: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "takeover": self.takeover.as_dict(),
            "timing": self.timing.as_dict(),
            "by_category": {k: v.as_dict() for k, v in self.by_category.items()},
            "details": self.details,
        }


def first_takeover_turn(guard: SentimentGuard, turns: Sequence[TurnRecord]) -> tuple[int | None, str]:
    """Replay a conversation; the index (into turns) of the first customer turn where the guard fired."""
    for index, turn in enumerate(turns):
        if turn.role != "customer":
            continue
        decision = guard.evaluate(turn.text, list(turns[:index]))
        if decision.takeover:
            return index, decision.reason
    return None, ""


def _customer_ordinal(turns: Sequence[TurnRecord], index: int) -> int:
    return sum(1 for t in turns[:index] if t.role == "customer")


def evaluate_conversations(guard: SentimentGuard, rows: Sequence[dict[str, Any]]) -> ConversationReport:
    """`expected_turn` is an index into `turns` (a customer turn); timing deltas count customer turns."""
    outcomes: list[tuple[str, bool, bool]] = []
    timings: list[tuple[int, int | None]] = []
    details: list[dict[str, Any]] = []
    for row in rows:
        turns = [
            TurnRecord(role=t["role"], text=t["text"], bot_failed=bool(t.get("bot_failed", False)))
            for t in row["turns"]
        ]
        expected = bool(row["expected_takeover"])
        fired_at, reason = first_takeover_turn(guard, turns)
        outcomes.append((str(row.get("category", "-")), expected, fired_at is not None))
        expected_turn = row.get("expected_turn")
        if expected and expected_turn is not None:
            if not 0 <= expected_turn < len(turns) or turns[expected_turn].role != "customer":
                raise EvalDataError(f"{row.get('id')}: expected_turn {expected_turn} is not a customer turn")
            actual = _customer_ordinal(turns, fired_at) if fired_at is not None else None
            timings.append((_customer_ordinal(turns, expected_turn), actual))
        details.append(
            {
                "id": row.get("id"),
                "category": row.get("category"),
                "expected_takeover": expected,
                "expected_turn": expected_turn,
                "fired_turn": fired_at,
                "reason": reason,
            }
        )
    return ConversationReport(
        takeover=binary_metrics((e, p) for _, e, p in outcomes),
        timing=turn_timing(timings),
        by_category=grouped_metrics(outcomes),
        details=details,
    )


def _stable_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def bitext_rows(path: Path) -> list[dict[str, Any]]:
    """All contact_human_agent + complaint rows (takeover) and as many calm rows (no_takeover), the calm
    ones picked by the SHA-256 of their text (deterministic, spread over the calm intents)."""
    if not path.is_file():
        raise EvalDataError(f"{path}: Bitext file not found (expected ../shared/datasets/bitext/)")
    with path.open(encoding="utf-8", newline="") as handle:
        data = list(csv.DictReader(handle))
    positives = [r for r in data if r.get("intent") in BITEXT_POSITIVE_INTENTS]
    calm = sorted(
        (r for r in data if r.get("intent") in BITEXT_CALM_INTENTS),
        key=lambda r: _stable_key(r["instruction"]),
    )
    negatives = calm[: len(positives)]
    return [
        {
            "id": f"bitext-{i}",
            "text": r["instruction"],
            "language": "en",
            "label": "takeover" if r["intent"] in BITEXT_POSITIVE_INTENTS else "no_takeover",
            "category": r["intent"],
        }
        for i, r in enumerate(positives + negatives)
    ]
