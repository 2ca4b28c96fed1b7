"""The offline evaluation runner: builds the environment, runs the cases through SupportService, scores them.

`run_evaluation(case_paths, options)` -> EvalResults (per-case records + aggregate metrics), written to
results.json and report.html by `write_results`. The retriever can be swapped through
`RunOptions.wrap_retriever` (the injection point the regression-gate test uses to plug in a broken one).
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval import metrics as m
from eval.casefiles import ConversationCase, QuestionCase, load_cases

REPO_ROOT = Path(__file__).resolve().parent.parent
HELP_CENTER_SOURCES = (
    REPO_ROOT / "knowledge" / "sample_data" / "help_center",
    REPO_ROOT / "knowledge" / "sample_data" / "faq.csv",
)
TAU2_DIR = REPO_ROOT.parent / "shared" / "datasets" / "tau2"
# Tools whose every call counts for tool-call precision, listed in a case or not.
ALWAYS_SCORED_TOOLS = frozenset(
    {
        "cancel_pending_order",
        "modify_pending_order_address",
        "modify_pending_order_items",
        "modify_pending_order_payment",
        "modify_user_address",
        "return_delivered_order_items",
        "exchange_delivered_order_items",
        "transfer_to_human_agents",
    }
)
SEARCH_K = 5

Retriever = Any  # anything with .search(query, k=...) -> list[SearchHit-like]


@dataclass
class RunOptions:
    out_dir: Path
    provider: str | None = None  # None: as configured (offline unless an endpoint is set)
    limit: int | None = None  # at most this many cases per case file kind
    data_dir: Path | None = None  # reuse a prepared data dir (shop + help-centre index) instead of a temp one
    banking_tasks: int | None = 0  # τ² banking retrieval: 0 skips, None runs all 97 tasks
    banking_full_corpus: bool = False  # index all 698 documents (slow) instead of the task subset
    tau2_replay: bool = False
    simulate_trials: int = 0  # τ² simulated conversations (openai provider only), trials per task
    simulate_tasks: int = 5
    baseline: bool = True
    judge: bool | None = None  # the LLM judge of answers; None: on when a model is configured (openai)
    wrap_retriever: Callable[[Retriever], Retriever] | None = None
    progress: bool = True


@dataclass
class EvalResults:
    metrics: dict[str, float | None]
    questions: list[dict[str, Any]] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)
    banking: list[dict[str, Any]] = field(default_factory=list)
    tau2_replay: list[dict[str, Any]] = field(default_factory=list)
    simulations: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    cross_channel: list[dict[str, Any]] = field(default_factory=list)  # eval/crosschannel.py

    def as_dict(self) -> dict[str, Any]:
        return {
            "info": self.info,
            "metrics": self.metrics,
            "questions": self.questions,
            "conversations": self.conversations,
            "banking": self.banking,
            "tau2_replay": self.tau2_replay,
            "simulations": self.simulations,
            "cross_channel": self.cross_channel,
        }


# --------------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------------


def make_settings(data_dir: Path, provider: str | None) -> Any:
    from knowledge.settings import Settings

    overrides: dict[str, Any] = {"data_dir": data_dir}
    if provider is not None:
        overrides["llm_provider"] = provider
    return Settings(**overrides)


def sample_shop_data() -> Any:
    from assistant.shop.generator import generate_shop

    return generate_shop()  # seed 7: the ids in the case files come from it


def tau2_shop_data() -> Any:
    from assistant.tools.replay import load_shop_data

    return load_shop_data(TAU2_DIR / "retail" / "db.json")


def prepare_environment(settings: Any, progress: bool) -> dict[str, Any]:
    """Sample shop in the database and the help centre in the index (only what is missing or changed)."""
    from assistant.shop.store import ShopStore
    from knowledge.index import HelpCenterIndex

    started = time.perf_counter()
    store = ShopStore(str(settings.database_url))
    store.migrate()
    store.import_data(sample_shop_data(), replace=True)
    report = HelpCenterIndex(settings).ingest(list(HELP_CENTER_SOURCES), progress=progress)
    if report.errors:
        raise RuntimeError("help-centre ingest failed: " + "; ".join(str(e) for e in report.errors[:3]))
    return {
        "environment_seconds": round(time.perf_counter() - started, 1),
        "chunks_embedded": report.chunks_embedded,
    }


def _progress(items: Sequence[Any], description: str, enabled: bool) -> Any:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=description, unit="case")


# --------------------------------------------------------------------------------------------------
# Questions
# --------------------------------------------------------------------------------------------------


def _last_search_hits(trace: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The hits of the turn's last successful help-centre search (what the reply could cite)."""
    searches = [t for t in trace if t.get("name") == "search_help_center" and t.get("ok")]
    hits: list[dict[str, Any]] = (searches[-1].get("output") or {}).get("hits", []) if searches else []
    return hits


