"""Query benchmarks for the help-centre index (a script that prints numbers, not a test).

python benchmarks/bench_query.py quality [--data-dir DIR]
    hit@1 / hit@5 / MRR@10 of vector-only and hybrid (BM25 + vectors, RRF) search on the τ²
    banking_knowledge tasks (article level: a hit is a task's required document).
python benchmarks/bench_query.py latency [--sizes 10000 50000] [--queries 200]
    p50 / p95 of HelpCenterIndex.search on synthetic collections, as a ratio to one raw
    SentenceTransformer.encode + one raw Chroma query on the same collection.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.index import HelpCenterIndex  # noqa: E402
from knowledge.settings import Settings  # noqa: E402

BANKING = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "tau2" / "banking_knowledge"

# Sentences of the role-play instructions that carry no information need.
_BOILERPLATE = re.compile(
    r"playing the role|on the line|never respond|don't dump|do not dump|only provide additional|"
    r"your email is|phone number is|address or date of birth|do not reveal|behavior guidelines|"
    r"end the conversation|no need to respond|ask for instructions",
    re.IGNORECASE,
)
_NEED = re.compile(r"\b(want|wants|looking for|would like|need|needs|start by|ask|asking|interested)\b", re.I)


def task_query(instructions: str, limit: int = 600) -> str:
    """A customer-style query from a τ² task: its need-bearing sentences, boilerplate removed.

    Deterministic and the same for both search modes; the first 600 characters (MiniLM reads about 256
    tokens anyway)."""
    sentences = [s.strip(" -\n") for s in re.split(r"(?<=[.!?])\s+|\n+", instructions) if s.strip(" -\n")]
    useful = [s for s in sentences if not _BOILERPLATE.search(s)]
    needs = [s for s in useful if _NEED.search(s)]
    return " ".join(needs or useful)[:limit]


def article_ranking(index: HelpCenterIndex, query: str, depth: int = 10) -> list[str]:
    """Distinct article ids in the order their best chunk ranks."""
    seen: list[str] = []
    for hit in index.search(query, k=depth * 4):
        if hit.article_id not in seen:
            seen.append(hit.article_id)
    return seen[:depth]


def quality(data_dir: Path) -> None:
    tasks = json.loads((BANKING / "tasks.json").read_text())
    base = Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    index = HelpCenterIndex(base)
    report = index.ingest([BANKING / "documents"], progress=True)
    print(f"index: {index.stats()}  (ingest: {len(report.added)} added, {len(report.unchanged)} unchanged)")
    print(f"{'mode':<8} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7}  (n={len(tasks)} tasks)")
    for hybrid in (False, True):
        settings = base.model_copy(update={"hybrid_search": hybrid})
        mode_index = HelpCenterIndex(settings, client=index.client, embedder=index.embedder)
        hit1 = hit5 = 0
        reciprocal = 0.0
        for task in tasks:
            required = set(task["required_documents"])
            ranking = article_ranking(mode_index, task_query(task["user_scenario"]["instructions"]))
            first = next((i for i, article in enumerate(ranking) if article in required), None)
            if first is not None:
                hit1 += first == 0
                hit5 += first < 5
                reciprocal += 1.0 / (first + 1)
        n = len(tasks)
        print(f"{'hybrid' if hybrid else 'vector':<8} {hit1 / n:6.3f} {hit5 / n:6.3f} {reciprocal / n:7.3f}")


def synthetic_corpus(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """n chunk texts and their titles: words drawn from a 5,000-word Zipf vocabulary (fixed seed)."""
    rng = np.random.default_rng(seed)
    syllables = ["ka", "lo", "mi", "ren", "sta", "vo", "pel", "dur", "qui", "zan", "tor", "bex", "nul", "fa"]
    vocabulary = sorted({"".join(rng.choice(syllables, size=rng.integers(2, 5))) for _ in range(8000)})[:5000]
    weights = 1.0 / np.arange(1, len(vocabulary) + 1)
    weights /= weights.sum()
    words = np.asarray(vocabulary)
    texts = [
        " ".join(words[rng.choice(len(words), size=int(rng.integers(60, 160)), p=weights)]) for _ in range(n)
    ]
    titles = [" ".join(words[rng.choice(len(words), size=4, p=weights)]).capitalize() for _ in range(n)]
    return texts, titles


def build_collection(index: HelpCenterIndex, n: int, seed: int = 0) -> None:
    """n synthetic chunks with precomputed random unit vectors, added straight to the collection (embedding
    50k chunks would take most of an hour on 2 shared cores; the latency ratio compares search paths on
    the same collection, so where the vectors came from does not matter)."""
    collection = index._collection(create=True)
    assert collection is not None
    texts, titles = synthetic_corpus(n, seed)
    rng = np.random.default_rng(seed + 1)
    vectors = rng.standard_normal((n, index.embedder.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    batch = 5000
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        collection.add(
            ids=[f"syn-{i:06d}::0" for i in range(start, stop)],
            embeddings=vectors[start:stop],
            documents=texts[start:stop],
            metadatas=[
                {
                    "article_id": f"syn-{i:06d}",
                    "chunk_index": 0,
                    "title": titles[i],
                    "section": "",
                    "url": "",
                    "locale": "en",
                    "language": "en",
                    "tags": "",
                    "source": "synthetic",
                    "article_hash": str(i),
                }
                for i in range(start, stop)
            ],  # fmt: skip
        )
    index._write_metadata(collection)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def latency(sizes: list[int], queries: int, k: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Settings(data_dir=Path(tmp), _env_file=None)  # type: ignore[call-arg]
        index = HelpCenterIndex(base)
        embedder = index.embedder
        model = getattr(embedder, "model", None)
        assert model is not None, "the latency benchmark needs the local embedder"
        backend = getattr(embedder, "backend_in_use", "torch")
        print(f"embedding backend: {backend}")

        def raw_encode(text: str) -> np.ndarray:
            # The backend's own call, nothing of ours around it: SentenceTransformer.encode for torch, the
            # ONNX Runtime session (tokenise + run + pool) for onnx.
            if backend == "torch":
                return np.asarray(model.encode([text], normalize_embeddings=True, show_progress_bar=False))[0]
            return np.asarray(model.encode([text]))[0]

        query_texts, _ = synthetic_corpus(queries, seed=99)
        query_texts = [" ".join(q.split()[:8]) for q in query_texts]
        print(f"{'chunks':>7} {'mode':<7} {'raw p50':>8} {'raw p95':>8} {'ours p50':>9} {'ours p95':>9} "
              f"{'p50 ratio':>9} {'p95 ratio':>9}   (ms, {queries} queries, k={k})")  # fmt: skip
        for size in sizes:
            name = f"bench_{size}"
            started = time.perf_counter()
            sized = HelpCenterIndex(base, client=index.client, embedder=embedder, collection_name=name)
            build_collection(sized, size)
            build_s = time.perf_counter() - started
            collection = index.client.get_collection(name)
            for hybrid in (False, True):
                searcher = HelpCenterIndex(
                    base.model_copy(update={"hybrid_search": hybrid}), client=index.client, embedder=embedder,
                    collection_name=name,
                )  # fmt: skip
                started = time.perf_counter()
                searcher.search(query_texts[0], k=k)  # warm-up (builds the BM25 cache when hybrid)
                warm_s = time.perf_counter() - started
                raw_ms: list[float] = []
                our_ms: list[float] = []
                for query in query_texts:  # interleaved, so CPU noise from neighbours hits both alike
                    started = time.perf_counter()
                    vector = raw_encode(query)
                    collection.query(query_embeddings=[vector.tolist()], n_results=k)
                    raw_ms.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    searcher.search(query, k=k)
                    our_ms.append((time.perf_counter() - started) * 1000)
                r50, r95, o50, o95 = (percentile(raw_ms, 50), percentile(raw_ms, 95),
                                      percentile(our_ms, 50), percentile(our_ms, 95))  # fmt: skip
                mode = "hybrid" if hybrid else "vector"
                print(
                    f"{size:>7} {mode:<7} {r50:8.2f} {r95:8.2f} {o50:9.2f} {o95:9.2f} {o50 / r50:9.3f} "
                    f"{o95 / r95:9.3f}   (built in {build_s:.1f} s, first search {warm_s:.2f} s)"
                )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--data-dir", type=Path, default=None)
    lat = sub.add_parser("latency")
    lat.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    lat.add_argument("--queries", type=int, default=200)
    lat.add_argument("-k", type=int, default=5)
    args = parser.parse_args()
    if args.command == "latency":
        latency(args.sizes, args.queries, args.k)
    elif args.command == "quality":
        if args.data_dir is None:
            with tempfile.TemporaryDirectory() as tmp:
                quality(Path(tmp))
        else:
            quality(args.data_dir)


if __name__ == "__main__":
    main()
