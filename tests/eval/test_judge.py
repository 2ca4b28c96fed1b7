"""The optional LLM judge: verdict parsing, its requests against the local OpenAI-protocol stub, and the
runner using it when the openai provider is configured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eval.judge import AnswerJudge, JudgedAnswer, JudgeUnavailable, judge_metrics, parse_verdict
from knowledge.settings import Settings
from tests.assistant.openai_stub import StubReply, start_stub_server, tool_call

CASES_DIR = Path(__file__).resolve().parents[2] / "eval" / "cases"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"correctness": 5, "tone": 4, "reason": "all facts"}', (5, 4)),
        ('Sure! ```json\n{"correctness": 2, "tone": 5}\n```', (2, 5)),
        ('{"correctness": 7, "tone": 4}', None),  # out of range is not a verdict
        ("The answer is good.", None),
        ('{"correctness": "high"}', None),
    ],
)
def test_parse_verdict(text: str, expected: tuple[int, int] | None) -> None:
    verdict = parse_verdict(text)
    assert (None if verdict is None else (verdict.correctness, verdict.tone)) == expected


def test_judge_metrics_scale_to_0_1_and_count_errors() -> None:
    questions = [
        {"judge": {"correctness": 5, "tone": 5, "reason": ""}},
        {"judge": {"correctness": 1, "tone": 3, "reason": ""}},
        {"judge": {"error": "not a verdict"}},
        {},  # not judged
    ]
    assert judge_metrics(questions) == {"judge.correctness": 0.5, "judge.tone": 0.75, "judge.errors": 1.0}
    assert judge_metrics([{}]) == {}


def test_judge_needs_a_model(tmp_path: Path) -> None:
    with pytest.raises(JudgeUnavailable):
        AnswerJudge(Settings(data_dir=tmp_path, llm_provider="offline"))


def test_judge_sends_question_facts_and_passages_and_survives_bad_replies(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []
    base_url, stop = start_stub_server(
        [StubReply(content='{"correctness": 4, "tone": 5, "reason": "ok"}'), StubReply(content="no idea")],
        received=received,
    )
    try:
        settings = Settings(
            data_dir=tmp_path, llm_provider="openai", llm_base_url=base_url, llm_max_retries=0
        )
        judge = AnswerJudge(settings)
        answer = JudgedAnswer(
            question="how long is shipping?",
            reply="4 to 6 business days [1]",
            facts=["4 to 6 business days"],
            passages=["Standard shipping takes 4 to 6 business days."],
        )
        good = judge.judge(answer)
        bad = judge.judge(answer)
        broken = judge.judge(answer)  # the script is used up: the stub answers 500
    finally:
        stop()
    assert good == {"correctness": 4, "tone": 5, "reason": "ok"}
    assert "not a verdict" in bad["error"] and "error" in broken
    prompt = received[0]["messages"][0]["content"]
    assert "how long is shipping?" in prompt and "4 to 6 business days" in prompt
    assert "Standard shipping takes" in prompt and received[0]["temperature"] == 0.0


@pytest.mark.slow
def test_runner_judges_each_question_with_the_openai_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eval.runner import RunOptions, run_evaluation

    line = next(
        ln for ln in (CASES_DIR / "sample_shop_questions.jsonl").read_text().splitlines() if '"q001"' in ln
    )
    cases = tmp_path / "q.jsonl"
    cases.write_text(line + "\n")
    received: list[dict[str, Any]] = []
    base_url, stop = start_stub_server(
        [
            StubReply(tool_calls=[tool_call("search_help_center", {"query": "standard shipping time US"})]),
            StubReply(content="Standard shipping takes 4 to 6 business days [1]."),
            StubReply(content='{"correctness": 5, "tone": 5, "reason": "states the fact"}'),
        ],
        received=received,
    )
    monkeypatch.setenv("PARLEY_LLM_BASE_URL", base_url)
    monkeypatch.setenv("PARLEY_LLM_MAX_RETRIES", "0")
    try:
        results = run_evaluation(
            [cases],
            RunOptions(out_dir=tmp_path / "out", provider="openai", baseline=False, progress=False),
        )
    finally:
        stop()
    (question,) = results.questions
    assert question["reply"].startswith("Standard shipping takes 4 to 6 business days")
    assert question["judge"] == {"correctness": 5, "tone": 5, "reason": "states the fact"}
    assert results.metrics["judge.correctness"] == 1.0 and results.metrics["judge.errors"] == 0.0
    assert results.info["judge"]
    assert "Standard shipping" in json.dumps(received[-1]["messages"])  # the judge saw the passages
