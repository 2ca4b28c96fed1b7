"""Routing decision latency with 1,000 waiting conversations and 200 agents (a script that prints
numbers, not a test).

python benchmarks/bench_routing.py [--repeats 300] [--postgres postgresql://postgres@127.0.0.1:5432/test]

A desk of 10 teams x 20 agents (capacity 3, all online and all busy) and 1,000 conversations waiting,
spread over the teams, on SQLite (a file in a temporary directory) and on PostgreSQL (a fresh database).
Each routing decision is timed end to end through the real code (`Assigner`, `QueueView`: SQLAlchemy
sessions, transactions, commits):

- handover, desk full: `assign_conversation` finds no free agent and leaves it queued;
- slot freed, pull: `next_for_agent` picks the agent's most urgent conversation (FOR UPDATE SKIP LOCKED on
  PostgreSQL) and assigns it (conditional UPDATEs of the conversation and the agent's load, one commit);
- slot freed, push: `dispatch` over the whole desk with one free slot among 200 agents;
- customer's position and expected wait: `QueueView.status` (what the widget polls while waiting).

Each is printed as p50 / p95 in ms and as a ratio to one indexed SELECT of the queue (the next waiting
conversation of a team, through the same engine). Between timed calls, untimed SQL puts the desk back
(the conversation waits again, the agent is full again), so every call sees the same 1,000 / 200.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import select, update  # noqa: E402

from assistant.db import normalise_url  # noqa: E402
from assistant.routing.models import DeskAgentRow, DeskEventRow  # noqa: E402
from assistant.routing.router import Router  # noqa: E402
from assistant.store.conversations import ConversationStore  # noqa: E402
from assistant.store.models import ConversationRow, ConversationStatus, MessageRow  # noqa: E402
from knowledge.settings import Settings  # noqa: E402

TEAMS, PER_TEAM, CAPACITY, WAITING = 10, 20, 3, 1000
WAIT = ConversationStatus.WAITING_FOR_HUMAN.value
HUMAN = ConversationStatus.HUMAN.value


def build(router: Router) -> tuple[list[str], list[str]]:
    """The desk: teams, agents (online, full), 600 held + 1,000 waiting conversations. Returns the waiting
    ids and the agent names."""
    from assistant.routing.directory import AgentSpec, TeamSpec

    now = datetime.now(UTC)
    agents: list[str] = []
    for t in range(TEAMS):
        router.directory.save_team(TeamSpec(id=f"team{t}", name=f"Team {t}"))
        for a in range(PER_TEAM):
            name = f"agent{t:02d}{a:02d}"
            router.directory.save_agent(AgentSpec(name=name, capacity=CAPACITY, teams=[f"team{t}"]))
            agents.append(name)
    waiting: list[str] = []
    rows = []
    for i, name in enumerate(agents * CAPACITY):
        rows.append(
            ConversationRow(
                id=str(uuid.uuid4()),
                channel="widget",
                status=HUMAN,
                secret_hash="x" * 64,
                assigned_agent=name,
                priority=0.5,
                team_id=f"team{(i % len(agents)) // PER_TEAM}",
                assigned_at=now,
                first_human_reply_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    for i in range(WAITING):
        since = now - timedelta(seconds=i)
        cid = str(uuid.uuid4())
        row = ConversationRow(
            id=cid,
            channel="widget",
            status=WAIT,
            secret_hash="x" * 64,
            priority=0.3 + (i % 7) / 10,
            team_id=f"team{i % TEAMS}",
            waiting_since=since,
            band="normal",
            created_at=since,
            updated_at=since,
            sla_first_due=since + timedelta(minutes=10),
        )
        row.rank = router.assigner.row_rank(row, 0.0, False)
        rows.append(row)
        waiting.append(cid)
    with router.db.sessions.begin() as session:
        session.add_all(rows)
        session.execute(update(DeskAgentRow).values(status="online", load=CAPACITY))
    return waiting, agents


def restore(router: Router, cid: str | None, agent: str) -> None:
    """Untimed: the conversation waits again, the agent is full again, the decision's traces are gone."""
    with router.db.sessions.begin() as session:
        if cid:
            session.execute(
                update(ConversationRow)
                .where(ConversationRow.id == cid)
                .values(status=WAIT, assigned_agent=None, assigned_at=None)
            )
            session.execute(sa.delete(MessageRow).where(MessageRow.conversation_id == cid))
            session.execute(sa.delete(DeskEventRow).where(DeskEventRow.conversation_id == cid))
        session.execute(update(DeskAgentRow).where(DeskAgentRow.name == agent).values(load=CAPACITY))


