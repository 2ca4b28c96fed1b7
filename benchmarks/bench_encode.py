"""Query-encode speed per backend and thread setting, and what micro-batching could gain (prints numbers).

    python benchmarks/bench_encode.py [--seconds 5]

1. latency: p50 of one short customer message, one at a time (torch with its default threads; ONNX fp32
   and int8 with 1 and 2 intra-op threads);
2. throughput with two concurrent callers (two server threads encoding at once, as two concurrent turns
   do): queries/s over `--seconds`;
3. micro-batching ceiling: ONNX fp32 on one thread, the same queries run one per call or padded into
   batches of 4 and 8 (what coalescing concurrent requests into one call could save at best).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.embeddings import LocalEmbedder  # noqa: E402

MESSAGES = [
    "how long does shipping take?",
    "can I return a sale item?",
    "where is my order #W1000002",
    "cancel my order please, I ordered it by mistake",
    "Combien de temps pour un remboursement ?",
    "my package hasn't arrived and tracking says delivered",
    "Hoe lang duurt de terugbetaling?",
    "I want to talk to a person",
]


def p50_ms(encode: object, rounds: int = 200) -> float:
    times = []
    for i in range(rounds):
        started = time.perf_counter()
        encode([MESSAGES[i % len(MESSAGES)]])  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return float(np.percentile(times, 50) * 1000)


def concurrent_qps(encode: object, seconds: float, callers: int = 2) -> float:
    done = [0] * callers
    stop = time.monotonic() + seconds

    def loop(slot: int) -> None:
        i = slot
        while time.monotonic() < stop:
            encode([MESSAGES[i % len(MESSAGES)]])  # type: ignore[operator]
            done[slot] += 1
            i += 1

    threads = [threading.Thread(target=loop, args=(slot,)) for slot in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "parley-bench-models")
    args = parser.parse_args()
    configs = [("torch", 1), ("onnx", 1), ("onnx", 2), ("onnx-int8", 1), ("onnx-int8", 2)]
    print("| backend | intra-op threads | one query p50 | 2 concurrent callers |")
    print("|---|---|---|---|")
    for backend, threads in configs:
        embedder = LocalEmbedder(
            "all-MiniLM-L6-v2", backend=backend, cache_dir=args.cache_dir, threads=threads
        )
        embedder.encode(MESSAGES)  # load + warm
        label = "torch default" if backend == "torch" else str(threads)
        latency = p50_ms(embedder.encode)
        qps = concurrent_qps(embedder.encode, args.seconds)
        print(f"| {backend} | {label} | {latency:.2f} ms | {qps:.0f} queries/s |", flush=True)

    embedder = LocalEmbedder("all-MiniLM-L6-v2", backend="onnx", cache_dir=args.cache_dir, threads=1)
    encoder = embedder.model
    tokenizer, session = encoder.tokenizer, encoder.session
    texts = MESSAGES * 50

    def batched(batch: list[str]) -> None:
        encodings = tokenizer.encode_batch(batch)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": ids * 0})

    print("\n| ONNX fp32, 1 thread | ms per query |\n|---|---|")
    for size in (1, 4, 8):
        started = time.perf_counter()
        for start in range(0, len(texts), size):
            batched(texts[start : start + size])
        print(
            f"| batches of {size} | {(time.perf_counter() - started) / len(texts) * 1000:.2f} |", flush=True
        )


if __name__ == "__main__":
    main()
