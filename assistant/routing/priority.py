"""Queue priority: the guard's severity, configurable rules, ageing, verified customers and fair share.

priority (shown to agents, decides the SLA band) = guard severity + the boosts of matching rules
                                                  (+ escalation boosts later)
queue score at time t = priority + ageing x minutes waited
                        + verified bonus (proven identity) + after-hours bonus (queued while closed)
                        - origin penalty (earlier waiting conversations from the same IP / customer)
                        - unverified pool penalty (earlier waiting unverified conversations, any origin)
Held conversations (over a per-IP or per-contact cap) come after every other one.

Ageing is linear and uncapped, so the score's order is the order of a constant `rank`:
score(t) = rank + ageing x minutes(t) with rank = (everything else) - ageing x minutes(waiting_since).
The queue is one indexed `ORDER BY rank DESC`, valid at every instant without rewriting rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

RuleKind = Literal["order_value_above", "repeat_contact", "stage", "topic", "trigger", "language"]
RULE_KINDS: tuple[str, ...] = ("order_value_above", "repeat_contact", "stage", "topic", "trigger", "language")
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
HELD_OFFSET = 1_000_000.0  # held conversations sort after everything else
BANDS: tuple[tuple[str, float], ...] = (
    ("urgent", 0.8),
    ("high", 0.6),
    ("normal", 0.45),
    ("low", float("-inf")),
)


class RuleError(ValueError):
    """A priority rule that cannot be used; str() says which and why."""


@dataclass(frozen=True)
class PriorityRule:
    kind: RuleKind
    value: Any
    boost: float

    def describe(self) -> str:
        what = {
            "order_value_above": f"order value above {self.value}",
            "repeat_contact": f"second contact on the same issue within {self.value} days",
            "stage": f"journey stage {self.value}",
            "topic": f"topic {self.value}",
            "trigger": f"handed over for {self.value}",
            "language": f"language {self.value}",
        }[self.kind]
        return f"{what}: {self.boost:+g}"


@dataclass(frozen=True)
class PriorityInputs:
    """What the rules look at, gathered at handover."""

    severity: float
    trigger: str | None = None
    topic: str = "general"
    stage: str = "pre_purchase"
    language: str = "en"
    order_value: float = 0.0
    repeat_contact_days: float | None = None  # days since the customer's last conversation on this topic
    verified: bool = False


@dataclass(frozen=True)
class Priority:
    value: float
    band: str
    reasons: list[str] = field(default_factory=list)


def parse_rules(raw: Sequence[Mapping[str, Any]]) -> list[PriorityRule]:
    rules = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise RuleError(f"priority rule {i} must be an object with kind, value and boost")
        kind = item.get("kind")
        if kind not in RULE_KINDS:
            raise RuleError(f"priority rule {i}: unknown kind {kind!r} (one of {', '.join(RULE_KINDS)})")
        try:
            boost = float(item.get("boost", 0.0))
        except (TypeError, ValueError) as exc:
            raise RuleError(f"priority rule {i}: boost must be a number") from exc
        if not -1.0 <= boost <= 1.0:
            raise RuleError(f"priority rule {i}: boost {boost} is outside -1..1")
        value = item.get("value")
        if kind in ("order_value_above", "repeat_contact"):
            try:
                value = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError) as exc:
                raise RuleError(f"priority rule {i}: {kind} needs a number as value") from exc
            if value < 0:
                raise RuleError(f"priority rule {i}: {kind} value must not be negative")
        elif not isinstance(value, str) or not value:
            raise RuleError(f"priority rule {i}: {kind} needs a name as value")
        rules.append(PriorityRule(kind=kind, value=value, boost=boost))  # type: ignore[arg-type]
    return rules


def rule_matches(rule: PriorityRule, inputs: PriorityInputs) -> bool:
    if rule.kind == "order_value_above":
        return inputs.order_value > float(rule.value)
    if rule.kind == "repeat_contact":
        days = inputs.repeat_contact_days
        return days is not None and days <= float(rule.value)
    actual = {
        "stage": inputs.stage,
        "topic": inputs.topic,
        "trigger": inputs.trigger,
        "language": inputs.language,
    }
    return actual[rule.kind] == rule.value


def band_of(value: float) -> str:
    return next(name for name, floor in BANDS if value >= floor)


def compute_priority(inputs: PriorityInputs, rules: Sequence[PriorityRule]) -> Priority:
    severity = min(1.0, max(0.0, float(inputs.severity)))
    value = severity
    reasons = [f"guard severity {severity:.2f}"]
    for rule in rules:
        if rule_matches(rule, inputs):
            value += rule.boost
            reasons.append(rule.describe())
    value = round(max(0.0, value), 4)
    return Priority(value=value, band=band_of(value), reasons=reasons)


def minutes_since_epoch(at: datetime) -> float:
    return (at - EPOCH).total_seconds() / 60.0


def rank_key(
    priority: float,
    waiting_since: datetime,
    *,
    ageing_per_minute: float,
    bonus: float = 0.0,
    penalty: float = 0.0,
    held: bool = False,
) -> float:
    """The constant whose order is the queue's order at every instant (see the module docstring)."""
    rank = priority + bonus - penalty - ageing_per_minute * minutes_since_epoch(waiting_since)
    return rank - HELD_OFFSET if held else rank


def score_at(rank: float, now: datetime, ageing_per_minute: float) -> float:
    """The queue score at `now` (what the console shows); held conversations stay far below."""
    return rank + ageing_per_minute * minutes_since_epoch(now)


@dataclass(frozen=True)
class FairShare:
    penalty: float
    held: bool
    reason: str | None


def fair_share(earlier_waiting: int, *, per_conversation: float, cap: int, origin_kind: str) -> FairShare:
    """The n-th waiting conversation of one origin (0 = its first) pays n x penalty; from the cap on it is
    held until the earlier ones are served. A flood from one IP therefore takes at most `cap` places."""
    if earlier_waiting < 0:
        raise ValueError("earlier_waiting must not be negative")
    if cap > 0 and earlier_waiting >= cap:
        return FairShare(
            penalty=per_conversation * earlier_waiting,
            held=True,
            reason=f"held: {earlier_waiting} from the same {origin_kind} already wait (cap {cap})",
        )
    return FairShare(penalty=per_conversation * earlier_waiting, held=False, reason=None)


def unverified_pool_shares(
    origins: Sequence[str | None],
    *,
    origin_penalty: float,
    pool_penalty: float,
    cap_of: Callable[[str | None], int],
    kind_of: Callable[[str | None], str],
) -> list[FairShare]:
    """Fair shares of the waiting unverified conversations, given their origins in waiting order.

    Each pays its origin's fair share (see `fair_share`) plus `pool_penalty` for every unverified
    conversation ahead of it that is not held: many anonymous chats from many IPs queue first come, first
    served among themselves and sink below a verified customer instead of burying them (issue 11, 25
    abusive chats took the top places). Conversations without an origin (no IP recorded) have no cap."""
    if pool_penalty < 0 or origin_penalty < 0:
        raise ValueError("penalties must not be negative")
    seen: dict[str | None, int] = {}
    ahead = 0
    shares = []
    for origin in origins:
        earlier = seen.get(origin, 0) if origin is not None else 0
        seen[origin] = earlier + 1
        own = fair_share(
            earlier, per_conversation=origin_penalty, cap=cap_of(origin), origin_kind=kind_of(origin)
        )
        share = FairShare(penalty=own.penalty + pool_penalty * ahead, held=own.held, reason=own.reason)
        if not share.held:
            ahead += 1
        shares.append(share)
    return shares
