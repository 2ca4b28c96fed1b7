"""The τ² user simulator's plumbing against the local OpenAI-protocol stub server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eval.simulator import STOP, SimulationUnavailable, UserSimulator, aggregate_simulations, run_simulations
from knowledge.settings import Settings
from tests.assistant.openai_stub import StubReply, start_stub_server


def test_simulator_plays_the_customer_and_stops(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []
    base_url, stop = start_stub_server(
        [StubReply(content="Hi, I want to cancel order #W2378156."), StubReply(content=f"Thanks! {STOP}")],
        received=received,
    )
    try:
        settings = Settings(
            data_dir=tmp_path, llm_provider="openai", llm_base_url=base_url, llm_max_retries=0
        )
        simulator = UserSimulator(settings, "You are Yusuf Rossi. Cancel order #W2378156.")
        assert simulator.next_message(None) == "Hi, I want to cancel order #W2378156."
        assert simulator.next_message("Done: order #W2378156 is cancelled.") is None
    finally:
        stop()
    first, second = received
    assert first["messages"][0]["role"] == "system" and "Yusuf Rossi" in first["messages"][0]["content"]
    # Roles are mirrored: the bot's reply reaches the simulator as "user", its own lines as "assistant".
    assert [m["role"] for m in second["messages"]] == ["system", "user", "assistant", "user"]
    assert second["messages"][-1]["content"] == "Done: order #W2378156 is cancelled."


def test_simulation_needs_a_capable_model(tmp_path: Path) -> None:
    offline = Settings(data_dir=tmp_path, llm_provider="offline")
    with pytest.raises(SimulationUnavailable):
        UserSimulator(offline, "anything")
    with pytest.raises(SimulationUnavailable):
        run_simulations(offline, tmp_path / "sim", tasks_limit=1, trials=1)


def test_aggregate_simulations_pass_hat_k() -> None:
    records = [
        {"id": "0", "trials": [{"success": True, "db_match": True, "info_recall": 1.0}] * 2},
        {"id": "1", "trials": [{"success": True, "db_match": True, "info_recall": 1.0},
                               {"success": False, "db_match": False, "info_recall": 0.0}]},
    ]  # fmt: skip
    metrics = aggregate_simulations(records)
    assert metrics["tau2_sim.pass^1"] == pytest.approx(0.75)
    assert metrics["tau2_sim.pass^2"] == pytest.approx(0.5)
    assert metrics["tau2_sim.db_match"] == pytest.approx(0.75)
