"""The turn lock: one holder at a time across threads; a dead or expired holder is taken over; not a live one.

Real SQLite and PostgreSQL (skipped with a reason when PostgreSQL is not running, unless
PARLEY_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from assistant.fault_points import wanted_hit
from assistant.store.conversations import ConversationStore
from assistant.store.turns import TurnBusy, holder_is_dead, new_owner


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ConversationStore:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'turns.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    conversations = ConversationStore(url)
    conversations.migrate()
    return conversations


def test_one_holder_at_a_time_across_threads(store: ConversationStore) -> None:
    conversation, _ = store.create_conversation()
    inside = 0
    most = 0
    entered = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, most, entered
        for _ in range(3):
            with store.turns.hold(conversation.id, wait_s=60):
                with guard:
                    inside += 1
                    entered += 1
                    most = max(most, inside)
                time.sleep(0.01)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert entered == 18 and most == 1


def test_other_conversations_do_not_wait(store: ConversationStore) -> None:
    first, _ = store.create_conversation()
    second, _ = store.create_conversation()
    with store.turns.hold(first.id), store.turns.hold(second.id, wait_s=0.5):
        pass


def test_a_live_holder_is_waited_for_then_given_up_on(store: ConversationStore) -> None:
    conversation, _ = store.create_conversation()
    with store.turns.hold(conversation.id):
        assert not store.turns.try_acquire(conversation.id, new_owner())
        with pytest.raises(TurnBusy), store.turns.hold(conversation.id, wait_s=0.2):
            pass
    with store.turns.hold(conversation.id, wait_s=0.2):  # released: free again
        pass


def test_a_dead_holder_on_this_host_is_taken_over(store: ConversationStore) -> None:
    conversation, _ = store.create_conversation()
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(child.stdout)
    host = new_owner().split("|")[0]
    dead = f"{host}|{dead_pid}|deadbeef0000"
    assert holder_is_dead(dead) and not holder_is_dead(new_owner())
    assert store.turns.try_acquire(conversation.id, dead)
    assert store.turns.try_acquire(conversation.id, new_owner())  # a killed worker never blocks the next turn


def test_an_expired_lease_from_another_host_is_taken_over(store: ConversationStore) -> None:
    conversation, _ = store.create_conversation()
    elsewhere = "another-host|1|cafe00000000"
    assert not holder_is_dead(elsewhere)
    assert store.turns.try_acquire(conversation.id, elsewhere, lease_s=-1)
    assert store.turns.try_acquire(conversation.id, new_owner())
    fresh = "another-host|2|cafe00000001"
    other, _ = store.create_conversation()
    assert store.turns.try_acquire(other.id, fresh, lease_s=60)
    assert not store.turns.try_acquire(other.id, new_owner())


@pytest.mark.parametrize(
    ("spec", "name", "expected"),
    [
        ("after_write", "after_write", 1),
        ("before_reply@2", "before_reply", 2),
        ("after_write,before_reply@3", "before_reply", 3),
        ("after_write", "before_reply", None),
        ("", "after_write", None),
    ],
)
def test_fault_point_specs(spec: str, name: str, expected: int | None) -> None:
    assert wanted_hit(spec, name) == expected
