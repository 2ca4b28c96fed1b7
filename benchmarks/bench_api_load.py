"""Load benchmark of the HTTP API: N concurrent conversations against a real `parley serve` on loopback.

Each virtual customer opens a conversation and sends help-centre questions one after another over the
streaming endpoint (the widget's path), for a bounded time. Reported: turns/s, p50/p95/p99 turn latency
(request sent -> `final` event), time to first token, errors; and the API overhead as the ratio of a
sequential API turn (concurrency 1) to the same turn called in-process (SupportService.customer_turn).

    python benchmarks/bench_api_load.py --data-dir /tmp/apidata --concurrency 1 100 300 --duration 30

The data dir must hold the sample shop and index (`parley generate-shop --load`, `parley ingest ...`);
with --prepare it is built first. Traffic goes only to 127.0.0.1; rate limits are lifted via env.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How do I return an item?",
    "How long does delivery take?",
    "Can I change my delivery address?",
    "What payment methods do you accept?",
    "How do I wash the wool throw blanket?",
    "Do you ship to the Netherlands?",
]
TURNS_PER_CONVERSATION = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(
        PARLEY_DATA_DIR=str(data_dir),
        PARLEY_LLM_PROVIDER="offline",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PARLEY_RATE_LIMIT_PER_CONVERSATION="0",  # 0 = off, for the benchmark only
        PARLEY_RATE_LIMIT_PER_IP="0",
    )
    return env


def prepare(data_dir: Path) -> None:
    cli = [sys.executable, "-m", "assistant.cli"]
    env = env_for(data_dir)
    sample = REPO_ROOT / "knowledge" / "sample_data"
    subprocess.run([*cli, "generate-shop", "--load", "--no-index"], env=env, check=True, cwd=REPO_ROOT)
    subprocess.run(
        [*cli, "ingest", str(sample / "help_center"), str(sample / "faq.csv"), "--no-progress"],
        env=env,
        check=True,
        cwd=REPO_ROOT,
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def one_turn(client: httpx.AsyncClient, conversation: dict[str, str], text: str) -> tuple[float, float]:
    """(turn latency, time to first token) in seconds; raises on any error."""
    started = time.perf_counter()
    first_token = None
    final = None
    async with client.stream(
        "POST",
        f"/v1/conversations/{conversation['conversation_id']}/messages",
        json={"text": text},
        headers={"X-Conversation-Secret": conversation["secret"], "Accept": "text/event-stream"},
    ) as response:
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}")
        async for line in response.aiter_lines():
            if line.startswith("event: token") and first_token is None:
                first_token = time.perf_counter() - started
            elif line.startswith("event: error"):
                raise RuntimeError("error event")
            elif line.startswith("event: final"):
                final = time.perf_counter() - started
    if final is None:
        raise RuntimeError("stream ended without final")
    return final, first_token if first_token is not None else final


async def customer(client: httpx.AsyncClient, user: int, deadline: float, out: dict[str, Any]) -> None:
    turn = 0
    conversation: dict[str, str] | None = None
    while time.monotonic() < deadline:
        try:
            if conversation is None or turn % TURNS_PER_CONVERSATION == 0:
                response = await client.post("/v1/conversations", json={})
                response.raise_for_status()
                conversation = response.json()
            latency, ttft = await one_turn(client, conversation, QUESTIONS[(user + turn) % len(QUESTIONS)])
            out["latencies"].append(latency)
            out["ttft"].append(ttft)
        except Exception as exc:  # counted, not fatal: the benchmark measures errors too
            out["errors"].append(type(exc).__name__ + ": " + str(exc)[:80])
            await asyncio.sleep(0.1)
        turn += 1


async def run_load(base: str, concurrency: int, duration: float) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "ttft": [], "errors": []}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(connect=30.0, read=600.0, write=30.0, pool=600.0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        deadline = time.monotonic() + duration
        started = time.perf_counter()
        await asyncio.gather(*(customer(client, i, deadline, out) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    lat = out["latencies"]
    return {
        "concurrency": concurrency,
        "duration_s": round(elapsed, 1),
        "turns": len(lat),
        "turns_per_s": round(len(lat) / elapsed, 2),
        "p50_ms": round(percentile(lat, 50) * 1000, 1),
        "p95_ms": round(percentile(lat, 95) * 1000, 1),
        "p99_ms": round(percentile(lat, 99) * 1000, 1),
        "ttft_p50_ms": round(percentile(out["ttft"], 50) * 1000, 1),
        "errors": len(out["errors"]),
        "error_kinds": sorted(set(out["errors"]))[:5],
    }


def in_process_p50(data_dir: Path, turns: int) -> float:
    """Median latency of the same turns called directly on SupportService (warm), in seconds."""
    os.environ.update({k: v for k, v in env_for(data_dir).items() if k.startswith(("PARLEY_", "HF_"))})
    from assistant.service import SupportService
    from knowledge.settings import Settings

    service = SupportService(Settings())
    conversation, _ = service.start_conversation()
    service.customer_turn(conversation.id, QUESTIONS[0])  # warm-up
    latencies = []
    for i in range(turns):
        if i % TURNS_PER_CONVERSATION == 0:
            conversation, _ = service.start_conversation()
        started = time.perf_counter()
        service.customer_turn(conversation.id, QUESTIONS[i % len(QUESTIONS)], on_token=lambda _: None)
        latencies.append(time.perf_counter() - started)
    return statistics.median(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--prepare", action="store_true", help="build the sample shop and index first")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 100, 300])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per concurrency level")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--in-process-turns", type=int, default=30)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.data_dir)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        env=env_for(args.data_dir),
        cwd=REPO_ROOT,
    )
    results: dict[str, Any] = {"workers": args.workers, "runs": []}
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("server did not start")
            time.sleep(0.5)
        for concurrency in args.concurrency:
            run = asyncio.run(run_load(base, concurrency, args.duration))
            results["runs"].append(run)
            print(json.dumps(run), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)

    direct = in_process_p50(args.data_dir, args.in_process_turns)
    results["in_process_p50_ms"] = round(direct * 1000, 1)
    sequential = next((r for r in results["runs"] if r["concurrency"] == 1), None)
    if sequential:
        results["api_overhead_ratio_p50"] = round(sequential["p50_ms"] / (direct * 1000), 3)
    print(json.dumps({k: v for k, v in results.items() if k != "runs"}))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
