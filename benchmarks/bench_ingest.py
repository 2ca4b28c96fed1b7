"""Ingest throughput of `HelpCenterIndex.ingest` as a ratio to the raw encode of the embedding backend on
the same chunks (a script that prints numbers, not a test; target ratio >= 0.85).

    python benchmarks/bench_ingest.py [--limit 200] [--rounds 2] [--backend onnx|onnx-int8|torch] [--torch]

Raw encode: `SentenceTransformer.encode` for torch; for the ONNX backends the ONNX Runtime encoder alone
(tokenise, run, pool: `OnnxEncoder.encode`). `--torch` also times SentenceTransformer.encode of the same
texts in each round (the old backend, for the speed-up).

The input is the first --limit files of the τ² banking_knowledge documents. "Ours" is the whole ingest
(read + parse files, chunk, hash, look up stored hashes, embed, write to an embedded Chroma) into a
fresh collection; "raw" is SentenceTransformer.encode of exactly the texts ingest embeds, with the same
batch size. The model is loaded once before both. Rounds alternate raw/ours (shared CPU: best of each).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.chunking import chunk_article  # noqa: E402
from knowledge.embeddings import LocalEmbedder, get_embedder  # noqa: E402
from knowledge.index import HelpCenterIndex  # noqa: E402
from knowledge.loaders import load_paths  # noqa: E402
from knowledge.settings import Settings  # noqa: E402

DOCS = (
    Path(__file__).resolve().parents[2] / "shared" / "datasets" / "tau2" / "banking_knowledge" / "documents"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=200, help="how many banking documents (0 = all 698)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backend", default="onnx", choices=["onnx", "onnx-int8", "torch"])
    parser.add_argument("--torch", action="store_true", help="also time SentenceTransformer.encode")
    args = parser.parse_args()

    files = sorted(DOCS.glob("*.json"))
    if args.limit:
        files = files[: args.limit]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "docs"
        source.mkdir()
        for file in files:
            shutil.copy(file, source / file.name)
        base = Settings(  # type: ignore[call-arg]
            data_dir=Path(tmp) / "parley", embedding_backend=args.backend, _env_file=None
        )
        embedder = get_embedder(base)
        assert isinstance(embedder, LocalEmbedder)
        model = embedder.model
        torch_model = None
        if args.torch:
            from sentence_transformers import SentenceTransformer

            torch_model = SentenceTransformer(str(embedder.model_path), device="cpu")

        def raw_encode(texts: list[str]) -> None:
            if embedder.backend_in_use == "torch":
                model.encode(texts, batch_size=base.embedding_batch_size, normalize_embeddings=True)
            else:
                model.encode(texts)

        loaded = load_paths([source], base.max_source_file_bytes)
        texts = [
            chunk.embedding_text
            for article in loaded.articles
            for chunk in chunk_article(article, base.chunk_size, base.chunk_overlap)
        ]
        embedder.encode(texts[:8])  # warm up
        print(
            f"{len(files)} files, {len(loaded.articles)} articles, {len(texts)} chunks, "
            f"backend {embedder.backend_in_use}"
        )
        torch_times: list[float] = []

        raw_times: list[float] = []
        our_times: list[float] = []
        for round_number in range(args.rounds):
            if torch_model is not None:
                started = time.perf_counter()
                torch_model.encode(texts, batch_size=base.embedding_batch_size, normalize_embeddings=True)
                torch_times.append(time.perf_counter() - started)
                print(f"round {round_number + 1}: torch SentenceTransformer.encode {torch_times[-1]:.2f} s")
            started = time.perf_counter()
            raw_encode(texts)
            raw_times.append(time.perf_counter() - started)

            settings = base.model_copy(update={"data_dir": Path(tmp) / f"run{round_number}"})
            settings.chroma_path = settings.data_dir / "chroma"
            index = HelpCenterIndex(settings, embedder=embedder)
            started = time.perf_counter()
            report = index.ingest([source], progress=False)
            our_times.append(time.perf_counter() - started)
            assert report.chunks_embedded == len(texts), (report.chunks_embedded, len(texts))
            print(f"round {round_number + 1}: raw encode {raw_times[-1]:.2f} s, ingest {our_times[-1]:.2f} s")

        raw, ours = min(raw_times), min(our_times)
        print(f"raw encode: {len(texts) / raw:.1f} chunks/s   ingest: {len(texts) / ours:.1f} chunks/s")
        print(f"ingest throughput ratio (ours / raw) = {raw / ours:.3f}   (target >= 0.85)")
        if torch_times:
            speed_up = min(torch_times) / ours
            print(f"torch: {len(texts) / min(torch_times):.1f} chunks/s; ingest vs torch raw {speed_up:.2f}x")


if __name__ == "__main__":
    main()
