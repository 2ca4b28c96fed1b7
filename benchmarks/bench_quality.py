"""Retrieval quality per embedding backend (a script that prints numbers, not a test).

python benchmarks/bench_quality.py --data-root DIR [--backends torch onnx onnx-int8] [--modes hybrid vector]

For each backend: the τ² banking_knowledge tasks (all 97, over all 698 documents; the query and the
metrics are the eval's own: `eval.tau2.banking_queries` fused by `eval.retrievers.search_fused`, top 10
articles, `eval.metrics`) and the sample shop's
answerable questions (`eval/cases/sample_shop_questions.jsonl`, top 5 chunks, as `parley eval` scores
`questions.retrieval_*`). Each backend gets its own data dir under DIR (indexes are reused when present,
so a second run only searches). `--cross` also searches each index with the other backends' query vectors
(an index built with torch queried with int8 vectors, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval import metrics as m  # noqa: E402
from eval.retrievers import search_fused  # noqa: E402
from eval.tau2 import BANKING_DIR, RETRIEVED_PER_TASK, banking_queries, load_banking_tasks  # noqa: E402
from knowledge.embeddings import get_embedder  # noqa: E402
from knowledge.index import HelpCenterIndex  # noqa: E402
from knowledge.settings import Settings  # noqa: E402

SAMPLE = ROOT / "knowledge" / "sample_data"
QUESTIONS = ROOT / "eval" / "cases" / "sample_shop_questions.jsonl"


def build(root: Path, backend: str) -> tuple[HelpCenterIndex, HelpCenterIndex]:
    settings = Settings(  # type: ignore[call-arg]
        data_dir=root / backend, embedding_backend=backend, _env_file=None
    )
    settings.ensure_data_dir()
    embedder = get_embedder(settings)
    banking = HelpCenterIndex(settings, embedder=embedder, collection_name="tau2_banking")
    shop = HelpCenterIndex(settings, embedder=embedder, collection_name="help_center")
    for index, paths in (
        (banking, [BANKING_DIR / "documents"]),
        (shop, [SAMPLE / "help_center", SAMPLE / "faq.csv"]),
    ):
        started = time.perf_counter()
        report = index.ingest(paths, progress=False)
        print(
            f"  {backend} {index.collection_name}: {len(report.added)} added, {len(report.unchanged)} "
            f"unchanged, {report.chunks_embedded} chunks embedded in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
    return banking, shop


class _Encoded:
    """`index.search` with the query vectors of a given backend (for --cross)."""

    def __init__(self, index: HelpCenterIndex, encode: Any) -> None:
        self.index, self.encode = index, encode

    def search(self, query: str, k: int = 5) -> list[Any]:
        return self.index.search(query, k=k, query_vector=self.encode([query])[0])


def score(index: HelpCenterIndex, encode: Any, hybrid: bool) -> dict[str, float]:
    searcher = HelpCenterIndex(
        index.settings.model_copy(update={"hybrid_search": hybrid}),
        client=index.client,
        embedder=index.embedder,
        collection_name=index.collection_name,
    )
    out: dict[str, float] = {}
    if index.collection_name == "tau2_banking":
        tasks = load_banking_tasks(None)
        rows = []
        for task in tasks:
            queries = banking_queries(task)
            retrieved = search_fused(_Encoded(searcher, encode), queries, k=RETRIEVED_PER_TASK)
            rows.append((retrieved[:RETRIEVED_PER_TASK], task["required_documents"]))
        prefix = "banking"
    else:
        cases = [json.loads(line) for line in QUESTIONS.read_text().splitlines() if line.strip()]
        rows = []
        for case in cases:
            if not case.get("answerable", True):
                continue
            hits = searcher.search(case["question"], k=5, query_vector=encode([case["question"]])[0])
            rows.append(([h.article_id for h in hits], case["gold_article_ids"]))
        prefix = "questions"
    out[f"{prefix}.n"] = len(rows)
    out[f"{prefix}.hit@1"] = m.mean(m.hit_at_k(r, g, 1) for r, g in rows)
    out[f"{prefix}.hit@5"] = m.mean(m.hit_at_k(r, g, 5) for r, g in rows)
    out[f"{prefix}.mrr"] = m.mean(m.reciprocal_rank(r, g) for r, g in rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--backends", nargs="+", default=["torch", "onnx", "onnx-int8"])
    parser.add_argument("--modes", nargs="+", default=["hybrid"], choices=["hybrid", "vector"])
    parser.add_argument("--cross", action="store_true", help="also query each index with the other backends")
    args = parser.parse_args()
    indexes = {backend: build(args.data_root, backend) for backend in args.backends}
    print("| index built with | queries embedded with | mode | banking hit@1 | hit@5 | MRR |", end="")
    print(" questions hit@1 | hit@5 | MRR |")
    print("|---|---|---|---|---|---|---|---|---|")
    for built, (banking, shop) in indexes.items():
        for queried in args.backends if args.cross else [built]:
            encode = indexes[queried][0].embedder.encode
            for mode in args.modes:
                result = {**score(banking, encode, mode == "hybrid"), **score(shop, encode, mode == "hybrid")}
                keys = ("banking.hit@1", "banking.hit@5", "banking.mrr")
                keys += ("questions.hit@1", "questions.hit@5", "questions.mrr")
                cells = " | ".join(f"{result[key]:.3f}" for key in keys)
                print(f"| {built} | {queried} | {mode} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
