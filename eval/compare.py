"""The regression gate: compare two results.json files metric by metric against per-metric thresholds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Metrics where a smaller number is better (a rise is the regression).
LOWER_IS_BETTER = (
    "false_refusal_rate",
    "failed_rate",
    "leak_rate",
    "turns_to_resolution",
    "repeated_questions_per_conversation",
    "unexpected_rejections",
    "takeover_turn_delta_mean",
    "judge.errors",
    "bot_loops",
    "person_offers",
    "fragments",
    "_ms",
    "repeated_questions_across_channels",
    "crosschannel.leaks",
)
# Metrics that must be 0 whatever the baseline holds (eval/crosschannel.py): any value above fails the gate.
MUST_BE_ZERO = ("crosschannel.repeated_questions_across_channels", "crosschannel.leaks")
# Allowed drop (in the metric's unit) before the gate fails; the first matching suffix wins.
# Latencies are reported, never gated: this machine is shared and timings swing by 2x.
DEFAULT_THRESHOLDS: dict[str, float | None] = {
    "_ms": None,
    ".count": None,
    ".tasks": None,
    "handoff_rate": None,  # neither direction is "better": takeover precision/recall judge it
    "rejected_calls": None,
    "baseline.": None,  # the baseline is context, not the product
    "judge.": None,  # an LLM's grades depend on the model: gate on them with a thresholds file if wanted
    "turns_to_resolution": 0.25,
    "repeated_questions_per_conversation": 0.1,
    "unexpected_rejections": 0.0,
    "takeover_turn_delta_mean": 0.5,
    "drafts.similarity_mean": None,  # the accept rate is gated; its parts are shown
    "drafts.word_overlap_mean": None,
    "person_offers": 0.0,
    "fragments": 0.0,
    "bot_loops": 0.0,  # a conversation where the bot repeats itself is a failure: none may appear
    # Small groups move in big steps (one French conversation of 4 is 0.25): reported, not gated.
    "conversations.en.": None,
    "conversations.fr.": None,
    "conversations.nl.": None,
    "": 0.02,  # every other metric is a rate in 0..1: two points
}


class CompareError(ValueError):
    """A results or thresholds file that cannot be compared."""


@dataclass
class MetricDelta:
    name: str
    baseline: float | None
    current: float | None
    threshold: float | None
    lower_is_better: bool

    @property
    def delta(self) -> float | None:
        if self.baseline is None or self.current is None:
            return None
        return self.current - self.baseline

    @property
    def regression(self) -> float | None:
        """How much worse (positive = worse), in the metric's unit."""
        if self.delta is None:
            return None
        return self.delta if self.lower_is_better else -self.delta

    @property
    def failed(self) -> bool:
        if self.name in MUST_BE_ZERO and self.current:
            return True
        if self.threshold is None:
            return False
        if self.baseline is not None and self.current is None:
            return True  # a gated metric disappeared: the suite no longer measures it
        regression = self.regression
        return regression is not None and regression > self.threshold + 1e-9


def load_metrics(path: Path) -> dict[str, float | None]:
    if not path.is_file():
        raise CompareError(f"results file not found: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CompareError(f"{path}: not valid JSON ({exc})") from None
    metrics = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(metrics, dict):
        raise CompareError(f"{path}: no 'metrics' object (is it a results.json of `parley eval run`?)")
    return {str(k): (float(v) if isinstance(v, (int, float)) else None) for k, v in metrics.items()}


def load_thresholds(path: Path | None) -> dict[str, float | None]:
    thresholds = dict(DEFAULT_THRESHOLDS)
    if path is None:
        return thresholds
    if not path.is_file():
        raise CompareError(f"thresholds file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CompareError(f"{path}: invalid YAML/JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CompareError(f"{path}: expected a mapping of metric name (or suffix) to allowed drop")
    for key, value in data.items():
        if value is not None and not isinstance(value, (int, float)):
            raise CompareError(f"{path}: threshold of {key!r} must be a number or null, not {value!r}")
        thresholds[str(key)] = None if value is None else float(value)
    return thresholds


def threshold_for(name: str, thresholds: dict[str, float | None]) -> float | None:
    if name in thresholds:
        return thresholds[name]
    # Longest matching prefix/suffix pattern first, so specific entries beat the "" catch-all.
    for pattern in sorted(thresholds, key=len, reverse=True):
        if pattern and (name.endswith(pattern) or name.startswith(pattern)):
            return thresholds[pattern]
    return thresholds.get("")


def compare_metrics(
    baseline: dict[str, float | None], current: dict[str, float | None], thresholds: dict[str, float | None]
) -> list[MetricDelta]:
    names = list(baseline) + [n for n in current if n not in baseline]
    return [
        MetricDelta(
            name=name,
            baseline=baseline.get(name),
            current=current.get(name),
            threshold=threshold_for(name, thresholds),
            lower_is_better=any(name.endswith(s) for s in LOWER_IS_BETTER),
        )
        for name in names
    ]


def render_table(deltas: list[MetricDelta]) -> Any:
    from rich.table import Table

    def fmt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    table = Table(title="eval compare (baseline -> current)")
    for column in ("metric", "baseline", "current", "delta", "threshold", "verdict"):
        table.add_column(column, justify="left" if column in ("metric", "verdict") else "right")
    for d in deltas:
        verdict = "[red]REGRESSION[/red]" if d.failed else ("-" if d.threshold is None else "ok")
        arrow = " (lower is better)" if d.lower_is_better else ""
        table.add_row(
            d.name + arrow, fmt(d.baseline), fmt(d.current), fmt(d.delta), fmt(d.threshold), verdict
        )
    return table