def _hits_of(trace: Sequence[dict[str, Any]]) -> list[str]:
    return [str(h.get("article_id")) for h in _last_search_hits(trace)]


def _passages_of(trace: Sequence[dict[str, Any]]) -> list[str]:
    return [str(h.get("text", "")) for h in _last_search_hits(trace)]


def run_question(
    service: Any, retriever: Retriever, baseline: Any, case: QuestionCase, judge: Any = None
) -> dict[str, Any]:
    retrieved = [h.article_id for h in retriever.search(case.question, k=SEARCH_K)]
    conversation, _ = service.start_conversation(channel="eval")
    result = service.customer_turn(conversation.id, case.question)
    cited = [str(c.get("article_id")) for c in result.citations]
    declined = m.is_decline(result.reply, result.citations, result.handover)
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
        "bot_retrieved": _hits_of(result.tool_calls),
        "handover": result.handover,
        "failed": result.failed,
        "latency_ms": round(result.latency_ms, 1),
        "declined": declined,
        "refusal": m.refusal_outcome(case.answerable, declined),
    }
    if case.answerable:
        record |= {
            "hit@1": m.hit_at_k(retrieved, case.gold_article_ids, 1),
            "hit@5": m.hit_at_k(retrieved, case.gold_article_ids, 5),
            "rr": m.reciprocal_rank(retrieved, case.gold_article_ids),
            "fact_recall": m.fact_recall(result.reply, case.facts),
            "citation_validity": m.citation_validity(cited, record["bot_retrieved"]),
            "cites_gold": m.cites_gold(cited, case.gold_article_ids),
        }
    if baseline is not None:
        answer = baseline.answer(case.question)
        b_declined = m.is_decline(answer.answer, answer.cited)
        record["baseline"] = {
            "answer": answer.answer[:1500],
            "retrieved": answer.retrieved,
            "refusal": m.refusal_outcome(case.answerable, b_declined),
        }
        if case.answerable:
            record["baseline"] |= {
                "hit@1": m.hit_at_k(answer.retrieved, case.gold_article_ids, 1),
                "hit@5": m.hit_at_k(answer.retrieved, case.gold_article_ids, 5),
                "rr": m.reciprocal_rank(answer.retrieved, case.gold_article_ids),
                "fact_recall": m.fact_recall(answer.answer, case.facts),
                "cites_gold": m.cites_gold(answer.cited, case.gold_article_ids),
            }
    if judge is not None:
        from eval.judge import JudgedAnswer

        record["judge"] = judge.judge(
            JudgedAnswer(
                question=case.question,
                reply=result.reply or "",
                facts=case.facts,
                passages=_passages_of(result.tool_calls),
                answerable=case.answerable,
                language=case.locale,
            )
        )
    record["passed"] = _question_passed(record)
    return record


def _question_passed(record: dict[str, Any]) -> bool:
    if not record["answerable"]:
        return bool(record["refusal"] == "correct_refusal")
    return bool(record["refusal"] == "answered" and record.get("fact_recall", 0.0) >= 1.0)


# --------------------------------------------------------------------------------------------------
# Conversations
# --------------------------------------------------------------------------------------------------


