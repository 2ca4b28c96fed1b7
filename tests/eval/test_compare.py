"""The regression gate's comparison rules on hand-made results files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from eval.compare import CompareError, compare_metrics, load_metrics, load_thresholds, threshold_for


def write(path: Path, metrics: dict[str, float | None]) -> Path:
    path.write_text(json.dumps({"metrics": metrics}))
    return path


def test_higher_is_better_drop_beyond_threshold_fails() -> None:
    deltas = compare_metrics(
        {"questions.fact_recall": 0.80}, {"questions.fact_recall": 0.77}, load_thresholds(None)
    )
    assert deltas[0].failed
    deltas = compare_metrics(
        {"questions.fact_recall": 0.80}, {"questions.fact_recall": 0.79}, load_thresholds(None)
    )
    assert not deltas[0].failed


def test_lower_is_better_metrics_fail_when_they_rise() -> None:
    thresholds = load_thresholds(None)
    rise = compare_metrics(
        {"effort.repeated_questions_per_conversation": 0.1},
        {"effort.repeated_questions_per_conversation": 0.5},
        thresholds,
    )
    assert rise[0].lower_is_better and rise[0].failed
    fall = compare_metrics(
        {"questions.false_refusal_rate": 0.3}, {"questions.false_refusal_rate": 0.0}, thresholds
    )
    assert not fall[0].failed


def test_latency_and_baseline_metrics_are_reported_not_gated() -> None:
    thresholds = load_thresholds(None)
    assert threshold_for("questions.latency_p95_ms", thresholds) is None
    assert threshold_for("baseline.retrieval_hit@1", thresholds) is None
    assert threshold_for("questions.retrieval_hit@1", thresholds) == 0.02
    deltas = compare_metrics(
        {"questions.latency_p95_ms": 100.0}, {"questions.latency_p95_ms": 900.0}, thresholds
    )
    assert not deltas[0].failed


def test_a_gated_metric_that_disappears_fails() -> None:
    deltas = compare_metrics({"banking.hit@5": 0.5}, {}, load_thresholds(None))
    assert deltas[0].failed


def test_thresholds_file_overrides(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("questions.fact_recall: 0.1\nquestions.latency_p50_ms: 50\n")
    thresholds = load_thresholds(path)
    assert threshold_for("questions.fact_recall", thresholds) == 0.1
    deltas = compare_metrics(
        {"questions.latency_p50_ms": 100.0}, {"questions.latency_p50_ms": 200.0}, thresholds
    )
    assert deltas[0].failed
    path.write_text("questions.fact_recall: lots\n")
    with pytest.raises(CompareError, match="must be a number"):
        load_thresholds(path)


def test_bad_results_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CompareError, match="not found"):
        load_metrics(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(CompareError, match="not valid JSON"):
        load_metrics(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(CompareError, match="no 'metrics'"):
        load_metrics(tmp_path / "other.json")


def test_cli_exit_codes(tmp_path: Path) -> None:
    base = write(tmp_path / "a.json", {"questions.retrieval_hit@5": 0.9, "questions.latency_p50_ms": 10.0})
    same = write(tmp_path / "b.json", {"questions.retrieval_hit@5": 0.9, "questions.latency_p50_ms": 99.0})
    worse = write(tmp_path / "c.json", {"questions.retrieval_hit@5": 0.5, "questions.latency_p50_ms": 10.0})
    runner = CliRunner()
    assert runner.invoke(app, ["eval", "compare", str(base), str(same)]).exit_code == 0
    result = runner.invoke(app, ["eval", "compare", str(base), str(worse)])
    assert result.exit_code == 1
    assert "questions.retrieval_hit@5" in result.output
    assert runner.invoke(app, ["eval", "compare", str(base), str(tmp_path / "none.json")]).exit_code == 2
