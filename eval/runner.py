"""The offline evaluation runner: builds the environment, runs the cases through SupportService, scores them.

`run_evaluation(case_paths, options)` -> EvalResults (per-case records + aggregate metrics), written to
results.json and report.html by `write_results`. The retriever can be swapped through
`RunOptions.wrap_retriever` (the injection point the regression-gate test uses to plug in a broken one).
The parts: environment.py (settings, shop, index), questions.py, conversations.py, tau2.py (banking
retrieval, retail replay), simulator.py (simulated customers).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from assistant.tools import TRANSFER_TOOL_NAME, Toolkit
from eval.casefiles import ConversationCase, QuestionCase, load_cases
from eval.conversations import conversation_metrics, run_conversation
from eval.drafts import load_references
from eval.environment import (
    make_settings,
    prepare_environment,
    sample_shop_data,
    tau2_shop_data,
    with_progress,
)
from eval.questions import question_metrics, run_question
from eval.retrievers import Retriever, ShuffledRetriever
from eval.tau2 import banking_metrics, replay_metrics, run_banking_retrieval, run_tau2_replay

# Callers import these from here (`eval.runner`).
__all__ = [
    "ALWAYS_SCORED_TOOLS",
    "EvalResults",
    "RunOptions",
    "ShuffledRetriever",
    "aggregate",
    "run_evaluation",
    "write_results",
]

# Tools whose every call counts for tool-call precision, listed in a case or not: every WRITE (from the tool
# specs) and the transfer to a person.
ALWAYS_SCORED_TOOLS = Toolkit(None).write_names | {TRANSFER_TOOL_NAME}


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
        """The results as results.json has them: `info` first, then the fields in their order."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {"info": values.pop("info"), **values}


def aggregate(
    questions: list[dict[str, Any]],
    conversations: list[dict[str, Any]],
    banking: list[dict[str, Any]],
    replay: list[dict[str, Any]],
    simulations: list[dict[str, Any]],
) -> dict[str, float | None]:
    from eval.simulator import aggregate_simulations

    return (
        question_metrics(questions)
        | conversation_metrics(conversations)
        | banking_metrics(banking)
        | replay_metrics(replay)
        | (aggregate_simulations(simulations) if simulations else {})
    )


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
            from assistant.parts import ServiceParts
            from assistant.service import SupportService
            from assistant.tools.help_center import HelpCenter
            from knowledge.index import HelpCenterIndex

            retriever: Retriever = HelpCenterIndex(settings)
            if options.wrap_retriever is not None:
                retriever = options.wrap_retriever(retriever)  # the agent's search tool uses it too
            help_center = HelpCenter(settings, index=retriever)  # type: ignore[arg-type]
            service = SupportService(settings, ServiceParts(settings, help_center=help_center))
            baseline = None
            if options.baseline and questions:
                from eval.baseline import NaiveRagBaseline

                client = getattr(help_center.index, "client", None)
                baseline = NaiveRagBaseline(settings, service.parts.embedder, client=client)
            judge = None
            use_judge = options.judge if options.judge is not None else service.provider == "openai"
            if use_judge and questions:
                from eval.judge import AnswerJudge

                judge = AnswerJudge(settings)  # JudgeUnavailable when --judge is asked for offline
                info["judge"] = settings.llm_model
            for case in with_progress(questions, "questions", options.progress):
                q_records.append(run_question(service, retriever, baseline, case, judge))
            shops: dict[str, Any] = {"sample": sample_shop_data()}
            if any(c.setup.shop == "tau2" for c in conversations):
                shops["tau2"] = tau2_shop_data()
            references = load_references(list(case_paths))  # reference replies for the desk's drafts
            for conv in with_progress(conversations, "conversations", options.progress):
                reference = references.get(conv.id)
                c_records.append(run_conversation(service, shops, conv, ALWAYS_SCORED_TOOLS, reference))
        b_records: list[dict[str, Any]] = []
        if options.banking_tasks != 0:
            b_records = run_banking_retrieval(
                Path(tmp) / "banking",
                options.banking_tasks,
                options.banking_full_corpus,
                options.progress,
                wrap_retriever=options.wrap_retriever,
            )
        r_records: list[dict[str, Any]] = []
        if options.tau2_replay:
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
