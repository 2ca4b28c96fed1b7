"""MiniLM on ONNX Runtime: exported locally from the sentence-transformers weights, cached, verified.

Why not `SentenceTransformer(..., backend="onnx")`: that path needs `optimum-onnx`, which pins
transformers < 5 and conflicts with sentence-transformers 6. Instead the BertModel is exported once with
`torch.onnx.export` (a wrapper passing keyword arguments: transformers 5 changed the positional order),
optionally quantised to int8 with ONNX Runtime's `quantize_dynamic` (per-channel weights: cosine to torch
about 0.99, where per-tensor gave 0.94-0.97), and run with `onnxruntime` + the model's own `tokenizer.json`
(`tokenizers`), mean pooling and L2 normalisation: the same pipeline the model's modules.json describes.
A query costs no torch import at all (about 0.1 s to start instead of about 6 s).

The export lives in the data dir (`<data_dir>/models/<name>-<variant>/`, or `embedding_cache_dir`), saved
with its graph optimisations already applied, next to a manifest: the onnxruntime version, the source
weights' size and mtime, the file's size, mtime and sha256, and the torch vectors of a few probe sentences.
At load every check runs (versions, source, file, probe vectors within tolerance); a missing, corrupt or
stale export is rebuilt, and when that fails too the caller falls back to torch with a warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

EXPORT_FORMAT = 2
VARIANTS = ("fp32", "int8")
PROBES = [
    "How long does shipping take?",
    "Combien de temps faut-il pour un remboursement ?",
    "Ik wil mijn bestelling annuleren",
    "Refunds reach your card five to seven business days after we receive the parcel.",
]
# Smallest cosine between a probe's ONNX vector and its torch vector for the export to count as sound.
MIN_PROBE_COSINE = {"fp32": 0.9999, "int8": 0.97}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PARALLEL_MIN_TEXTS = 64  # below this a batch runs on one thread (a query: one short text)


class OnnxExportError(RuntimeError):
    """The ONNX export could not be built or verified."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _source_identity(model_dir: Path) -> dict[str, Any]:
    weights = next(
        model_dir / n for n in ("model.safetensors", "pytorch_model.bin") if (model_dir / n).exists()
    )
    stat = weights.stat()
    return {"path": str(weights.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _model_config(model_dir: Path) -> tuple[int, str]:
    """(max_seq_length, pooling) as sentence-transformers reads them from the model folder."""
    max_len = 256
    config = model_dir / "sentence_bert_config.json"
    if config.exists():
        max_len = int(json.loads(config.read_text()).get("max_seq_length") or max_len)
    pooling = "mean"
    pooling_file = model_dir / "1_Pooling" / "config.json"
    if pooling_file.exists():
        modes = json.loads(pooling_file.read_text())
        if not modes.get("pooling_mode_mean_tokens", False):
            pooling = "unsupported"
    return max_len, pooling


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The exporter's tracer warnings and the quantiser's "consider pre-processing" hint are expected
    (the probe vectors verify the result): keep them out of `parley ingest`'s output."""
    import warnings

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One exporter at a time per folder (uvicorn workers and parallel tests start together)."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _torch_reference(model_dir: Path, texts: list[str]) -> np.ndarray:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    return np.asarray(model.encode(texts, normalize_embeddings=True, show_progress_bar=False), np.float32)


def export(model_dir: Path, folder: Path, variant: str) -> None:
    """Export the BertModel under `model_dir` to `folder/model.onnx` (int8: quantised) with its manifest."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    if variant not in VARIANTS:
        raise OnnxExportError(f"unknown ONNX variant {variant!r}")

    class _KeywordWrapper(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    model = AutoModel.from_pretrained(str(model_dir))
    model.eval()
    sample = torch.ones(2, 16, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with tempfile.TemporaryDirectory(dir=folder) as tmp, _quiet():
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(
                _KeywordWrapper(model),
                (sample, sample, torch.zeros_like(sample)),
                str(fp32),
                input_names=list(INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={name: axes for name in (*INPUTS, "last_hidden_state")},
                opset_version=17,
                dynamo=False,
            )  # fmt: skip
        built = fp32
        if variant == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            built = Path(tmp) / "int8.onnx"
            quantize_dynamic(str(fp32), str(built), weight_type=QuantType.QInt8, per_channel=True)
        # Graph optimisations applied once here and saved, so each process loads a ready graph (about
        # 0.3 s less per start; `parley search` is a process per query).
        import onnxruntime as ort

        optimized = Path(tmp) / "optimized.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(optimized)
        ort.InferenceSession(str(built), options, providers=["CPUExecutionProvider"])
        target = folder / "model.onnx"
        os.replace(optimized, target)  # atomic: a reader sees the old file or the new one
        stat = target.stat()
        manifest = {
            "format": EXPORT_FORMAT,
            "variant": variant,
            "onnxruntime": ort.__version__,
            "source": _source_identity(model_dir),
            "file": {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": _sha256(target)},
            "probes": PROBES,
            "probe_vectors": _torch_reference(model_dir, PROBES).round(6).tolist(),
        }
        (Path(tmp) / "manifest.json").write_text(json.dumps(manifest))
        os.replace(Path(tmp) / "manifest.json", folder / "manifest.json")


class OnnxEncoder:
    """Tokenise, run the exported graph, mean-pool, normalise: MiniLM's sentence embeddings."""

    def __init__(self, model_dir: Path, folder: Path, variant: str, threads: int, batch_size: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        max_len, pooling = _model_config(model_dir)
        if pooling != "mean":
            raise OnnxExportError("only mean pooling is supported on the ONNX backend")
        self.variant = variant
        self.batch_size = max(1, batch_size)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_len)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        # The export is saved already optimised (see `export`): nothing left to do at load.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        # Idle worker threads must not spin: the 2 cores are shared with the rest of the server.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise OnnxExportError(f"cannot load {folder / 'model.onnx'}: {exc}") from exc
        self.dim = int(self.session.get_outputs()[0].shape[-1] or 0) or 384
        self.workers = max(1, min(4, os.cpu_count() or 1))
        self._pool: ThreadPoolExecutor | None = None

    def _one(self, text: str) -> np.ndarray:
        """One text per run: no padding to compute, and with int8 no dependence on the other texts of a
        batch (dynamic quantisation scales activations per run: batched, padding moved a text's vector by
        up to 0.04 cosine). Measured faster than padded batches on these CPUs (docs/benchmarks.md)."""
        ids = np.asarray([self.tokenizer.encode(text).ids], dtype=np.int64)
        mask = np.ones_like(ids)
        hidden = self.session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": mask * 0}
        )
        pooled = hidden[0][0].mean(axis=0)
        norm = float(np.linalg.norm(pooled))
        return (pooled / norm if norm else pooled).astype(np.float32)

    def _many(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._one(text) for text in texts])

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if len(texts) < PARALLEL_MIN_TEXTS or self.workers == 1:
            return self._many(list(texts))
        # Many texts (ingest): one slice per core, each run on one intra-op thread (ONNX Runtime releases
        # the GIL while it computes).
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="onnx-encode")
        # Strided slices: each core gets long and short texts alike (ingest sorts longest first), so both
        # finish together.
        slices = [list(texts[start :: self.workers]) for start in range(self.workers)]
        parts = list(self._pool.map(self._many, slices))
        result = np.empty((len(texts), parts[0].shape[1]), dtype=np.float32)
        for start, part in enumerate(parts):
            result[start :: self.workers] = part
        return result


