"""Plain metric arithmetic for the guard evaluation (no model, no I/O): easy to test on tiny sets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class BinaryMetrics:
    """Counts and scores of a yes/no prediction ("takeover") against labels."""

    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.n if self.n else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            **asdict(self),
            "n": self.n,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "accuracy": round(self.accuracy, 4),
        }


def binary_metrics(pairs: Iterable[tuple[bool, bool]]) -> BinaryMetrics:
    """pairs of (expected, predicted)."""
    tp = fp = tn = fn = 0
    for expected, predicted in pairs:
        if expected and predicted:
            tp += 1
        elif predicted:
            fp += 1
        elif expected:
            fn += 1
        else:
            tn += 1
    return BinaryMetrics(tp, fp, tn, fn)


def grouped_metrics(rows: Sequence[tuple[str, bool, bool]]) -> dict[str, BinaryMetrics]:
    """rows of (group, expected, predicted) -> metrics per group, groups sorted by name."""
    groups: dict[str, list[tuple[bool, bool]]] = {}
    for group, expected, predicted in rows:
        groups.setdefault(group, []).append((expected, predicted))
    return {g: binary_metrics(groups[g]) for g in sorted(groups)}


@dataclass(frozen=True)
class TurnTiming:
    """Where takeover fired in conversations that expected it, compared with the expected turn."""

    exact: int
    early: int
    late: int  # fired after the expected turn
    missed: int  # expected a takeover, none fired
    mean_delta: float | None  # mean (actual - expected) in customer turns, over conversations that fired

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def turn_timing(pairs: Iterable[tuple[int, int | None]]) -> TurnTiming:
    """pairs of (expected customer-turn ordinal, actual ordinal or None when takeover never fired)."""
    exact = early = late = missed = 0
    deltas: list[int] = []
    for expected, actual in pairs:
        if actual is None:
            missed += 1
            continue
        delta = actual - expected
        deltas.append(delta)
        if delta == 0:
            exact += 1
        elif delta < 0:
            early += 1
        else:
            late += 1
    mean = round(sum(deltas) / len(deltas), 4) if deltas else None
    return TurnTiming(exact, early, late, missed, mean)