def free_one(router: Router, agent: str) -> None:
    with router.db.sessions.begin() as session:
        session.execute(update(DeskAgentRow).where(DeskAgentRow.name == agent).values(load=CAPACITY - 1))


def timed(
    repeats: int,
    before: Callable[[int], Any],
    call: Callable[[int, Any], Any],
    after: Callable[[int, Any, Any], None],
) -> list[float]:
    times = []
    for i in range(repeats):
        prepared = before(i)
        started = time.perf_counter()
        result = call(i, prepared)
        times.append((time.perf_counter() - started) * 1000)
        after(i, prepared, result)
    return times


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(label: str, settings: Settings, repeats: int) -> list[tuple[str, float, float]]:
    store = ConversationStore(str(settings.database_url))
    store.migrate()
    router = Router(settings)
    waiting, agents = build(router)
    nothing = lambda i: None  # noqa: E731
    keep = lambda i, prepared, result: None  # noqa: E731

    def baseline(i: int, _: Any) -> Any:
        with router.db.sessions() as session:
            return session.execute(
                select(ConversationRow.id)
                .where(ConversationRow.status == WAIT, ConversationRow.team_id == f"team{i % TEAMS}")
                .order_by(ConversationRow.rank.desc())
                .limit(1)
            ).first()

    results = {"one indexed SELECT of the queue (baseline)": timed(repeats, nothing, baseline, keep)}
    results["handover, desk full: queue it"] = timed(
        repeats, nothing, lambda i, _: router.assigner.assign_conversation(waiting[i % WAITING]), keep
    )

    def pull_before(i: int) -> str:
        agent = agents[(i * 7) % len(agents)]
        free_one(router, agent)
        return agent

    def pull_after(i: int, agent: str, assignment: Any) -> None:
        assert assignment is not None, "the pull found nothing"
        restore(router, assignment.conversation_id, agent)

    def decide_only(i: int, agent: str) -> Any:
        with router.db.sessions() as session, session.begin():
            pick = router.assigner.pick_for(session, agent)
            session.rollback()  # the decision alone: nothing is written
            return pick

    results["decision only: pick for the agent (no write)"] = timed(
        repeats, pull_before, decide_only, lambda i, agent, pick: restore(router, None, agent)
    )
    results["slot freed, pull: next_for_agent"] = timed(
        repeats, pull_before, lambda i, agent: router.assigner.next_for_agent(agent), pull_after
    )

    def push_after(i: int, agent: str, done: Any) -> None:
        assert len(done) == 1, done
        restore(router, done[0].conversation_id, agent)

    results["slot freed, push: dispatch over the desk"] = timed(
        repeats, pull_before, lambda i, agent: router.assigner.dispatch(), push_after
    )
    results["customer's position + expected wait"] = timed(
        repeats, nothing, lambda i, _: router.queue.status(waiting[(i * 13) % WAITING]), keep
    )
    base = p(results["one indexed SELECT of the queue (baseline)"], 95)
    base50 = statistics.median(results["one indexed SELECT of the queue (baseline)"])
    print(f"\n{label}: {WAITING} waiting, {TEAMS * PER_TEAM} agents (capacity {CAPACITY}, all busy)")
    print(f"  {repeats} calls each; x = ratio to the baseline SELECT")
    print(f"  {'decision':46} {'p50 ms':>8} {'p95 ms':>8} {'p50 x':>7} {'p95 x':>7}")
    rows = []
    for name, values in results.items():
        p50, p95 = statistics.median(values), p(values, 95)
        rows.append((name, p50, p95))
        print(f"  {name:46} {p50:8.2f} {p95:8.2f} {p50 / base50:7.1f} {p95 / base:7.1f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="an admin URL; a fresh database is created and dropped ('' to skip)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), _env_file=None)  # type: ignore[call-arg]
        run("SQLite (file)", settings, args.repeats)
        if args.postgres:
            name = f"parley_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(normalise_url(args.postgres), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                url = args.postgres.rsplit("/", 1)[0] + "/" + name
                run("PostgreSQL", settings.model_copy(update={"database_url": url}), args.repeats)
            finally:
                from assistant.db import make_engine

                make_engine(url).dispose()
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
