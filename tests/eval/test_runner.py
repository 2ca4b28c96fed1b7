"""The runner end to end on a tiny case set (real shop, real Chroma index, real embeddings), and the gate
catching a deliberately broken retriever."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from eval.casefiles import CaseFileError, load_cases
from eval.environment import make_settings, prepare_environment
from eval.runner import RunOptions, ShuffledRetriever, run_evaluation, write_results

CASES_DIR = Path(__file__).resolve().parents[2] / "eval" / "cases"
# Questions whose gold article the real index ranks in the top 5 (so a broken retriever must show).
QUESTION_IDS = ("q001", "q002")
CONVERSATION_IDS = ("c09",)  # cancel with a confirmation: tools, state, facts


def pick(source: Path, ids: tuple[str, ...], target: Path) -> None:
    lines = [line for line in source.read_text().splitlines() if json.loads(line)["id"] in ids]
    assert len(lines) == len(ids)
    target.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def tiny_cases(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("cases")
    pick(CASES_DIR / "sample_shop_questions.jsonl", QUESTION_IDS, folder / "q.jsonl")
    pick(CASES_DIR / "sample_shop_conversations.jsonl", CONVERSATION_IDS, folder / "c.jsonl")
    return [folder / "q.jsonl", folder / "c.jsonl"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One prepared data dir (sample shop + help-centre index) shared by the runs below."""
    path = tmp_path_factory.mktemp("data")
    prepare_environment(make_settings(path, "offline"), progress=False)
    return path


@pytest.fixture(scope="module")
def normal_run(tiny_cases: list[Path], data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("normal")
    results = run_evaluation(
        tiny_cases, RunOptions(out_dir=out, provider="offline", data_dir=data_dir, progress=False)
    )
    write_results(results, out)
    return out


@pytest.mark.slow
def test_runner_writes_results_and_report(normal_run: Path) -> None:
    results: dict[str, Any] = json.loads((normal_run / "results.json").read_text())
    assert [q["id"] for q in results["questions"]] == list(QUESTION_IDS)
    assert [c["id"] for c in results["conversations"]] == list(CONVERSATION_IDS)
    metrics = results["metrics"]
    assert metrics["questions.count"] == 2 and metrics["conversations.count"] == 1
    assert metrics["questions.retrieval_hit@5"] == 1.0
    for key in (
        "baseline.retrieval_hit@5",
        "effort.first_response_p50_ms",
        "conversations.final_state_match",
    ):
        assert key in metrics
    conversation = results["conversations"][0]
    assert len(conversation["transcript"]) >= 1 and conversation["transcript"][0]["bot"]
    html = (normal_run / "report.html").read_text()
    assert "<h1>Parley evaluation report</h1>" in html
    assert html.count("data:image/png;base64,") >= 2  # metric bars + latency histogram
    assert "naive RAG" in html or "baseline" in html.lower()


@pytest.mark.slow
def test_gate_fails_when_a_broken_retriever_is_plugged_in(
    tiny_cases: list[Path], data_dir: Path, normal_run: Path, tmp_path: Path
) -> None:
    broken = run_evaluation(
        tiny_cases,
        RunOptions(
            out_dir=tmp_path,
            provider="offline",
            data_dir=data_dir,
            wrap_retriever=ShuffledRetriever,
            progress=False,
            baseline=False,
        ),
    )
    write_results(broken, tmp_path)
    assert broken.metrics["questions.retrieval_hit@5"] == 0.0
    runner = CliRunner()
    result = runner.invoke(
        app, ["eval", "compare", str(normal_run / "results.json"), str(tmp_path / "results.json")]
    )
    assert result.exit_code == 1, result.output
    assert "questions.retrieval_hit@5" in result.output
    same = runner.invoke(
        app, ["eval", "compare", str(normal_run / "results.json"), str(normal_run / "results.json")]
    )
    assert same.exit_code == 0, same.output


def test_bad_case_files_give_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "turns": []}\n')
    with pytest.raises(CaseFileError, match="bad.jsonl:1: turns"):
        load_cases([bad])
    bad.write_text("{not json\n")
    with pytest.raises(CaseFileError, match="invalid JSON"):
        load_cases([bad])
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "q", "question": "a"}\n{"id": "q", "question": "b"}\n')
    with pytest.raises(CaseFileError, match="duplicate case id"):
        load_cases([dup])
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(CaseFileError, match="unsupported"):
        load_cases([tmp_path / "x.txt"])
    with pytest.raises(CaseFileError, match="not found"):
        load_cases([tmp_path / "missing.jsonl"])
    result = CliRunner().invoke(app, ["eval", "run", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path)])
    assert result.exit_code == 2 and "not found" in result.output
