"""Load benchmark of the HTTP API: a real `parley serve` on loopback, virtual customers over SSE.

Two load models:

- `realistic` (default): N customers, each typing a message every 15-30 s (uniform, seeded; not
  back-to-back), starting at random moments of the first think time. 70% of the scenarios are help-centre
  questions, 30% order flows of 2-4 turns (sign in, look up, list a change and answer "no", so the shop
  never changes). Meanwhile K agents poll the human queue every 5 s, as the console does.
- `back-to-back`: N customers each send help-centre questions one after another (5 per conversation):
  the throughput ceiling of the box.

Reported per run: turns/s, p50/p95/p99 turn latency (request sent -> `final` event), time to first token,
errors (HTTP errors, error events, broken streams), the server's CPU seconds per turn (utime + stime of the
server's process tree over the run, from /proc) and the resident memory of each server process, sampled
every `--sample-every` s (start / end / max: a soak shows whether memory stays flat).

    python benchmarks/bench_api_load.py --data-dir /tmp/apidata --prepare --concurrency 300 --duration 600
    python benchmarks/bench_api_load.py --data-dir /tmp/old --repo /tmp/old-code --model back-to-back ...

`--repo` serves another checkout (the "before" of a before/after comparison: the same load from the same
script against the old code). Traffic goes only to 127.0.0.1; rate limits are lifted for the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from workload import ORDER_FLOWS  # benchmarks/workload.py

REPO_ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How do I return an item?",
    "How long does delivery take?",
    "Can I change my delivery address?",
    "What payment methods do you accept?",
    "How do I wash the wool throw blanket?",
    "Do you ship to the Netherlands?",
    "when will I get my refund?",
    "how do I reset my password?",
    "can I change the size of something I ordered?",
    "what is your policy on damaged items?",
    "Combien de temps prend la livraison ?",
    "Hoe lang duurt de terugbetaling?",
]
TURNS_PER_CONVERSATION = 5  # back-to-back model
AGENT_KEY = "bench-agent-key-0123456789abcdef0123456789"  # 32+ bytes: accepted by a hardened server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(data_dir: Path, repo: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env.update(
        PYTHONPATH=str(repo),
        PARLEY_DATA_DIR=str(data_dir),
        PARLEY_LLM_PROVIDER="offline",
        HF_HUB_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        PARLEY_RATE_LIMIT_PER_CONVERSATION="0",  # 0 = off, for the benchmark only
        PARLEY_RATE_LIMIT_PER_IP="0",
        PARLEY_AGENT_KEYS=json.dumps({"bench-agent": AGENT_KEY}),
        PARLEY_CUSTOMER_TOKEN_SECRET="bench-token-secret-0123456789abcdef0123",
        # The workload signs in by email (workload.IDENTITY_POLICY): τ²-bench's policy, named explicitly.
        PARLEY_IDENTITY_POLICY="tau2_benchmark",
    )
    return env


def prepare(data_dir: Path, repo: Path) -> None:
    cli = [sys.executable, "-m", "assistant.cli"]
    env = env_for(data_dir, repo)
    sample = repo / "knowledge" / "sample_data"
    subprocess.run([*cli, "generate-shop", "--load", "--no-index"], env=env, check=True, cwd=repo)
    subprocess.run(
        [*cli, "ingest", str(sample / "help_center"), str(sample / "faq.csv"), "--no-progress"],
        env=env, check=True, cwd=repo,
    )  # fmt: skip


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# --- the server's processes, from /proc -----------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


# --- virtual customers and agents -------------------------------------------------------------------


async def one_turn(client: httpx.AsyncClient, conversation: dict[str, str], text: str) -> tuple[float, float]:
    """(turn latency, time to first token) in seconds; raises on any error."""
    started = time.perf_counter()
    first_token = final = None
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


async def new_conversation(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post("/v1/conversations", json={})
    response.raise_for_status()
    data: dict[str, str] = response.json()
    return data


async def send(
    client: httpx.AsyncClient, conversation: dict[str, str], text: str, out: dict[str, Any]
) -> None:
    try:
        latency, ttft = await one_turn(client, conversation, text)
        out["latencies"].append(latency)
        out["ttft"].append(ttft)
    except Exception as exc:  # counted, not fatal: the benchmark measures errors too
        out["errors"].append(type(exc).__name__ + ": " + str(exc)[:80])


async def realistic_customer(
    client: httpx.AsyncClient,
    rng: random.Random,
    deadline: float,
    think: tuple[float, float],
    out: dict[str, Any],
) -> None:
    await asyncio.sleep(rng.uniform(0, think[1]))  # customers arrive spread over the first think time
    while time.monotonic() < deadline:
        scenario = [rng.choice(QUESTIONS)] if rng.random() < 0.7 else rng.choice(ORDER_FLOWS)
        try:
            conversation = await new_conversation(client)
        except Exception as exc:
            out["errors"].append(type(exc).__name__ + ": " + str(exc)[:80])
            await asyncio.sleep(rng.uniform(*think))
            continue
        for text in scenario:
            if time.monotonic() >= deadline:
                return
            await send(client, conversation, text, out)
            await asyncio.sleep(rng.uniform(*think))


async def back_to_back_customer(
    client: httpx.AsyncClient, user: int, deadline: float, out: dict[str, Any]
) -> None:
    turn = 0
    conversation: dict[str, str] | None = None
    while time.monotonic() < deadline:
        try:
            if conversation is None or turn % TURNS_PER_CONVERSATION == 0:
                conversation = await new_conversation(client)
        except Exception as exc:
            out["errors"].append(type(exc).__name__ + ": " + str(exc)[:80])
            await asyncio.sleep(0.1)
            continue
        await send(client, conversation, QUESTIONS[(user + turn) % 6], out)
        turn += 1


async def agent(client: httpx.AsyncClient, deadline: float, out: dict[str, Any]) -> None:
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            response = await client.get("/v1/agent/queue", headers={"Authorization": f"Bearer {AGENT_KEY}"})
            response.raise_for_status()
            out["agent_polls"].append(time.perf_counter() - started)
        except Exception as exc:
            out["errors"].append("agent " + type(exc).__name__ + ": " + str(exc)[:80])
        await asyncio.sleep(5.0)


async def sampler(server_pid: int, every: float, deadline: float, out: dict[str, Any]) -> None:
    while time.monotonic() < deadline:
        pids = process_tree(server_pid)
        out["rss"].append({str(pid): round(rss_mb(pid), 1) for pid in pids})
        await asyncio.sleep(every)


async def run_load(base: str, server_pid: int, args: argparse.Namespace, concurrency: int) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "ttft": [], "errors": [], "agent_polls": [], "rss": []}
    limits = httpx.Limits(max_connections=concurrency + args.agents, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(connect=30.0, read=600.0, write=30.0, pool=600.0)
    rng = random.Random(args.seed)
    cpu_before = cpu_seconds(process_tree(server_pid))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client:
        started = time.perf_counter()
        deadline = time.monotonic() + args.duration
        if args.model == "realistic":
            think = (args.think[0], args.think[1])
            tasks = [
                realistic_customer(client, random.Random(rng.random()), deadline, think, out)
                for _ in range(concurrency)
            ]
            tasks += [agent(client, deadline, out) for _ in range(args.agents)]
        else:
            tasks = [back_to_back_customer(client, i, deadline, out) for i in range(concurrency)]
        tasks.append(sampler(server_pid, args.sample_every, deadline, out))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    cpu = cpu_seconds(process_tree(server_pid)) - cpu_before
    lat = out["latencies"]
    per_process: dict[str, list[float]] = {}
    for sample in out["rss"]:
        for pid, mb in sample.items():
            per_process.setdefault(pid, []).append(mb)
    return {
        "model": args.model,
        "concurrency": concurrency,
        "duration_s": round(elapsed, 1),
        "turns": len(lat),
        "turns_per_s": round(len(lat) / elapsed, 2),
        "p50_ms": round(percentile(lat, 50) * 1000, 1),
        "p95_ms": round(percentile(lat, 95) * 1000, 1),
        "p99_ms": round(percentile(lat, 99) * 1000, 1),
        "max_ms": round(max(lat, default=float("nan")) * 1000, 1),
        "ttft_p50_ms": round(percentile(out["ttft"], 50) * 1000, 1),
        "errors": len(out["errors"]),
        "error_kinds": sorted(set(out["errors"]))[:5],
        "agent_polls": len(out["agent_polls"]),
        "agent_poll_p95_ms": round(percentile(out["agent_polls"], 95) * 1000, 1),
        "server_cpu_s": round(cpu, 1),
        "cpu_ms_per_turn": round(cpu / max(1, len(lat)) * 1000, 1),
        "rss_mb": {pid: {"start": v[0], "end": v[-1], "max": max(v)} for pid, v in per_process.items() if v},
    }


async def first_turn(base: str) -> float:
    """The first customer's turn on a fresh server (cold start shows here, not in the percentiles)."""
    async with httpx.AsyncClient(base_url=base, timeout=120.0) as client:
        conversation = await new_conversation(client)
        latency, _ = await one_turn(client, conversation, QUESTIONS[0])
        return latency


