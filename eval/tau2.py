"""τ²-bench parts of the evaluation: banking_knowledge retrieval and the retail gold-action replay."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from eval import metrics as m
from eval.retrievers import search_fused

TAU2_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "tau2"
BANKING_DIR = TAU2_DIR / "banking_knowledge"
BANKING_COLLECTION = "tau2_banking"
# Every 4th document that no selected task needs is indexed as a distractor in the subset corpus.
DISTRACTOR_STRIDE = 4

# The gold calls that the tools must refuse (reviewed by the tools engineer: docs/tools.md, "Results on
# τ² retail"): (task id, action id) -> tool. Any other refusal is a regression.
EXPECTED_REFUSALS: dict[tuple[str, str], str] = {
    ("2", "2_1"): "get_product_details",
    ("3", "3_1"): "get_product_details",
    ("4", "4_1"): "get_product_details",
    ("35", "35_0"): "find_user_id_by_email",
    ("37", "37_0"): "find_user_id_by_email",
    ("38", "38_0"): "find_user_id_by_email",
    ("54", "54_0"): "find_user_id_by_email",
    ("55", "55_0"): "find_user_id_by_email",
    ("39", "39_0"): "find_user_id_by_name_zip",
    ("67", "67_0"): "find_user_id_by_name_zip",
    ("67", "67_1"): "find_user_id_by_name_zip",
    ("68", "68_0"): "find_user_id_by_name_zip",
    ("46", "46_1"): "get_order_details",
    ("46", "46_2"): "get_order_details",
    ("47", "47_1"): "get_order_details",
    ("47", "47_2"): "get_order_details",
    ("64", "64_6"): "exchange_delivered_order_items",
    ("105", "106_0"): "exchange_delivered_order_items",
}

# Sentences of the τ² user instructions that are role-play boilerplate, not the customer's need.
_BOILERPLATE = re.compile(
    r"playing the role|on the line with|never respond as|only provide additional|don't dump|"
    r"no need to respond|take your business elsewhere|end the conversation|only mention this|"
    r"you have access to a tool|this is all information",
    re.IGNORECASE,
)
_NEED = re.compile(r"\b(want|looking for|need|would like|wish|ask|interested|requirement|trying to)\b", re.I)


# Markdown emphasis, headings, bullets and list numbers in the instructions (not words the customer says).
_MARKDOWN = re.compile(r"\*\*|__|`|^\s*#+\s*|^\s*(?:[-*•]|\d+[.)])\s+", re.MULTILINE)
# A line of the customer's identity for verification ("- Name: ... | Phone: ...", "DOB: ..."): data, no need.
_IDENTITY_LINE = re.compile(
    r"^\W*(?:name|phone|e-?mail|dob|date of birth|address|user[_ ]id)\b[^:\n]{0,20}:", re.IGNORECASE
)
MIN_SENTENCE_CHARS = 20  # shorter pieces ("2.", "Opening:", "Yes, please.") are searched with their task only
RETRIEVED_PER_TASK = 10  # each search returns this many chunks; the task keeps this many fused articles


def _instructions(task: dict[str, Any]) -> str:
    scenario = task.get("user_scenario") or {}
    return str(scenario.get("instructions") or "")


def banking_query(task: dict[str, Any], max_chars: int = 600) -> str:
    """What the customer would ask: the need-bearing sentences of the task's user instructions."""
    text = _instructions(task)
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    kept = [s for s in sentences if not _BOILERPLATE.search(s)]
    needs = [s for s in kept if _NEED.search(s)] or kept
    return " ".join(needs)[:max_chars]


def banking_sentences(task: dict[str, Any]) -> list[str]:
    """Each sentence of the task's scenario (the customer's situation and everything they say or ask over
    the conversation), line by line: markdown markers and identity lines removed, role-play boilerplate and
    fragments of MIN_SENTENCE_CHARS characters or fewer dropped, each sentence once."""
    sentences: list[str] = []
    for line in _instructions(task).splitlines():
        if _IDENTITY_LINE.search(line):
            continue
        for sentence in re.split(r"(?<=[.!?])\s+", _MARKDOWN.sub("", line).strip()):
            sentence = sentence.strip()
            if len(sentence) > MIN_SENTENCE_CHARS and not _BOILERPLATE.search(sentence):
                sentences.append(sentence)
    return list(dict.fromkeys(sentences))


def banking_queries(task: dict[str, Any]) -> list[str]:
    """The searches of one task: the need-bearing query, then each sentence of the scenario. A customer
    says these over a whole conversation, one need at a time; one search per sentence keeps each need's
    words together instead of one long query that the embedding truncates and BM25 dilutes."""
    queries = [banking_query(task), *banking_sentences(task)]
    return [q for q in dict.fromkeys(queries) if q.strip()]


def load_banking_tasks(limit: int | None) -> list[dict[str, Any]]:
    tasks = json.loads((BANKING_DIR / "tasks.json").read_text(encoding="utf-8"))
    tasks = [t for t in tasks if t.get("required_documents")]
    return tasks if limit is None else tasks[:limit]


