"""Cross-channel scoring (pure) and the gate: repeated questions across channels and leaks must be 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.casefiles import CaseFileError
from eval.compare import compare_metrics, load_thresholds
from eval.crosschannel import (
    continuity,
    cross_channel_metrics,
    is_cross_channel_file,
    load_cross_channel,
    repeats_across_channels,
    split_case_paths,
)

CASES = Path(__file__).resolve().parents[2] / "eval" / "cases"


def test_a_question_for_something_given_on_another_channel_is_a_repeat() -> None:
    turns = [
        {
            "channel": "email",
            "customer": "cancel #W1000001 please",
            "bot": "Which order?",
            "implicit": ["email"],
        },
        {"channel": "whatsapp", "customer": "any news?", "bot": "Which order number is it about?"},
        {
            "channel": "whatsapp",
            "customer": "and my email?",
            "bot": "What is the email address on your account?",
        },
    ]
    # The first ask is on the channel where the id was given (not a cross-channel repeat); the next two
    # ask on WhatsApp for the order id and the email given by email.
    assert repeats_across_channels(turns) == [(2, "order_id"), (3, "email")]


def test_code_exchange_turns_are_not_scored() -> None:
    turns = [
        {"channel": "email", "customer": "hi", "bot": "x", "implicit": ["email"]},
        {
            "channel": "sms",
            "customer": "it's me, a@example.com",
            "bot": "what is your email address?",
            "link": True,
        },
    ]
    assert repeats_across_channels(turns) == []


def test_continuity() -> None:
    turns = [
        {"channel": "email", "customer": "cancel #W1000001", "bot": "code sent"},
        {"channel": "sms", "customer": "123456", "bot": "linked", "link": True},
        {"channel": "sms", "customer": "go ahead", "bot": "Cancel order #W1000001? Shall I go ahead?"},
    ]
    assert continuity(turns, ["#W1000001"]) is True
    turns[-1]["bot"] = "Which order?"
    assert continuity(turns, ["#W1000001"]) is False
    assert continuity(turns, []) is None


def test_metrics_and_gate() -> None:
    records = [
        {"repeats": [], "continuity": True, "leaks": [], "passed": True},
        {"repeats": [(2, "order_id")], "continuity": None, "leaks": ["W1000001"], "passed": False},
    ]
    metrics = cross_channel_metrics(records)
    assert metrics["crosschannel.repeated_questions_across_channels"] == 1.0
    assert metrics["crosschannel.leaks"] == 1.0 and metrics["crosschannel.continuity_rate"] == 1.0
    # With no baseline for these metrics, the gate still fails on any repeat or leak.
    deltas = {d.name: d for d in compare_metrics({}, metrics, load_thresholds(None))}
    assert deltas["crosschannel.repeated_questions_across_channels"].failed
    assert deltas["crosschannel.leaks"].failed
    clean = cross_channel_metrics([records[0]])
    assert not any(d.failed for d in compare_metrics({}, clean, load_thresholds(None)))


def test_case_file_is_recognised_and_valid(tmp_path: Path) -> None:
    path = CASES / "cross_channel_conversations.jsonl"
    assert is_cross_channel_file(path)
    assert not is_cross_channel_file(CASES / "sample_shop_conversations.jsonl")
    usual, cross = split_case_paths([CASES / "sample_shop_questions.jsonl", path])
    assert cross == [path] and usual == [CASES / "sample_shop_questions.jsonl"]
    cases = load_cross_channel([path])
    assert len(cases) >= 6 and any(c.probes for c in cases) and any(c.continuity_facts for c in cases)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "b", "kind": "cross_channel", "steps": []}) + "\n")
    with pytest.raises(CaseFileError):
        load_cross_channel([bad])
