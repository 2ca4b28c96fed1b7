"""Fit the answerability check on the dev split: `parley eval calibrate CASES --split dev`.

For every single question of the split, the help centre is searched as the agent's tool does, the four
signals of `assistant.planner.answerability` are measured, and a logistic regression (numpy, Newton's
method with a small L2 penalty) is fitted to "answerable" against them. The threshold is the one with the
most correct refusals on the split whose false refusals stay at or below `max_false_refusal`. The result
goes to assistant/planner/answerability.yaml (package data), with what it was fitted on; the other split
is scored with the fitted model so the file also says how it does on questions it never saw.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from eval.casefiles import QuestionCase

MODEL_PATH = Path(__file__).resolve().parent.parent / "assistant" / "planner" / "answerability.yaml"
L2 = 0.1


@dataclass
class Sample:
    case: QuestionCase
    features: list[float]
    missing: list[str]


def collect(settings: Any, cases: Sequence[QuestionCase]) -> list[Sample]:
    """The answerability signals of each question against the hits the agent's search returns."""
    from assistant.planner import answerability
    from assistant.planner.answers import candidates
    from assistant.tools.help_center import HelpCenter, hit_to_dict
    from knowledge.embeddings import CachedEncoder, get_embedder
    from knowledge.language import detect_language

    help_center = HelpCenter(settings)
    encode = CachedEncoder(get_embedder(settings).encode)
    ignored = answerability.name_words(settings.shop_name)
    samples = []
    for case in cases:
        hits = [hit_to_dict(h) for h in help_center.search(case.question)]
        found = [s for _, s in candidates(hits)]
        evidence = answerability.gather_evidence(
            case.question, detect_language(case.question), hits, encode, found, ignored=ignored
        )
        samples.append(Sample(case, evidence.vector(), list(evidence.missing)))
    return samples


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, steps: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias maximising the L2-penalised log-likelihood (the bias is not penalised)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    penalty = np.diag([l2] * x.shape[1] + [0.0])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ theta, -50, 50)))
        gradient = design.T @ (p - y) + penalty @ theta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(len(theta))
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def rates(probabilities: np.ndarray, answerable: np.ndarray, threshold: float) -> dict[str, float | None]:
    """Correct refusals (unanswerable below the threshold) and false refusals (answerable below it)."""
    refused = probabilities < threshold
    correct = float(refused[~answerable].mean()) if (~answerable).any() else None
    false = float(refused[answerable].mean()) if answerable.any() else None
    return {"correct_refusal": correct, "false_refusal": false}


def choose_threshold(probabilities: np.ndarray, answerable: np.ndarray, max_false_refusal: float) -> float:
    """The threshold with the most correct refusals whose false refusals stay within the limit."""
    best, best_correct = 0.0, -1.0
    for candidate in sorted({0.0, *np.round(probabilities, 4).tolist()}):
        found = rates(probabilities, answerable, candidate)
        if (found["false_refusal"] or 0.0) > max_false_refusal + 1e-12:
            break
        if (found["correct_refusal"] or 0.0) > best_correct:
            best, best_correct = candidate, found["correct_refusal"] or 0.0
    return best


def calibrate(
    samples: Sequence[Sample], fit_split: str, max_false_refusal: float, source: str
) -> dict[str, Any]:
    """The fitted model as answerability.yaml holds it, with its scores on every split."""
    from assistant.planner.answerability import FEATURES

    fitted = [s for s in samples if s.case.split == fit_split]
    if not fitted or all(s.case.answerable for s in fitted) or not any(s.case.answerable for s in fitted):
        raise ValueError(f"the {fit_split!r} split needs answerable and unanswerable questions")
    x = np.array([s.features for s in fitted])
    y = np.array([s.case.answerable for s in fitted], dtype=float)
    weights, bias = fit_logistic(x, y)
    probabilities = 1.0 / (1.0 + np.exp(-(x @ weights + bias)))
    threshold = choose_threshold(probabilities, y.astype(bool), max_false_refusal)
    scores: dict[str, Any] = {}
    for split in sorted({str(s.case.split) for s in samples}):
        members = [s for s in samples if str(s.case.split) == split]
        xs = np.array([s.features for s in members])
        ps = 1.0 / (1.0 + np.exp(-(xs @ weights + bias)))
        labels = np.array([s.case.answerable for s in members])
        scores[split] = {"questions": len(members)} | {
            k: None if v is None else round(v, 4) for k, v in rates(ps, labels, threshold).items()
        }
    return {
        "weights": {name: round(float(w), 4) for name, w in zip(FEATURES, weights, strict=True)},
        "bias": round(bias, 4),
        "threshold": round(threshold, 4),
        "fitted": {
            "on": f"{source}, split {fit_split} ({len(fitted)} questions)",
            "max_false_refusal": max_false_refusal,
            "date": dt.date.today().isoformat(),
            "decision_only_scores": scores,
        },
    }


def write_model(model: dict[str, Any], path: Path = MODEL_PATH) -> None:
    header = (
        "# The answerability check of the offline planner (assistant/planner/answerability.py).\n"
        "# Written by `parley eval calibrate` (eval/calibrate.py): do not edit by hand, refit.\n"
        "# decision_only_scores: the check alone (its refusals), before the rest of the planner runs.\n"
    )
    path.write_text(header + yaml.safe_dump(model, sort_keys=False, allow_unicode=True), encoding="utf-8")
