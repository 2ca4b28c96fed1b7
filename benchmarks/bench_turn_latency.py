"""Turn latency of the assistant with the offline provider (a script that prints numbers, not a test).

python benchmarks/bench_turn_latency.py [--turns 80] [--data-dir DIR]

Plays scripted conversations (help-centre questions, and order flows that authenticate, look up, list a
change and are answered "no" so the shop stays the same) on the sample shop through
SupportService.customer_turn, and prints p50 / p95 / max of the wall time of customer_turn (nothing
excluded: guard, planner, tools, SQLite, Chroma, checkpointer, conversation store). For knowledge turns it
also prints the ratio to the raw work of such a turn: one MiniLM encode of the question plus one Chroma
query of the help-centre collection. The first turn (cold: model load, intent exemplars) is reported
apart. Without --data-dir, a temporary data dir is built first (sample shop + help centre, about a minute).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workload import IDENTITY_POLICY, KNOWLEDGE, ORDER_FLOWS  # noqa: E402  (benchmarks/workload.py)

from assistant.service import SupportService  # noqa: E402
from assistant.shop import generator as g  # noqa: E402
from knowledge.settings import Settings  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build(settings: Settings) -> None:
    from assistant.shop.store import ShopStore
    from knowledge.index import HelpCenterIndex

    root = Path(__file__).resolve().parent.parent / "knowledge" / "sample_data"
    store = ShopStore(str(settings.database_url))
    store.migrate()
    store.import_data(g.generate_shop(seed=7), replace=True)
    HelpCenterIndex(settings).ingest([root / "help_center", root / "faq.csv"], progress=False)


def raw_work_ms(service: SupportService, question: str) -> float:
    """One MiniLM encode of the question + one Chroma query of the help-centre collection."""
    from knowledge.index import get_chroma_client

    collection = get_chroma_client(service.settings).get_collection(service.settings.help_collection)
    started = time.perf_counter()
    vector = service.parts.embedder.encode([question])
    collection.query(query_embeddings=vector.tolist(), n_results=service.settings.search_k)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=80, help="measured turns (after the cold first turn)")
    parser.add_argument("--data-dir", type=Path, help="a data dir with the sample shop and help centre")
    args = parser.parse_args()

    tmp = None
    if args.data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="parley-bench-")
        settings = Settings(  # type: ignore[call-arg]
            data_dir=Path(tmp.name), llm_provider="offline", identity_policy=IDENTITY_POLICY, _env_file=None
        )
        print("building the sample shop and help centre ...", flush=True)
        build(settings)
    else:
        settings = Settings(  # type: ignore[call-arg]
            data_dir=args.data_dir, llm_provider="offline", identity_policy=IDENTITY_POLICY, _env_file=None
        )
    service = SupportService(settings)

    conversation, _ = service.start_conversation(channel="bench")
    started = time.perf_counter()
    service.customer_turn(conversation.id, "hi")
    cold_ms = (time.perf_counter() - started) * 1000

    knowledge_ms: list[float] = []
    order_ms: list[float] = []
    raw_ms: list[float] = []
    flows: list[tuple[str, list[str]]] = []
    for i in range(max(len(KNOWLEDGE), len(ORDER_FLOWS))):
        if i < len(KNOWLEDGE):
            flows.append(("knowledge", [KNOWLEDGE[i]]))
        if i < len(ORDER_FLOWS):
            flows.append(("order", ORDER_FLOWS[i]))
    done = 0
    while done < args.turns:
        for kind, turns in flows:
            conversation, _ = service.start_conversation(channel="bench")
            for text in turns:
                if done >= args.turns:
                    break
                started = time.perf_counter()
                result: Any = service.customer_turn(conversation.id, text)
                elapsed = (time.perf_counter() - started) * 1000
                (knowledge_ms if kind == "knowledge" else order_ms).append(elapsed)
                if kind == "knowledge":
                    raw_ms.append(raw_work_ms(service, text))
                done += 1
                assert result.reply, f"no reply to {text!r}"

    every = knowledge_ms + order_ms
    print(f"cold first turn: {cold_ms:.0f} ms (model load, intent exemplars, first queries)")
    print(f"{'turns':<22}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for label, values in (("all", every), ("knowledge", knowledge_ms), ("order flows", order_ms)):
        print(
            f"{label:<22}{len(values):>5}{percentile(values, 0.5):>10.0f}"
            f"{percentile(values, 0.95):>10.0f}{max(values):>10.0f}"
        )
    raw_p50 = percentile(raw_ms, 0.5)
    print(f"raw work (1 MiniLM encode + 1 Chroma query): p50 {raw_p50:.1f} ms")
    print(
        f"knowledge turn / raw work: p50 {percentile(knowledge_ms, 0.5) / raw_p50:.1f}x, "
        f"p95 {percentile(knowledge_ms, 0.95) / raw_p50:.1f}x"
    )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
