"""The guard evaluation: metric arithmetic on tiny hand-made sets, and the shipped labelled files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.guard import SentimentGuard
from assistant.guard.detectors import char_ngram_vectors
from eval.guard import runner
from eval.guard.metrics import binary_metrics, grouped_metrics, turn_timing
from knowledge.settings import Settings


@pytest.fixture(scope="module")
def guard() -> SentimentGuard:
    return SentimentGuard(Settings(_env_file=None), similarity=char_ngram_vectors)  # type: ignore[call-arg]


def test_binary_metrics_by_hand() -> None:
    # expected, predicted: 2 TP, 1 FP, 1 FN, 1 TN
    m = binary_metrics([(True, True), (True, True), (False, True), (True, False), (False, False)])
    assert (m.tp, m.fp, m.fn, m.tn) == (2, 1, 1, 1)
    assert m.precision == pytest.approx(2 / 3)
    assert m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(2 / 3)
    assert m.accuracy == pytest.approx(3 / 5)
    empty = binary_metrics([])
    assert empty.precision == empty.recall == empty.f1 == empty.accuracy == 0.0


def test_grouped_metrics_and_turn_timing_by_hand() -> None:
    groups = grouped_metrics([("fr", True, True), ("en", False, True), ("fr", True, False)])
    assert list(groups) == ["en", "fr"]
    assert groups["en"].fp == 1 and groups["fr"].tp == 1 and groups["fr"].fn == 1
    timing = turn_timing([(2, 2), (2, 1), (1, 3), (0, None)])
    assert (timing.exact, timing.early, timing.late, timing.missed) == (1, 1, 1, 1)
    assert timing.mean_delta == pytest.approx((0 - 1 + 2) / 3, abs=1e-3)


def test_evaluate_messages_on_a_tiny_labelled_set(guard: SentimentGuard) -> None:
    rows = [
        {"id": "1", "text": "I want to talk to a human.", "language": "en", "label": "takeover",
         "category": "ask"},
        {"id": "2", "text": "Where is my order?", "language": "en", "label": "no_takeover",
         "category": "calm"},
        # deliberately mislabelled so the report must count one false positive and one false negative
        {"id": "3", "text": "Worst service ever, I'm furious!", "language": "en", "label": "no_takeover",
         "category": "calm"},
        {"id": "4", "text": "Merci, bonne journée", "language": "fr", "label": "takeover", "category": "ask"},
    ]
    report = runner.evaluate_messages(guard, rows)
    assert (report.overall.tp, report.overall.fp, report.overall.tn, report.overall.fn) == (1, 1, 1, 1)
    assert report.by_language["fr"].fn == 1
    assert report.by_category["calm"].fp == 1
    assert {e["id"] for e in report.errors} == {"3", "4"}


def test_evaluate_conversations_on_a_tiny_set(guard: SentimentGuard) -> None:
    rows = [
        {"id": "a", "expected_takeover": True, "expected_turn": 2, "category": "ask",
         "turns": [{"role": "customer", "text": "Where is my order?"}, {"role": "bot", "text": "Tomorrow."},
                   {"role": "customer", "text": "I want to speak to a real person."}]},
        {"id": "b", "expected_takeover": True, "expected_turn": 2, "category": "early",
         "turns": [{"role": "customer", "text": "Agent please"}, {"role": "bot", "text": "Ok."},
                   {"role": "customer", "text": "Still there?"}]},
        {"id": "c", "expected_takeover": False, "expected_turn": None, "category": "calm",
         "turns": [{"role": "customer", "text": "Thanks, bye!"}]},
    ]
    report = runner.evaluate_conversations(guard, rows)
    assert (report.takeover.tp, report.takeover.tn) == (2, 1)
    assert (report.timing.exact, report.timing.early, report.timing.late) == (1, 1, 0)
    assert report.timing.mean_delta == pytest.approx(-0.5)
    assert report.details[1]["fired_turn"] == 0


def test_expected_turn_must_be_a_customer_turn(guard: SentimentGuard) -> None:
    rows = [{"id": "x", "expected_takeover": True, "expected_turn": 1,
             "turns": [{"role": "customer", "text": "hi"}, {"role": "bot", "text": "hello"}]}]
    with pytest.raises(runner.EvalDataError, match="customer turn"):
        runner.evaluate_conversations(guard, rows)


def test_load_jsonl_reports_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "label": "takeover"}\n{not json\n', encoding="utf-8")
    with pytest.raises(runner.EvalDataError, match=r"bad.jsonl:2"):
        runner.load_jsonl(bad, ("text", "label"))
    missing = tmp_path / "missing.jsonl"
    missing.write_text('{"text": "a"}\n', encoding="utf-8")
    with pytest.raises(runner.EvalDataError, match="missing label"):
        runner.load_jsonl(missing, ("text", "label"))
    with pytest.raises(runner.EvalDataError, match="not found"):
        runner.load_jsonl(tmp_path / "nope.jsonl", ("text",))


def test_shipped_labelled_sets_meet_the_spec() -> None:
    messages = runner.load_jsonl(runner.DEFAULT_MESSAGES, ("id", "text", "language", "label", "category"))
    assert len(messages) >= 160
    assert len({m["id"] for m in messages}) == len(messages)
    by_lang = {lang: sum(1 for m in messages if m["language"] == lang) for lang in ("en", "fr", "nl")}
    assert by_lang["fr"] >= 30 and by_lang["nl"] >= 30
    assert {m["label"] for m in messages} == {"takeover", "no_takeover"}
    conversations = runner.load_jsonl(runner.DEFAULT_CONVERSATIONS, ("id", "turns", "expected_takeover",
                                                                      "expected_turn", "category"))
    assert len(conversations) >= 24
    for conv in conversations:
        if conv["expected_takeover"]:
            assert conv["turns"][conv["expected_turn"]]["role"] == "customer", conv["id"]
        else:
            assert conv["expected_turn"] is None


def test_runs_on_the_shipped_sets(guard: SentimentGuard) -> None:
    messages = runner.load_jsonl(runner.DEFAULT_MESSAGES, ("text", "label"))
    report = runner.evaluate_messages(guard, messages)
    assert report.overall.n == len(messages)
    assert report.overall.tp + report.overall.fn == sum(1 for m in messages if m["label"] == "takeover")
    json.dumps(report.as_dict())  # serialisable for --json


def test_bitext_sample_is_balanced_and_deterministic() -> None:
    from tests.conftest import SHARED_DATASETS, require_or_skip

    path = SHARED_DATASETS / "bitext" / "customer_support_6480.csv"
    require_or_skip(path.exists(), f"Bitext not found at {path}")
    rows = runner.bitext_rows(path)
    positives = [r for r in rows if r["label"] == "takeover"]
    assert len(positives) * 2 == len(rows)
    assert {r["category"] for r in positives} == set(runner.BITEXT_POSITIVE_INTENTS)
    assert rows == runner.bitext_rows(path)
