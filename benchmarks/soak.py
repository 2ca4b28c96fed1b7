"""Soak benchmark (not a test): N concurrent customers for T minutes against a real `parley serve` on
127.0.0.1, printing, every interval, the turns, errors, p50/p95 turn latency of that interval and the
server's resident memory, then a verdict on memory (flat, or growing by how many MB a minute).

Customers follow bench_api_load's realistic model (a message every 15-30 s, 70% help-centre questions in
EN/FR/NL, 30% order flows that never change the shop) over SSE, with agents polling the human queue.

    python benchmarks/soak.py --data-dir /tmp/soak --prepare                 # 300 customers, 10 minutes
    python benchmarks/soak.py --data-dir /tmp/soak --customers 300 --minutes 3 --every 20

Rate limits are lifted for the run (env_for); traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from typing import Any

import httpx
from bench_api_load import (  # benchmarks/bench_api_load.py (run as a script: its folder is on sys.path)
    agent,
    cpu_seconds,
    load_arguments,
    percentile,
    process_tree,
    realistic_customer,
    rss_mb,
    serve_for,
    wait_ready,
)


def memory_slope_mb_per_min(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) over the second half of the run: warm-up growth excluded."""
    half = points[len(points) // 2 :]
    if len(half) < 2:
        return float("nan")
    n = len(half)
    mean_t = sum(t for t, _ in half) / n
    mean_m = sum(m for _, m in half) / n
    var = sum((t - mean_t) ** 2 for t, _ in half)
    if var == 0:
        return 0.0
    return sum((t - mean_t) * (m - mean_m) for t, m in half) / var * 60.0


async def reporter(
    server_pid: int, every: float, deadline: float, out: dict[str, Any], timeline: list[dict[str, Any]]
) -> None:
    started = time.monotonic()
    seen_turns = seen_errors = 0
    while True:
        now = time.monotonic()
        last = now >= deadline
        if not last:
            await asyncio.sleep(min(every, max(0.0, deadline - now)))
        window = out["latencies"][seen_turns:]
        errors = out["errors"][seen_errors:]
        seen_turns, seen_errors = len(out["latencies"]), len(out["errors"])
        rss = sum(rss_mb(pid) for pid in process_tree(server_pid))
        row = {
            "t_s": round(time.monotonic() - started, 1),
            "turns": len(window),
            "errors": len(errors),
            "p50_ms": round(percentile(window, 50) * 1000, 1),
            "p95_ms": round(percentile(window, 95) * 1000, 1),
            "rss_mb": round(rss, 1),
        }
        timeline.append(row)
        print(
            f"{row['t_s']:>7.0f} s  turns {row['turns']:>5}  errors {row['errors']:>3}  "
            f"p50 {row['p50_ms']:>8.0f} ms  p95 {row['p95_ms']:>8.0f} ms  RSS {row['rss_mb']:>7.1f} MB",
            flush=True,
        )
        if last or time.monotonic() >= deadline:
            return


async def soak(base: str, server_pid: int, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "ttft": [], "errors": [], "agent_polls": [], "rss": []}
    timeline: list[dict[str, Any]] = []
    limits = httpx.Limits(
        max_connections=args.customers + args.agents, max_keepalive_connections=args.customers
    )
    timeout = httpx.Timeout(connect=30.0, read=600.0, write=30.0, pool=600.0)
    rng = random.Random(args.seed)
    cpu_before = cpu_seconds(process_tree(server_pid))
    started = time.perf_counter()
    deadline = time.monotonic() + args.minutes * 60.0
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        think = (args.think[0], args.think[1])
        tasks = [
            realistic_customer(client, random.Random(rng.random()), deadline, think, out)
            for _ in range(args.customers)
        ]
        tasks += [agent(client, deadline, out) for _ in range(args.agents)]
        tasks.append(reporter(server_pid, args.every, deadline, out, timeline))
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    lat = out["latencies"]
    memory = [(row["t_s"], row["rss_mb"]) for row in timeline]
    return {
        "customers": args.customers,
        "duration_s": round(elapsed, 1),
        "turns": len(lat),
        "turns_per_s": round(len(lat) / elapsed, 2),
        "errors": len(out["errors"]),
        "error_kinds": sorted(set(out["errors"]))[:5],
        "p50_ms": round(percentile(lat, 50) * 1000, 1),
        "p95_ms": round(percentile(lat, 95) * 1000, 1),
        "p99_ms": round(percentile(lat, 99) * 1000, 1),
        "agent_polls": len(out["agent_polls"]),
        "server_cpu_s": round(cpu_seconds(process_tree(server_pid)) - cpu_before, 1),
        "rss_mb_start": memory[0][1] if memory else None,
        "rss_mb_end": memory[-1][1] if memory else None,
        "rss_mb_max": max((m for _, m in memory), default=None),
        "rss_slope_mb_per_min_second_half": round(memory_slope_mb_per_min(memory), 2),
        "timeline": timeline,
    }


def main() -> None:
    parser = load_arguments(__doc__)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0, help="seconds per reported interval")
    args = parser.parse_args()
    base, server = serve_for(args)
    try:
        ready_s = wait_ready(base, server)
        print(
            f"server ready in {ready_s:.1f} s; {args.customers} customers for {args.minutes:g} min",
            flush=True,
        )
        result = asyncio.run(soak(base, server.pid, args))
    finally:
        server.terminate()
        server.wait(timeout=30)
    summary = {k: v for k, v in result.items() if k != "timeline"}
    print(json.dumps(summary), flush=True)
    slope = result["rss_slope_mb_per_min_second_half"]
    print(
        f"errors {result['errors']} of {result['turns']} turns; p50 {result['p50_ms']:.0f} ms, "
        f"p95 {result['p95_ms']:.0f} ms; RSS {result['rss_mb_start']} -> {result['rss_mb_end']} MB "
        f"(max {result['rss_mb_max']}), second-half slope {slope:+.2f} MB/min"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
