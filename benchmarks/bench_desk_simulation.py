"""A discrete-event simulation of the human desk that drives the REAL routing code (a script that prints
numbers, not a test).

python benchmarks/bench_desk_simulation.py [--mmc-arrivals 20000] [--day-scale 1.0] [--seed 7]

Every handover goes through `Router.hand_over` (classification, team choice, priority, queue, immediate
assignment when a slot is free) on a real SQLite database, every completion through `Ownership.close` and
`Assigner.dispatch`, every abandonment through the customer's close, agents' shifts through
`Router.set_status`, SLA escalation through `Router.sweep`; the clock is simulated (each call gets `now`).

1. M/M/c: Poisson arrivals, exponential handle times, c agents with capacity 1, one priority, no
   abandonment: the simulated ASA (mean wait before an agent takes the conversation) must agree with the
   Erlang C formula within 10 %.
2. Priority at the same load: the same queue with 30 % urgent (guard severity 0.9) and 70 % polite (0.3)
   handovers: the urgent ones must see a lower ASA.
3. A support day: Poisson arrivals with an hourly profile, handle times from a lognormal fitted to a
   median of 6 min and a 90th percentile of 15 min, three shifts of agents with capacity 2-3, a mix of
   priorities, customers who give up after an exponential patience (mean 10 min): ASA, abandonment and
   SLA attainment (first response within the band's target) per band.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.routing.directory import AgentSpec, TeamSpec  # noqa: E402
from assistant.routing.erlang import erlang_c_asa  # noqa: E402
from assistant.routing.router import Router  # noqa: E402
from assistant.store.conversations import ConversationStore  # noqa: E402
from knowledge.settings import Settings  # noqa: E402

START = datetime(2025, 3, 3, 0, 0, tzinfo=UTC)  # a Monday
OPEN_HOURS = {"timezone": "UTC", "weekly": {"mon": ["07:00-23:00"]}}  # the support day's team
# A day's arrivals by hour (share of the daily volume), shaped like a web shop's chat traffic.
HOURLY = [
    0.5,
    0.3,
    0.2,
    0.2,
    0.3,
    0.6,
    1.5,
    3.0,
    5.5,
    7.5,
    8.0,
    7.5,
    6.5,
    7.0,
    7.5,
    7.0,
    6.5,
    6.0,
    5.5,
    5.0,
    4.5,
    3.5,
    2.0,
    1.0,
]


class Sim:
    """An event queue over the real router."""

    def __init__(self, settings: Settings) -> None:
        settings.ensure_data_dir()
        self.store = ConversationStore(str(settings.database_url))
        self.store.migrate()
        self.now = START
        self.router = Router(settings, clock=lambda: self.now)
        self.events: list[tuple[datetime, int, str, Any]] = []
        self.counter = 0
        self.handle: dict[str, float] = {}  # conversation -> its handle time (s)
        self.assigned: dict[str, float] = {}  # conversation -> waited (s)
        self.abandoned: set[str] = set()
        self.deferred: set[str] = set()
        self.klass: dict[str, str] = {}
        self.arrived: dict[str, datetime] = {}
        self.band: dict[str, str] = {}
        self.due: dict[str, datetime | None] = {}

    def at(self, when: datetime, kind: str, payload: Any = None) -> None:
        self.counter += 1
        heapq.heappush(self.events, (when, self.counter, kind, payload))

    def handover(self, severity: float, handle_s: float, klass: str, patience_s: float | None) -> None:
        conversation, _ = self.store.create_conversation(language="en")
        cid = conversation.id
        self.handle[cid], self.klass[cid], self.arrived[cid] = handle_s, klass, self.now
        outcome = self.router.hand_over(
            cid,
            {
                "takeover": True,
                "trigger": "explicit_request",
                "severity": severity,
                "language": "en",
                "reason": "simulated",
            },
            "en",
            self.now,
        )
        stored = self.store.get(cid)
        self.band[cid], self.due[cid] = stored.band or "?", stored.sla_first_due
        if outcome.assignment is not None:
            self.started(outcome.assignment)
        elif outcome.state == "deferred":
            self.deferred.add(cid)  # told when the team is back, the bot keeps helping: nobody gives up
        elif patience_s is not None:
            self.at(self.now + timedelta(seconds=patience_s), "abandon", cid)

    def started(self, assignment: Any) -> None:
        cid = assignment.conversation_id
        self.assigned[cid] = assignment.waited_s
        self.router.agent_replied(cid, self.now)
        self.at(self.now + timedelta(seconds=self.handle[cid]), "done", (cid, assignment.agent))

    def run(self, until: datetime | None = None, sweep_every_s: float | None = None) -> None:
        next_sweep = self.now + timedelta(seconds=sweep_every_s) if sweep_every_s else None
        while self.events:
            when, _, kind, payload = heapq.heappop(self.events)
            if until is not None and when > until:
                break
            if next_sweep is not None:
                while next_sweep <= when:
                    self.now = next_sweep
                    report = self.router.sweep(self.now)
                    for assignment in report.assigned:
                        self.started(assignment)
                    next_sweep += timedelta(seconds=sweep_every_s or 60)
            self.now = when
            if kind == "arrive":
                self.handover(*payload)
            elif kind == "done":
                cid, agent = payload
                self.router.ownership.close(cid, agent, self.now)
                for assignment in self.router.assigner.dispatch(self.now):
                    self.started(assignment)
            elif kind == "abandon" and payload not in self.assigned:
                self.abandoned.add(payload)
                self.router.ownership.close(payload, None, self.now)
            elif kind == "status":
                agent, status = payload
                updated = self.router.directory.set_status(agent, status, self.now)
                if updated.status.value == "online":
                    for assignment in self.router.assigner.dispatch(self.now):
                        self.started(assignment)


def fresh_settings(root: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": root,
        "llm_provider": "offline",
        "desk_priority_rules": [],
        "desk_sweep_interval_s": 1e9,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def staff(
    sim: Sim,
    agents: int,
    capacity: int,
    prefix: str = "a",
    status: str = "online",
    hours: dict[str, Any] | None = None,
) -> list[str]:
    if not sim.router.directory.teams():
        sim.router.directory.save_team(TeamSpec(id="desk", name="Desk", hours=hours))
    names = [f"{prefix}{i:03d}" for i in range(agents)]
    for name in names:
        sim.router.directory.save_agent(AgentSpec(name=name, capacity=capacity, teams=["desk"]))
        sim.router.directory.set_status(name, status, sim.now)
    return names


def mmc(
    root: Path, arrivals: int, agents: int, handle_s: float, load: float, seed: int, urgent_share: float = 0.0
) -> dict[str, Any]:
    rng = random.Random(seed)
    sim = Sim(fresh_settings(root))
    staff(sim, agents, 1)
    rate = load * agents / handle_s
    t = START
    for _ in range(arrivals):
        t += timedelta(seconds=rng.expovariate(rate))
        urgent = rng.random() < urgent_share
        sim.at(
            t,
            "arrive",
            (
                0.9 if urgent else 0.3 if urgent_share else 0.5,
                rng.expovariate(1 / handle_s),
                "urgent" if urgent else "polite",
                None,
            ),
        )
    started = time.perf_counter()
    sim.run()
    wall = time.perf_counter() - started
    order = sorted(sim.assigned, key=lambda c: sim.arrived[c])
    kept = order[len(order) // 10 :]  # warm-up: the first 10 % start from an empty queue
    by_class: dict[str, list[float]] = defaultdict(list)
    for cid in kept:
        by_class[sim.klass[cid]].append(sim.assigned[cid])
    waits = [sim.assigned[c] for c in kept]
    # The same sample path through an exact FIFO M/M/c recursion: a work-conserving, first-come router
    # must give every customer the very same wait.
    free = [0.0] * agents
    reference: dict[str, float] = {}
    for cid in sorted(sim.arrived, key=lambda c: sim.arrived[c]):
        arrival = (sim.arrived[cid] - START).total_seconds()
        server = min(range(agents), key=lambda k: free[k])
        begin = max(arrival, free[server])
        reference[cid] = begin - arrival
        free[server] = begin + sim.handle[cid]
    return {
        "max_path_gap_s": max(abs(sim.assigned[c] - reference[c]) for c in sim.assigned),
        "reference_asa": sum(reference[c] for c in kept) / len(kept),
        "asa": sum(waits) / len(waits),
        "erlang_c": erlang_c_asa(rate, handle_s, agents),
        "by_class": {k: (sum(v) / len(v), len(v)) for k, v in by_class.items()},
        "n": len(waits),
        "wall_s": wall,
    }


def lognormal_from(median_s: float, p90_s: float) -> tuple[float, float]:
    """mu, sigma of a lognormal with this median and 90th percentile (z(0.9) = 1.2816)."""
    return math.log(median_s), (math.log(p90_s) - math.log(median_s)) / 1.2816


def support_day(root: Path, volume: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    sim = Sim(fresh_settings(root))
    shifts = [(7, 15, 5, 3), (11, 19, 6, 2), (15, 23, 4, 3)]  # start, end, agents, capacity
    for number, (begin, end, count, capacity) in enumerate(shifts):
        for name in staff(sim, count, capacity, prefix=f"s{number}-", status="offline", hours=OPEN_HOURS):
            sim.at(START + timedelta(hours=begin), "status", (name, "online"))
            sim.at(START + timedelta(hours=end), "status", (name, "offline"))
    mu, sigma = lognormal_from(360, 900)
    total = sum(HOURLY)
    for hour, weight in enumerate(HOURLY):
        rate = volume * weight / total / 3600
        t = START + timedelta(hours=hour)
        while True:
            t += timedelta(seconds=rng.expovariate(rate))
            if t >= START + timedelta(hours=hour + 1):
                break
            severity = rng.choices([0.5, 0.65, 0.8, 0.3], weights=[55, 20, 10, 15])[0]
            sim.at(t, "arrive", (severity, rng.lognormvariate(mu, sigma), "", rng.expovariate(1 / 600)))
    started = time.perf_counter()
    sim.run(sweep_every_s=60)
    wall = time.perf_counter() - started
    bands: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    opening = START + timedelta(hours=7)
    for cid, band in sim.band.items():
        answered = cid in sim.assigned
        bands[band]["answered"].append(answered)
        bands[band]["abandoned"].append(cid in sim.abandoned)
        if not answered:
            bands[band]["in_sla"].append(False)  # abandoned, or still waiting at the end of the day
            continue
        due, taken = sim.due[cid], sim.arrived[cid] + timedelta(seconds=sim.assigned[cid])
        bands[band]["in_sla"].append(due is not None and taken <= due)
        if cid in sim.deferred:  # asked at night, told "back at 07:00": the wait counts from the opening
            bands["(before opening)"]["wait"].append(
                sim.assigned[cid] - (opening - sim.arrived[cid]).total_seconds()
            )
        else:
            bands[band]["wait"].append(sim.assigned[cid])
    return {"bands": bands, "wall_s": wall, "conversations": len(sim.band), "deferred": len(sim.deferred)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mmc-arrivals", type=int, default=12000)
    parser.add_argument("--agents", type=int, default=2)
    parser.add_argument("--handle", type=float, default=300.0, help="mean handle time, s")
    parser.add_argument("--load", type=float, default=0.5, help="utilisation rho (M/M/c)")
    parser.add_argument("--priority-arrivals", type=int, default=4000)
    parser.add_argument("--priority-load", type=float, default=0.85)
    parser.add_argument("--day-volume", type=int, default=1200, help="handovers in the simulated day")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    # The simulated database lives in memory-backed /dev/shm where there is one: the benchmark measures
    # queueing, not the disk's fsync (the routing latency benchmark measures the database).
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as tmp:
        result = mmc(Path(tmp) / "mmc", args.mmc_arrivals, args.agents, args.handle, args.load, args.seed)
        gap = result["asa"] / result["erlang_c"] - 1
        print(
            f"M/M/c  c={args.agents} rho={args.load} AHT={args.handle:.0f}s  n={result['n']} (after warm-up)"
        )
        print(
            f"  simulated ASA {result['asa']:.1f} s   Erlang C {result['erlang_c']:.1f} s   "
            f"difference {100 * gap:+.1f} %   ({'within' if abs(gap) <= 0.10 else 'OUTSIDE'} 10 %)   "
            f"wall {result['wall_s']:.0f} s"
        )
        print(
            f"  same sample path, exact FIFO M/M/c recursion: ASA {result['reference_asa']:.1f} "
            f"s, largest per-customer difference {result['max_path_gap_s']:.3f} s"
        )
        prio = mmc(
            Path(tmp) / "prio",
            args.priority_arrivals,
            args.agents,
            args.handle,
            args.priority_load,
            args.seed + 1,
            urgent_share=0.3,
        )
        (u, nu), (p, np_) = prio["by_class"]["urgent"], prio["by_class"]["polite"]
        print(
            f"Priority at rho={args.priority_load}: urgent ASA {u:.1f} s (n={nu})  "
            f"polite ASA {p:.1f} s (n={np_})  "
            f"all {prio['asa']:.1f} s (Erlang C {prio['erlang_c']:.1f} s)   wall {prio['wall_s']:.0f} s"
        )
        day = support_day(Path(tmp) / "day", args.day_volume, args.seed)
        print(
            f"Support day: {day['conversations']} handovers ({day['deferred']} while closed, first in line "
            f"at the next opening), 3 shifts, wall {day['wall_s']:.0f} s"
        )
        print("  band     n    ASA s (open hours)   abandoned   first response within SLA")
        for band in ("urgent", "high", "normal", "low"):
            b = day["bands"].get(band)
            if not b or not b["answered"]:
                continue
            n = len(b["answered"])
            asa = sum(b["wait"]) / len(b["wait"]) if b["wait"] else float("nan")
            abandoned = sum(b["abandoned"]) / n
            in_sla = sum(b["in_sla"]) / n  # abandoned ones count as missed
            print(f"  {band:7} {n:5} {asa:8.1f} {100 * abandoned:9.1f} % {100 * in_sla:14.1f} %")
        night = day["bands"].get("(before opening)", {}).get("wait", [])
        if night:
            print(
                f"  {len(night)} asked before opening: waited {sum(night) / len(night):.1f} s after 07:00 "
                "on average"
            )
        every = [x for name, b in day["bands"].items() if name != "(before opening)" for x in b["wait"]]
        answered = sum(sum(b["answered"]) for b in day["bands"].values())
        abandoned = sum(sum(b["abandoned"]) for b in day["bands"].values())
        in_sla = sum(sum(b["in_sla"]) for b in day["bands"].values())
        print(
            f"  all     {day['conversations']:5} {sum(every) / max(1, len(every)):8.1f} "
            f"{100 * abandoned / day['conversations']:9.1f} % {100 * in_sla / day['conversations']:14.1f} %"
            f"   (answered {answered})"
        )


if __name__ == "__main__":
    main()
