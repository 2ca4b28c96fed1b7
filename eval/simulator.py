"""Simulated τ² retail conversations: an LLM plays the customer (from the task's user instructions), our
SupportService answers on a fresh copy of the τ² shop. Only with a capable model configured
(settings.effective_llm_provider == "openai"): the offline planner cannot role-play a customer.

Scoring per trial (τ²'s reward basis): the final db equals the gold db (the task's gold actions replayed
through our tools), and every `communicate_info` string appears in the bot's replies. pass^k over trials.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval import metrics as m

STOP = "###STOP###"
USER_SYSTEM = (
    "You are a customer talking to an online shop's support assistant. Follow these instructions:\n"
    "{instructions}\n\nWrite only the customer's next message, short and natural. When your task is done "
    "or cannot be done, reply exactly " + STOP + "."
)


def openai_client(settings: Any) -> Any:
    """The OpenAI client on the agent's endpoint, for the evaluation's own model calls (simulator, judge)."""
    from openai import OpenAI

    return OpenAI(
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or "not-needed",
        timeout=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
    )


class SimulationUnavailable(RuntimeError):
    """No capable model is configured for the user simulator."""


class UserSimulator:
    """The customer, played by an OpenAI-compatible chat model (the same endpoint settings as the agent)."""

    def __init__(self, settings: Any, instructions: str) -> None:
        if settings.effective_llm_provider != "openai":
            raise SimulationUnavailable("simulated conversations need PARLEY_LLM_BASE_URL (provider openai)")
        self.client = openai_client(settings)
        self.model = settings.llm_model
        self.temperature = max(settings.llm_temperature, 0.7)  # trials must differ for pass^k to mean much
        self.messages: list[Any] = [
            {"role": "system", "content": USER_SYSTEM.format(instructions=instructions)}
        ]

    def next_message(self, bot_reply: str | None) -> str | None:
        """The customer's next message after the bot's reply; None when the customer is done."""
        # Roles are mirrored: to the simulator, the bot is the "user" it answers.
        self.messages.append({"role": "user", "content": bot_reply or "Hello, how can I help you?"})
        response = self.client.chat.completions.create(
            model=self.model,
            messages=self.messages,
            temperature=self.temperature,  # type: ignore[arg-type]
        )
        text = (response.choices[0].message.content or "").strip()
        self.messages.append({"role": "assistant", "content": text})
        if not text or STOP in text:
            return None
        return text


def instructions_of(task: dict[str, Any]) -> str:
    scenario = task.get("user_scenario") or {}
    instructions = scenario.get("instructions")
    if isinstance(instructions, dict):
        return "\n".join(f"{k}: {v}" for k, v in instructions.items() if v)
    return str(instructions or "")


def _tables(data: Any) -> dict[str, Any]:
    raw = data.to_tau2()
    return {"orders": raw["orders"], "users": raw["users"]}


def run_simulations(
    settings: Any, work_dir: Path, tasks_limit: int, trials: int, max_turns: int = 20
) -> list[dict[str, Any]]:
    """`trials` simulated conversations for each of the first `tasks_limit` τ² retail tasks."""
    from assistant.service import SupportService
    from assistant.shop.store import ShopStore
    from assistant.tools.replay import SqliteTemplate, copy_sqlite, load_tasks
    from eval.tau2 import TAU2_DIR, replay_task

    if settings.effective_llm_provider != "openai":
        raise SimulationUnavailable("simulated conversations need PARLEY_LLM_BASE_URL (provider openai)")
    from assistant.tools.replay import load_shop_data

    work_dir.mkdir(parents=True, exist_ok=True)
    template = SqliteTemplate.build(load_shop_data(TAU2_DIR / "retail" / "db.json"), work_dir / "template.db")
    records = []
    for task in load_tasks(TAU2_DIR / "retail" / "tasks.json")[:tasks_limit]:
        _, gold = replay_task(template, task, work_dir)
        gold_tables = _tables(gold)
        info = [str(s) for s in (task.get("evaluation_criteria") or {}).get("communicate_info") or []]
        outcomes = []
        for trial in range(trials):
            data_dir = work_dir / f"task{task['id']}_trial{trial}"
            data_dir.mkdir(parents=True, exist_ok=True)
            copy_sqlite(template.path, data_dir / "parley.db")
            trial_settings = settings.model_copy(
                update={
                    "data_dir": data_dir,
                    "database_url": f"sqlite:///{data_dir / 'parley.db'}",
                    "checkpoint_url": str(data_dir / "checkpoints.sqlite"),
                    "chroma_path": settings.chroma_path,
                }
            )
            service = SupportService(trial_settings)
            simulator = UserSimulator(trial_settings, instructions_of(task))
            conversation, _ = service.start_conversation(channel="simulation")
            transcript: list[dict[str, Any]] = []
            reply: str | None = None
            for _ in range(max_turns):
                text = simulator.next_message(reply)
                if text is None:
                    break
                result = service.customer_turn(conversation.id, text)
                reply = result.reply
                transcript.append({"customer": text, "bot": reply, "status": result.status.value})
                if result.handover:
                    break
            final_tables = _tables(ShopStore(str(trial_settings.database_url)).export_data())
            bot_text = "\n".join(t["bot"] or "" for t in transcript)
            db_match = final_tables == gold_tables
            info_recall = m.fact_recall(bot_text, info)
            outcomes.append(
                {
                    "trial": trial,
                    "db_match": db_match,
                    "info_recall": info_recall,
                    "success": db_match and info_recall >= 1.0,
                    "transcript": transcript,
                }
            )
        records.append({"id": str(task["id"]), "trials": outcomes})
    return records


def aggregate_simulations(records: list[dict[str, Any]]) -> dict[str, float | None]:
    successes = [[t["success"] for t in r["trials"]] for r in records]
    trials = max((len(s) for s in successes), default=0)
    out: dict[str, float | None] = {
        "tau2_sim.tasks": float(len(records)),
        "tau2_sim.db_match": m.mean(t["db_match"] for r in records for t in r["trials"]),
        "tau2_sim.info_recall": m.mean(t["info_recall"] for r in records for t in r["trials"]),
    }
    for k in range(1, trials + 1):
        out[f"tau2_sim.pass^{k}"] = m.pass_hat_k(successes, k)
    return out


def dump(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, indent=1)
