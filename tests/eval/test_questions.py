"""Single-question scoring on hand-built records: which search a reply could cite, when a question passes,
and the `questions.*` / `baseline.*` metrics (names, order, values)."""

from __future__ import annotations

from typing import Any

import pytest

from eval.questions import QUESTION_METRICS, last_search_hits, question_metrics, question_passed


def test_the_last_successful_search_is_what_a_reply_could_cite() -> None:
    trace = [
        {"name": "search_help_center", "ok": True, "output": {"hits": [{"article_id": "old"}]}},
        {"name": "get_order_details", "ok": True, "output": {"hits": [{"article_id": "not-a-search"}]}},
        {"name": "search_help_center", "ok": True, "output": {"hits": [{"article_id": "new"}]}},
        {"name": "search_help_center", "ok": False, "output": None},
    ]
    assert last_search_hits(trace) == [{"article_id": "new"}]
    assert last_search_hits([]) == []
    assert last_search_hits([{"name": "search_help_center", "ok": True, "output": None}]) == []


@pytest.mark.parametrize(
    ("record", "passed"),
    [
        ({"answerable": True, "refusal": "answered", "fact_recall": 1.0}, True),
        ({"answerable": True, "refusal": "answered", "fact_recall": 0.5}, False),
        ({"answerable": True, "refusal": "false_refusal", "fact_recall": 1.0}, False),
        ({"answerable": False, "refusal": "correct_refusal"}, True),
        ({"answerable": False, "refusal": "answered_unanswerable"}, False),
    ],
)
def test_question_passed(record: dict[str, Any], passed: bool) -> None:
    assert question_passed(record) is passed


def _answered(hit: float, facts: float, baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "answerable": True,
        "refusal": "answered",
        "hit@1": hit,
        "hit@5": 1.0,
        "rr": hit,
        "fact_recall": facts,
        "citation_validity": 1.0,
        "cites_gold": hit,
        "failed": False,
        "passed": facts >= 1.0,
        "latency_ms": 10.0,
    }
    if baseline is not None:
        record["baseline"] = baseline
    return record


def test_question_metrics_names_order_and_values() -> None:
    unanswerable = {"answerable": False, "refusal": "correct_refusal", "failed": False, "passed": True}
    records = [_answered(1.0, 1.0), _answered(0.0, 0.5), unanswerable | {"latency_ms": 30.0}]
    metrics = question_metrics(records)
    questions = [name for name in metrics if name.startswith("questions.")]
    assert questions[: len(QUESTION_METRICS)] == [f"questions.{name}" for name in QUESTION_METRICS]
    # Then the same rates per language and per split (records without a locale count as English).
    assert metrics["questions.en.count"] == 3.0 and metrics["questions.en.fact_recall"] == 0.75
    assert not any(name.startswith(("questions.fr.", "questions.dev.")) for name in metrics)
    assert metrics["questions.count"] == 3.0
    assert metrics["questions.retrieval_hit@1"] == 0.5 and metrics["questions.fact_recall"] == 0.75
    assert metrics["questions.correct_refusal_rate"] == 1.0 and metrics["questions.false_refusal_rate"] == 0.0
    assert metrics["questions.pass_rate"] == pytest.approx(2 / 3)
    assert not any(name.startswith("baseline.") for name in metrics)  # the baseline did not run


def test_baseline_metrics_come_after_the_assistants_when_it_ran() -> None:
    baseline = {"refusal": "false_refusal", "hit@1": 0.0, "hit@5": 0.0, "rr": 0.0, "fact_recall": 0.0}
    metrics = question_metrics([_answered(1.0, 1.0, baseline | {"cites_gold": 0.0})])
    names = list(metrics)
    assert names.index("questions.latency_p95_ms") < names.index("baseline.retrieval_hit@1")
    assert metrics["baseline.false_refusal_rate"] == 1.0 and metrics["baseline.retrieval_mrr"] == 0.0
    assert "baseline.citation_validity" not in metrics
    assert question_metrics([]) == {}