def banking_corpus(tasks: list[dict[str, Any]], full: bool) -> list[Path]:
    documents = sorted((BANKING_DIR / "documents").glob("*.json"))
    if full:
        return documents
    needed = {d for t in tasks for d in t["required_documents"]}
    others = [p for p in documents if p.stem not in needed]
    return [p for p in documents if p.stem in needed] + others[::DISTRACTOR_STRIDE]


def run_banking_retrieval(
    work_dir: Path, limit: int | None, full_corpus: bool, progress: bool, wrap_retriever: Any = None
) -> list[dict[str, Any]]:
    """Index the banking documents into their own data dir and collection; score each task's searches,
    fused per article (`banking_queries`, `eval.retrievers.search_fused`)."""
    from knowledge.index import HelpCenterIndex
    from knowledge.settings import Settings

    tasks = load_banking_tasks(limit)
    settings = Settings(data_dir=work_dir, help_collection=BANKING_COLLECTION)
    settings.ensure_data_dir()
    index = HelpCenterIndex(settings)
    corpus = banking_corpus(tasks, full_corpus)
    report = index.ingest(corpus, progress=progress)
    if report.errors:
        raise RuntimeError("banking ingest failed: " + "; ".join(str(e) for e in report.errors[:3]))
    retriever: Any = wrap_retriever(index) if wrap_retriever else index
    records = []
    for task in tasks:
        queries = banking_queries(task)
        retrieved = search_fused(retriever, queries, k=RETRIEVED_PER_TASK)[:RETRIEVED_PER_TASK]
        gold = task["required_documents"]
        records.append(
            {
                "id": str(task["id"]),
                "query": queries[0] if queries else "",
                "searches": len(queries),
                "gold": gold,
                "retrieved": retrieved,
                "corpus_size": len(corpus),
                "hit@1": m.hit_at_k(retrieved, gold, 1),
                "hit@5": m.hit_at_k(retrieved, gold, 5),
                "rr": m.reciprocal_rank(retrieved, gold),
                "recall@5": m.recall_at_k(retrieved, gold, 5),
                "recall@10": m.recall_at_k(retrieved, gold, 10),
            }
        )
    return records


def replay_task(template: Any, task: dict[str, Any], work: Path) -> tuple[dict[str, Any], Any]:
    """Replay one task's gold actions on a fresh copy; returns its record and the final ShopData."""
    from assistant.tools.replay import parse_tool_calls, replay_calls

    calls = parse_tool_calls(task)
    task_id = str(task["id"])
    with template.fresh_store(work / "task.db") as store:
        completed = True
        error: str | None = None
        try:
            results = replay_calls(store, calls)
        except Exception as exc:  # a crash is exactly what this metric is meant to catch
            results, completed = [], False
            error = f"{type(exc).__name__}: {exc}"
        final = store.export_data()
    rejected = [
        {"action_id": c.action_id, "name": r.name, "error": r.error}
        for c, r in zip(calls, results, strict=False)
        if not r.ok
    ]
    unexpected = [r for r in rejected if EXPECTED_REFUSALS.get((task_id, str(r["action_id"]))) != r["name"]]
    completed = completed and len(results) == len(calls)
    return (
        {
            "id": task_id,
            "calls": len(calls),
            "completed": completed,
            "error": error,
            "rejected": rejected,
            "unexpected_rejections": unexpected,
        },
        final,
    )


def run_tau2_replay(work_dir: Path) -> list[dict[str, Any]]:
    """All 114 τ² retail tasks' gold actions through our tools as the operator, each on a fresh db."""
    from assistant.tools.replay import SqliteTemplate, load_shop_data, load_tasks

    work_dir.mkdir(parents=True, exist_ok=True)
    template = SqliteTemplate.build(load_shop_data(TAU2_DIR / "retail" / "db.json"), work_dir / "template.db")
    return [
        replay_task(template, task, work_dir)[0] for task in load_tasks(TAU2_DIR / "retail" / "tasks.json")
    ]


# (metric, record key) of the `banking.*` means.
_BANKING_MEANS = (
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("mrr", "rr"),
    ("recall@5", "recall@5"),
    ("recall@10", "recall@10"),
)


def banking_metrics(banking: list[dict[str, Any]]) -> dict[str, float | None]:
    """`banking.*`: retrieval of the documents each banking task needs."""
    if not banking:
        return {}
    means = {name: m.mean(b[key] for b in banking) for name, key in _BANKING_MEANS}
    return {"banking.count": float(len(banking))} | {f"banking.{name}": v for name, v in means.items()}


def replay_metrics(replay: list[dict[str, Any]]) -> dict[str, float | None]:
    """`tau2_replay.*`: how many tasks' gold actions went through, and the refusals."""
    if not replay:
        return {}
    return {
        "tau2_replay.tasks": float(len(replay)),
        "tau2_replay.completed_rate": m.mean(r["completed"] for r in replay),
        "tau2_replay.rejected_calls": float(sum(len(r["rejected"]) for r in replay)),
        "tau2_replay.unexpected_rejections": float(sum(len(r["unexpected_rejections"]) for r in replay)),
    }
