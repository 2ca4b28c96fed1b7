"""Single questions: ask the assistant (and the naive RAG baseline) each question once, score the answer,
and average the records into the `questions.*` and `baseline.*` metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eval import metrics as m
from eval.breakdown import question_breakdown
from eval.casefiles import QuestionCase
from eval.retrievers import Retriever

SEARCH_K = 5
# The order of the `questions.*` metrics (results.json, the report's table).
QUESTION_METRICS = (
    "count",
    "retrieval_hit@1",
    "retrieval_hit@5",
    "retrieval_mrr",
    "fact_recall",
    "citation_validity",
    "cites_gold",
    "correct_refusal_rate",
    "false_refusal_rate",
    "failed_rate",
    "pass_rate",
    "latency_p50_ms",
    "latency_p95_ms",
)


def last_search_hits(trace: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The hits of the turn's last successful help-centre search (what the reply could cite)."""
    searches = [t for t in trace if t.get("name") == "search_help_center" and t.get("ok")]
    hits: list[dict[str, Any]] = (searches[-1].get("output") or {}).get("hits", []) if searches else []
    return hits


def _answer_scores(
    case: QuestionCase, retrieved: list[str], answer: str, cited: list[str], bot_retrieved: list[str] | None
) -> dict[str, Any]:
    """How an answer to an answerable question scores: retrieval, facts, citations."""
    gold = case.gold_article_ids
    scores: dict[str, Any] = {
        "hit@1": m.hit_at_k(retrieved, gold, 1),
        "hit@5": m.hit_at_k(retrieved, gold, 5),
        "rr": m.reciprocal_rank(retrieved, gold),
        "fact_recall": m.fact_recall(answer, case.facts),
    }
    if bot_retrieved is not None:  # the baseline has no trace of what it retrieved for the answer
        scores["citation_validity"] = m.citation_validity(cited, bot_retrieved)
    scores["cites_gold"] = m.cites_gold(cited, gold)
    return scores


def _baseline_record(baseline: Any, case: QuestionCase) -> dict[str, Any]:
    answer = baseline.answer(case.question)
    declined = m.is_decline(answer.answer, answer.cited)
    record: dict[str, Any] = {
        "answer": answer.answer[:1500],
        "retrieved": answer.retrieved,
        "refusal": m.refusal_outcome(case.answerable, declined),
    }
    if case.answerable:
        record |= _answer_scores(case, answer.retrieved, answer.answer, answer.cited, None)
    return record


def _judged(judge: Any, case: QuestionCase, reply: str | None, trace: Sequence[dict[str, Any]]) -> Any:
    from eval.judge import JudgedAnswer

    return judge.judge(
        JudgedAnswer(
            question=case.question,
            reply=reply or "",
            facts=case.facts,
            passages=[str(h.get("text", "")) for h in last_search_hits(trace)],
            answerable=case.answerable,
            language=case.locale,
        )
    )


def run_question(
    service: Any, retriever: Retriever, baseline: Any, case: QuestionCase, judge: Any = None
) -> dict[str, Any]:
    retrieved = [h.article_id for h in retriever.search(case.question, k=SEARCH_K)]
    conversation, _ = service.start_conversation(channel="eval")
    result = service.customer_turn(conversation.id, case.question)
    trace = [t.model_dump() for t in result.tool_calls]
    cited = [str(c.article_id) for c in result.citations]
    declined = m.is_decline(result.reply, result.citations, result.handover)
    bot_retrieved = [str(h.get("article_id")) for h in last_search_hits(trace)]
    record: dict[str, Any] = {
        "id": case.id,
        "locale": case.locale,
        "tags": case.tags,
        "answerable": case.answerable,
        "question": case.question,
        "gold": case.gold_article_ids,
        "facts": case.facts,
        "reply": result.reply,
        "citations": cited,
        "retrieved": retrieved,
        "bot_retrieved": bot_retrieved,
        "handover": result.handover,
        "failed": result.failed,
        "latency_ms": round(result.latency_ms, 1),
        "split": case.split,
        "declined": declined,
        "refusal": m.refusal_outcome(case.answerable, declined),
    }
    if case.answerable:
        record |= _answer_scores(case, retrieved, result.reply, cited, bot_retrieved)
    if baseline is not None:
        record["baseline"] = _baseline_record(baseline, case)
    if judge is not None:
        record["judge"] = _judged(judge, case, result.reply, trace)
    record["passed"] = question_passed(record)
    return record


def question_passed(record: dict[str, Any]) -> bool:
    if not record["answerable"]:
        return bool(record["refusal"] == "correct_refusal")
    return bool(record["refusal"] == "answered" and record.get("fact_recall", 0.0) >= 1.0)


def _quality(answerable: list[dict[str, Any]], unanswerable: list[dict[str, Any]]) -> dict[str, float | None]:
    """What the assistant and the baseline are both scored on."""
    return {
        "retrieval_hit@1": m.mean(r["hit@1"] for r in answerable),
        "retrieval_hit@5": m.mean(r["hit@5"] for r in answerable),
        "retrieval_mrr": m.mean(r["rr"] for r in answerable),
        "fact_recall": m.mean(r["fact_recall"] for r in answerable),
        "cites_gold": m.mean(r["cites_gold"] for r in answerable),
        "correct_refusal_rate": m.mean(r["refusal"] == "correct_refusal" for r in unanswerable),
        "false_refusal_rate": m.mean(r["refusal"] == "false_refusal" for r in answerable),
    }


def question_metrics(questions: list[dict[str, Any]]) -> dict[str, float | None]:
    """`questions.*`, the judge's metrics when it ran, and `baseline.*` when the baseline ran."""
    from eval.judge import judge_metrics

    if not questions:
        return {}
    answerable = [q for q in questions if q["answerable"]]
    latencies = [q["latency_ms"] for q in questions]
    values = _quality(answerable, [q for q in questions if not q["answerable"]]) | {
        "count": float(len(questions)),
        "citation_validity": m.mean(q["citation_validity"] for q in answerable),
        "failed_rate": m.mean(q["failed"] for q in questions),
        "pass_rate": m.mean(q["passed"] for q in questions),
        "latency_p50_ms": m.percentile(latencies, 50),
        "latency_p95_ms": m.percentile(latencies, 95),
    }
    out = {f"questions.{name}": values[name] for name in QUESTION_METRICS}
    out |= question_breakdown(questions)  # per language, per split, the demo's questions
    out |= judge_metrics(questions)
    with_baseline = [q for q in questions if "baseline" in q]
    if with_baseline:
        baseline = _quality(
            [q["baseline"] for q in with_baseline if q["answerable"]],
            [q["baseline"] for q in with_baseline if not q["answerable"]],
        )
        out |= {f"baseline.{name}": value for name, value in baseline.items()}
    return out
