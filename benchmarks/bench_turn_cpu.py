"""CPU per offline turn, in-process, for this checkout or another one (a script that prints numbers).

    python benchmarks/bench_turn_cpu.py --data-dir DIR [--repo PATH] [--turns 120] [--listen]

Plays the same scripted turns as bench_turn_latency (help-centre questions and order flows that answer
"no", so the shop never changes) through `SupportService.customer_turn` of the checkout at `--repo` (the
"before" of a before/after comparison: run it for the old and the new code alternately) and prints the
process CPU time (user + system, all threads) and the wall time per turn. The first 10 turns warm the
process up and are not counted. DIR must hold the sample shop and index built by that checkout
(`bench_api_load.py --prepare` builds one).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from workload import KNOWLEDGE, ORDER_FLOWS  # benchmarks/workload.py


def scripts() -> list[list[str]]:
    out: list[list[str]] = []
    for i in range(1000):
        out.append([KNOWLEDGE[i % len(KNOWLEDGE)]] if i % 3 else ORDER_FLOWS[(i // 3) % len(ORDER_FLOWS)])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--turns", type=int, default=120)
    parser.add_argument(
        "--listen", action="store_true", help="a token listener on every turn, as the API's SSE path has"
    )
    args = parser.parse_args()
    os.environ.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PARLEY_LLM_PROVIDER="offline")
    os.environ["PARLEY_DATA_DIR"] = str(args.data_dir)
    os.environ["PARLEY_IDENTITY_POLICY"] = "tau2_benchmark"  # the workload signs in by email (workload.py)
    sys.path.insert(0, str(args.repo.resolve()))
    from assistant.service import SupportService
    from knowledge.settings import Settings

    service = SupportService(Settings())
    cpu: list[float] = []
    wall: list[float] = []
    played = 0
    for script in scripts():
        conversation, _ = service.start_conversation()
        for text in script:
            cpu_before, wall_before = time.process_time(), time.perf_counter()
            service.customer_turn(
                conversation.id, text, on_token=(lambda piece: None) if args.listen else None
            )
            if played >= 10:
                cpu.append(time.process_time() - cpu_before)
                wall.append(time.perf_counter() - wall_before)
            played += 1
        if len(cpu) >= args.turns:
            break
    cpu.sort()
    wall.sort()
    result = {
        "repo": str(args.repo),
        "listen": args.listen,
        "turns": len(cpu),
        "cpu_ms_mean": round(sum(cpu) / len(cpu) * 1000, 1),
        "cpu_ms_p50": round(cpu[len(cpu) // 2] * 1000, 1),
        "wall_ms_p50": round(wall[len(wall) // 2] * 1000, 1),
        "wall_ms_p95": round(wall[int(len(wall) * 0.95)] * 1000, 1),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