def _verify(encoder: OnnxEncoder, folder: Path, model_dir: Path, variant: str) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    if manifest.get("format") != EXPORT_FORMAT or manifest.get("variant") != variant:
        raise OnnxExportError("export of another format or variant")
    if manifest.get("source") != _source_identity(model_dir):
        raise OnnxExportError("the source weights changed since the export")
    import onnxruntime as ort

    if manifest.get("onnxruntime") != ort.__version__:
        raise OnnxExportError("exported with another onnxruntime version")
    stat = (folder / "model.onnx").stat()
    recorded = manifest.get("file") or {}
    # Size and mtime instead of hashing 90 MB at every start; a file damaged in place is caught by the
    # probe vectors below (and a truncated one does not load at all).
    if (recorded.get("size"), recorded.get("mtime_ns")) != (stat.st_size, stat.st_mtime_ns):
        raise OnnxExportError("model.onnx is not the file that was exported (size or time differ)")
    reference = np.asarray(manifest["probe_vectors"], dtype=np.float32)
    cosines = (encoder.encode(list(manifest["probes"])) * reference).sum(axis=1)
    if float(cosines.min()) < MIN_PROBE_COSINE[variant]:
        raise OnnxExportError(f"probe sentences drifted from torch (cosine {float(cosines.min()):.4f})")


def load_onnx_encoder(
    model_dir: Path, cache_dir: Path, name: str, variant: str, threads: int, batch_size: int
) -> OnnxEncoder:
    """The verified ONNX encoder, exporting (or re-exporting a broken export) first when needed."""
    folder = cache_dir / f"{name}-{variant}"
    problem = "no export yet"
    if (folder / "model.onnx").exists() and (folder / "manifest.json").exists():
        try:
            encoder = OnnxEncoder(model_dir, folder, variant, threads, batch_size)
            _verify(encoder, folder, model_dir, variant)
            return encoder
        except Exception as exc:  # corrupt, truncated, stale: rebuild below
            problem = str(exc)
            log.warning("ONNX export at %s is unusable (%s); rebuilding it", folder, problem)
    with _locked(folder):
        # Another process may have rebuilt it while we waited for the lock.
        try:
            encoder = OnnxEncoder(model_dir, folder, variant, threads, batch_size)
            _verify(encoder, folder, model_dir, variant)
            return encoder
        except Exception:
            pass
        try:
            export(model_dir, folder, variant)
            encoder = OnnxEncoder(model_dir, folder, variant, threads, batch_size)
            _verify(encoder, folder, model_dir, variant)
        except Exception as exc:
            raise OnnxExportError(f"cannot build the ONNX export ({problem}; then: {exc})") from exc
    log.info("exported %s to ONNX (%s) at %s", name, variant, folder)
    return encoder
