"""Concurrent assigners on PostgreSQL (several API workers): no conversation goes to two agents, no agent
goes past capacity. Threads and separate processes, each with its own engine, race on one queue."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant.routing.models import DeskAgentRow, DeskEventRow, EventKind
from assistant.store.models import ConversationRow, ConversationStatus
from knowledge.settings import Settings
from tests.assistant.routing.conftest import Desk, make_desk

pytestmark = pytest.mark.postgres

AGENTS = {f"agent{i}": 3 for i in range(6)}  # 18 slots
WAITING = 60


def _settings(tmp: str, url: str) -> Settings:
    return Settings(data_dir=Path(tmp), database_url=url, _env_file=None)  # type: ignore[call-arg]


def worker(tmp: str, url: str, barrier: Any, rounds: int, result: Any) -> None:
    """One 'API worker' in its own process: its own engine, its own Router."""
    from assistant.routing.router import Router

    router = Router(_settings(tmp, url))
    barrier.wait()
    assigned = 0
    for i in range(rounds):
        if i % 2:
            assigned += len(router.dispatch())
        else:
            for name in AGENTS:
                assigned += router.assigner.next_for_agent(name) is not None
    result.put(assigned)


def fill_queue(desk: Desk) -> list[str]:
    desk.team("support")
    for name, capacity in AGENTS.items():
        desk.agent(name, capacity=capacity, teams=("support",), status="offline")
    ids = [desk.waiting() for _ in range(WAITING)]
    for name in AGENTS:  # online without the dispatch that set_status would run: the race does it
        desk.router.directory.set_status(name, "online")
    return ids


def check_invariants(desk: Desk) -> int:
    with desk.router.db.sessions() as session:
        held = dict(
            session.execute(
                select(ConversationRow.assigned_agent, func.count())
                .where(ConversationRow.status == ConversationStatus.HUMAN.value)
                .group_by(ConversationRow.assigned_agent)
            ).all()
        )
        loads = {a.name: (a.load, a.capacity) for a in session.scalars(select(DeskAgentRow))}
        events = Counter(
            session.scalars(
                select(DeskEventRow.conversation_id).where(DeskEventRow.kind == EventKind.ASSIGNED.value)
            ).all()
        )
    for name, (load, capacity) in loads.items():
        assert load <= capacity, f"{name} is past capacity: {load} > {capacity}"
        assert load == held.get(name, 0), f"{name}: load {load} but holds {held.get(name, 0)}"
    assert all(n == 1 for n in events.values()), "a conversation was assigned twice"
    assert sum(events.values()) == sum(held.values())
    return sum(held.values())


def test_threads_never_double_assign_or_exceed_capacity(settings: Settings, postgres_url: str) -> None:
    desk = make_desk(settings, postgres_url)
    fill_queue(desk)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            for _ in range(4):
                if n % 2:
                    desk.router.dispatch()
                else:
                    for name in AGENTS:
                        desk.router.assigner.next_for_agent(name)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert check_invariants(desk) == sum(AGENTS.values())  # every slot filled, none twice


def test_processes_never_double_assign_or_exceed_capacity(
    settings: Settings, postgres_url: str, tmp_path: Path
) -> None:
    desk = make_desk(settings, postgres_url)
    fill_queue(desk)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    processes = [
        context.Process(target=worker, args=(str(tmp_path), postgres_url, barrier, 6, results))
        for _ in range(4)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
        assert p.exitcode == 0, f"worker exited with {p.exitcode}"
    claimed = sum(results.get(timeout=5) for _ in processes)
    assert claimed == sum(AGENTS.values())  # the workers' own counts agree: each slot taken once
    assert check_invariants(desk) == sum(AGENTS.values())


def test_racing_claims_have_one_winner(settings: Settings, postgres_url: str) -> None:
    desk = make_desk(settings, postgres_url)
    desk.team("support")
    names = [f"agent{i}" for i in range(8)]
    for name in names:
        desk.agent(name, capacity=1, teams=("support",), status="away")  # away: nothing auto-assigned
    cid = desk.waiting()
    barrier = threading.Barrier(len(names))
    outcomes: dict[str, str] = {}

    def claim(name: str) -> None:
        barrier.wait()
        try:
            desk.router.claim(cid, name)
            outcomes[name] = "won"
        except Exception as exc:  # noqa: BLE001
            outcomes[name] = type(exc).__name__

    threads = [threading.Thread(target=claim, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [n for n, o in outcomes.items() if o == "won"]
    assert len(winners) == 1 and set(outcomes.values()) == {"won", "ConflictError"}
    assert desk.store.get(cid).assigned_agent == winners[0]
    assert [desk.router.directory.agent(n).load for n in names].count(1) == 1