def start_server(args: argparse.Namespace, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)]
    command += ["--workers", str(args.workers), "--log-level", "warning"]
    return subprocess.Popen(command, env=env_for(args.data_dir, args.repo), cwd=args.repo)


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> float:
    started = time.perf_counter()
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("server did not start")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="the checkout to serve (default: this)")
    parser.add_argument("--prepare", action="store_true", help="build the sample shop and index first")
    parser.add_argument("--model", choices=["realistic", "back-to-back"], default="realistic")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[300])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds per concurrency level")
    parser.add_argument("--think", type=float, nargs=2, default=[15.0, 30.0], help="seconds between messages")
    parser.add_argument("--agents", type=int, default=3, help="agents polling the queue (realistic model)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sample-every", type=float, default=10.0, help="seconds between RSS samples")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--profile", type=Path, help="record a py-spy flame graph (SVG) of the server")
    args = parser.parse_args()
    args.repo = args.repo.resolve()
    if args.prepare:
        prepare(args.data_dir, args.repo)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(args, port)
    results: dict[str, Any] = {"repo": str(args.repo), "workers": args.workers, "runs": []}
    try:
        results["start_to_healthy_s"] = round(wait_ready(base, server), 1)
        results["first_turn_ms"] = round(asyncio.run(first_turn(base)) * 1000, 1)
        for concurrency in args.concurrency:
            spy = None
            if args.profile:  # sampled from outside the server (py-spy), for the whole run
                py_spy = str(Path(sys.executable).parent / "py-spy")
                spy = subprocess.Popen(
                    [py_spy, "record", "-o", str(args.profile), "--pid", str(server.pid), "--rate", "50",
                     "--duration", str(int(args.duration)), "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
            run = asyncio.run(run_load(base, server.pid, args, concurrency))
            if spy is not None:
                spy.wait(timeout=120)
            results["runs"].append(run)
            print(json.dumps(run), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