def _state_of(store: Any, expected: Mapping[Any, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The shop rows named in the expected final state, as τ² JSON."""
    state: dict[str, dict[str, Any]] = {}
    with store.transaction() as shop:
        for table, rows in expected.items():
            getter = {"orders": shop.get_order, "users": shop.get_user, "products": shop.get_product}[table]
            state[table] = {}
            for row_id in rows:
                row = getter(row_id)
                if row is not None:
                    state[table][row_id] = row.model_dump(mode="json")
    return state


def run_conversation(service: Any, shops: dict[str, Any], case: ConversationCase) -> dict[str, Any]:
    service.shop.import_data(shops[case.setup.shop], replace=True)  # every case starts on a fresh shop
    conversation, _ = service.start_conversation(channel="eval", user_id=case.setup.customer_token_user_id)
    transcript: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    takeover_turn: int | None = None
    resolved_turn: int | None = None
    bot_text = ""
    for number, turn in enumerate(case.turns, start=1):
        result = service.customer_turn(conversation.id, turn.text)
        executed = [c for c in result.tool_calls if c.get("ok") is not None and not c.get("rejected")]
        calls.extend(executed)
        bot_text += "\n" + (result.reply or "")
        transcript.append(
            {
                "customer": turn.text,
                "bot": result.reply,
                "tools": [
                    {
                        "name": c["name"],
                        "arguments": c.get("arguments"),
                        "ok": c.get("ok"),
                        "error": c.get("error"),
                        "rejected": bool(c.get("rejected")),
                    }
                    for c in result.tool_calls
                ],
                "status": result.status.value,
                "latency_ms": round(result.latency_ms, 1),
                "guard": (result.guard or {}).get("trigger") if result.guard else None,
            }
        )
        if result.handover or result.status.value != "bot":
            takeover_turn = number
            break  # the customer now waits for a person: the script ends here
        matched, _ = m.match_tool_calls([c.model_dump() for c in case.expected_tool_calls], calls)
        if (
            resolved_turn is None
            and matched == len(case.expected_tool_calls)
            and m.fact_recall(bot_text, case.facts) >= 1.0
        ):
            resolved_turn = number
    expected_calls = [c.model_dump() for c in case.expected_tool_calls]
    scores = m.tool_call_scores(expected_calls, calls, ALWAYS_SCORED_TOOLS)
    state_problems = m.final_state_mismatches(
        case.expected_final_state, _state_of(service.shop, case.expected_final_state)
    )
    leaks = [f for f in case.forbidden_facts if f.casefold() in bot_text.casefold()]
    repeats = m.repeated_questions([(t["customer"], t["bot"]) for t in transcript])
    fact_recall = m.fact_recall(bot_text, case.facts)
    took_over = takeover_turn is not None
    resolved = (
        not took_over
        and not case.expected_takeover
        and scores["recall"] in (None, 1.0)
        and scores["exact"] == 1.0
        and not state_problems
        and fact_recall >= 1.0
        and not leaks
    )
    passed = (
        scores["exact"] == 1.0
        and not state_problems
        and fact_recall >= 1.0
        and not leaks
        and took_over == case.expected_takeover
        and (
            case.takeover_by_turn is None
            or (takeover_turn is not None and takeover_turn <= case.takeover_by_turn)
        )
    )
    return {
        "id": case.id,
        "tags": case.tags,
        "turns": len(case.turns),
        "transcript": transcript,
        "expected_tool_calls": expected_calls,
        "tool_precision": scores["precision"],
        "tool_recall": scores["recall"],
        "tool_exact": scores["exact"],
        "final_state_ok": not state_problems,
        "final_state_problems": state_problems,
        "fact_recall": fact_recall,
        "leaks": leaks,
        "expected_takeover": case.expected_takeover,
        "takeover": took_over,
        "takeover_turn": takeover_turn,
        "takeover_turn_delta": m.takeover_turn_delta(case.takeover_by_turn, takeover_turn),
        "repeated_questions": repeats,
        "resolved": resolved,
        "turns_to_resolution": resolved_turn if resolved else None,
        "first_response_ms": transcript[0]["latency_ms"] if transcript else None,
        "passed": passed,
    }


# --------------------------------------------------------------------------------------------------
# Aggregation
# --------------------------------------------------------------------------------------------------


def aggregate(
    questions: list[dict[str, Any]],
    conversations: list[dict[str, Any]],
    banking: list[dict[str, Any]],
    replay: list[dict[str, Any]],
    simulations: list[dict[str, Any]],
) -> dict[str, float | None]:
    from eval.judge import judge_metrics

    out: dict[str, float | None] = {}
    answerable = [q for q in questions if q["answerable"]]
    unanswerable = [q for q in questions if not q["answerable"]]
    if questions:
        latencies = [q["latency_ms"] for q in questions]
        out |= {
            "questions.count": float(len(questions)),
            "questions.retrieval_hit@1": m.mean(q["hit@1"] for q in answerable),
            "questions.retrieval_hit@5": m.mean(q["hit@5"] for q in answerable),
            "questions.retrieval_mrr": m.mean(q["rr"] for q in answerable),
            "questions.fact_recall": m.mean(q["fact_recall"] for q in answerable),
            "questions.citation_validity": m.mean(q["citation_validity"] for q in answerable),
            "questions.cites_gold": m.mean(q["cites_gold"] for q in answerable),
            "questions.correct_refusal_rate": m.mean(q["refusal"] == "correct_refusal" for q in unanswerable),
            "questions.false_refusal_rate": m.mean(q["refusal"] == "false_refusal" for q in answerable),
            "questions.failed_rate": m.mean(q["failed"] for q in questions),
            "questions.pass_rate": m.mean(q["passed"] for q in questions),
            "questions.latency_p50_ms": m.percentile(latencies, 50),
            "questions.latency_p95_ms": m.percentile(latencies, 95),
        }
        out |= judge_metrics(questions)
        with_baseline = [q for q in questions if "baseline" in q]
        if with_baseline:
            b_ans = [q["baseline"] for q in with_baseline if q["answerable"]]
            b_un = [q["baseline"] for q in with_baseline if not q["answerable"]]
            out |= {
                "baseline.retrieval_hit@1": m.mean(b["hit@1"] for b in b_ans),
                "baseline.retrieval_hit@5": m.mean(b["hit@5"] for b in b_ans),
                "baseline.retrieval_mrr": m.mean(b["rr"] for b in b_ans),
                "baseline.fact_recall": m.mean(b["fact_recall"] for b in b_ans),
                "baseline.cites_gold": m.mean(b["cites_gold"] for b in b_ans),
                "baseline.correct_refusal_rate": m.mean(b["refusal"] == "correct_refusal" for b in b_un),
                "baseline.false_refusal_rate": m.mean(b["refusal"] == "false_refusal" for b in b_ans),
            }
    if conversations:
        first = [c["first_response_ms"] for c in conversations if c["first_response_ms"] is not None]
        takeover = m.takeover_counts((c["expected_takeover"], c["takeover"]) for c in conversations)
        deltas = [c["takeover_turn_delta"] for c in conversations if c["takeover_turn_delta"] is not None]
        expected_no_human = [c for c in conversations if not c["expected_takeover"]]
        out |= {
            "conversations.count": float(len(conversations)),
            "conversations.pass_rate": m.mean(c["passed"] for c in conversations),
            "conversations.tool_precision": m.mean(c["tool_precision"] for c in conversations),
            "conversations.tool_recall": m.mean(c["tool_recall"] for c in conversations),
            "conversations.tool_exact_match": m.mean(c["tool_exact"] for c in conversations),
            "conversations.final_state_match": m.mean(c["final_state_ok"] for c in conversations),
            "conversations.fact_recall": m.mean(c["fact_recall"] for c in conversations),
            "conversations.leak_rate": m.mean(bool(c["leaks"]) for c in conversations),
            "conversations.takeover_precision": takeover["precision"],
            "conversations.takeover_recall": takeover["recall"],
            "conversations.takeover_turn_delta_mean": m.mean(deltas),
            "effort.resolution_without_human": m.mean(c["resolved"] for c in expected_no_human),
            "effort.turns_to_resolution": m.mean(c["turns_to_resolution"] for c in conversations),
            "effort.repeated_questions_per_conversation": m.mean(
                len(c["repeated_questions"]) for c in conversations
            ),
            "effort.handoff_rate": m.mean(c["takeover"] for c in conversations),
            "effort.first_response_p50_ms": m.percentile(first, 50),
            "effort.first_response_p95_ms": m.percentile(first, 95),
        }
    if banking:
        out |= {
            "banking.count": float(len(banking)),
            "banking.hit@1": m.mean(b["hit@1"] for b in banking),
            "banking.hit@5": m.mean(b["hit@5"] for b in banking),
            "banking.mrr": m.mean(b["rr"] for b in banking),
            "banking.recall@5": m.mean(b["recall@5"] for b in banking),
            "banking.recall@10": m.mean(b["recall@10"] for b in banking),
        }
    if replay:
        out |= {
            "tau2_replay.tasks": float(len(replay)),
            "tau2_replay.completed_rate": m.mean(r["completed"] for r in replay),
            "tau2_replay.rejected_calls": float(sum(len(r["rejected"]) for r in replay)),
            "tau2_replay.unexpected_rejections": float(sum(len(r["unexpected_rejections"]) for r in replay)),
        }
    if simulations:
        from eval.simulator import aggregate_simulations

        out |= aggregate_simulations(simulations)
    return out


# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------


def run_evaluation(case_paths: Sequence[Path], options: RunOptions) -> EvalResults:
    from eval.crosschannel import cross_channel_metrics, run_cross_channel, split_case_paths

    started = time.perf_counter()
    usual_paths, cross_paths = split_case_paths(list(case_paths))  # cross-channel cases run apart
    cases = load_cases(usual_paths)
    questions = [c for c in cases if isinstance(c, QuestionCase)]
    conversations = [c for c in cases if isinstance(c, ConversationCase)]
    if options.limit is not None:
        questions, conversations = questions[: options.limit], conversations[: options.limit]
    options.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parley-eval-") as tmp:
        data_dir = options.data_dir or Path(tmp) / "data"
        settings = make_settings(data_dir, options.provider)
        info: dict[str, Any] = {
            "provider": settings.effective_llm_provider,
            "case_files": [str(p) for p in case_paths],
            "data_dir": str(data_dir) if options.data_dir else "(temporary)",
            "retriever": "wrapped" if options.wrap_retriever else "HelpCenterIndex (hybrid)",
        }
        if questions or conversations:
            info |= prepare_environment(settings, options.progress)
        q_records: list[dict[str, Any]] = []
        c_records: list[dict[str, Any]] = []
        if questions or conversations:
            from assistant.service import SupportService

            service = SupportService(settings)
            retriever: Retriever = service.help_center.index
            if options.wrap_retriever is not None:
                retriever = options.wrap_retriever(retriever)
                service.help_center.index = retriever  # the agent's search tool uses it too
            baseline = None
            if options.baseline and questions:
                from eval.baseline import NaiveRagBaseline

                client = getattr(service.help_center.index, "client", None)
                baseline = NaiveRagBaseline(settings, service.embedder, client=client)
            judge = None
            use_judge = options.judge if options.judge is not None else service.provider == "openai"
            if use_judge and questions:
                from eval.judge import AnswerJudge

                judge = AnswerJudge(settings)  # JudgeUnavailable when --judge is asked for offline
                info["judge"] = settings.llm_model
            for case in _progress(questions, "questions", options.progress):
                q_records.append(run_question(service, retriever, baseline, case, judge))
            shops: dict[str, Any] = {"sample": sample_shop_data()}
            if any(c.setup.shop == "tau2" for c in conversations):
                shops["tau2"] = tau2_shop_data()
            for conv in _progress(conversations, "conversations", options.progress):
                c_records.append(run_conversation(service, shops, conv))
        b_records: list[dict[str, Any]] = []
        if options.banking_tasks != 0:
            from eval.tau2 import run_banking_retrieval

            b_records = run_banking_retrieval(
                Path(tmp) / "banking",
                options.banking_tasks,
                options.banking_full_corpus,
                options.progress,
                wrap_retriever=options.wrap_retriever,
            )
        r_records: list[dict[str, Any]] = []
        if options.tau2_replay:
            from eval.tau2 import run_tau2_replay

            r_records = run_tau2_replay(Path(tmp) / "replay")
        ran_service = service if (questions or conversations) else None
        x_records = run_cross_channel(cross_paths, settings, ran_service, options.progress)
        s_records: list[dict[str, Any]] = []
        if options.simulate_trials > 0:
            from eval.simulator import run_simulations

            s_records = run_simulations(
                settings, Path(tmp) / "simulation", options.simulate_tasks, options.simulate_trials
            )
    info["seconds"] = round(time.perf_counter() - started, 1)
    return EvalResults(
        metrics=aggregate(q_records, c_records, b_records, r_records, s_records)
        | cross_channel_metrics(x_records),
        questions=q_records,
        conversations=c_records,
        banking=b_records,
        tau2_replay=r_records,
        simulations=s_records,
        info=info,
        cross_channel=x_records,
    )


def write_results(results: EvalResults, out_dir: Path) -> tuple[Path, Path]:
    from eval.report import render_report

    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / "results.json"
    results_path.write_text(json.dumps(results.as_dict(), indent=1, ensure_ascii=False, default=str))
    report_path = out_dir / "report.html"
    report_path.write_text(render_report(results.as_dict()), encoding="utf-8")
    return results_path, report_path


class ShuffledRetriever:
    """A deliberately broken retriever: the real index's hits for a random unrelated query.

    Used to prove that the regression gate catches a retrieval regression (tests/eval/test_gate.py) and
    available from the CLI as `--retriever broken`."""

    DECOYS = ("gift wrapping", "warehouse jobs", "loyalty points", "store opening hours", "kayak")

    def __init__(self, inner: Retriever, seed: int = 0) -> None:
        self.inner = inner
        self.random = random.Random(seed)
        self.client = getattr(inner, "client", None)

    def search(self, query: str, k: int = 5, locale: str | None = None) -> list[Any]:
        return list(self.inner.search(self.random.choice(self.DECOYS), k=k))
