"""Scripted conversations: play a case's customer turns on a fresh shop, then judge the tool calls, the final
state of the shop, the facts said and the takeover; average the records into `conversations.*` and
`effort.*` metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eval import metrics as m
from eval.breakdown import conversation_breakdown
from eval.casefiles import ConversationCase
from eval.drafts import draft_metrics

# (metric, record key) of the `conversations.*` metrics that are plain means over all conversations.
_CONVERSATION_MEANS = (
    ("pass_rate", "passed"),
    ("tool_precision", "tool_precision"),
    ("tool_recall", "tool_recall"),
    ("tool_exact_match", "tool_exact"),
    ("final_state_match", "final_state_ok"),
    ("fact_recall", "fact_recall"),
)


@dataclass
class Played:
    """What happened when a case's turns were played."""

    transcript: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)  # tool calls that ran (not rejected)
    bot_text: str = ""
    takeover_turn: int | None = None
    resolved_turn: int | None = None  # the first turn after which the case's goals were all met
    conversation_id: str = ""


def _turn_record(text: str, result: Any, trace: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "customer": text,
        "bot": result.reply,
        "tools": [
            {
                "name": c["name"],
                "arguments": c.get("arguments"),
                "ok": c.get("ok"),
                "error": c.get("error"),
                "rejected": bool(c.get("rejected")),
            }
            for c in trace
        ],
        "status": result.status.value,
        "latency_ms": round(result.latency_ms, 1),
        "guard": result.guard.trigger if result.guard else None,
    }


def play(service: Any, case: ConversationCase) -> Played:
    """The customer's turns through the service until they end or a person takes over."""
    conversation, _ = service.start_conversation(channel="eval", user_id=case.setup.customer_token_user_id)
    played = Played(conversation_id=conversation.id)
    expected = [c.model_dump() for c in case.expected_tool_calls]
    for number, turn in enumerate(case.turns, start=1):
        result = service.customer_turn(conversation.id, turn.text)
        trace = [c.model_dump() for c in result.tool_calls]
        played.calls.extend(c for c in trace if c.get("ok") is not None and not c.get("rejected"))
        played.bot_text += "\n" + (result.reply or "")
        played.transcript.append(_turn_record(turn.text, result, trace))
        if result.handover or result.status.value != "bot":
            played.takeover_turn = number
            break  # the customer now waits for a person: the script ends here
        matched, _ = m.match_tool_calls(expected, played.calls)
        if (
            played.resolved_turn is None
            and matched == len(expected)
            and m.fact_recall(played.bot_text, case.facts) >= 1.0
        ):
            played.resolved_turn = number
    return played


def shop_state(store: Any, expected: Mapping[Any, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The shop rows named in the expected final state, as τ² JSON."""
    state: dict[str, dict[str, Any]] = {}
    with store.transaction() as shop:
        for table, rows in expected.items():
            getter = {"orders": shop.get_order, "users": shop.get_user, "products": shop.get_product}[table]
            state[table] = {}
            for row_id in rows:
                row = getter(row_id)
                if row is not None:
                    state[table][row_id] = row.model_dump(mode="json")
    return state


def run_conversation(
    service: Any,
    shops: dict[str, Any],
    case: ConversationCase,
    always_scored: frozenset[str],
    reference: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Play the case on a fresh copy of its shop and score it; `always_scored` tools count for tool-call
    precision whether the case lists them or not."""
    service.shop.import_data(shops[case.setup.shop], replace=True)  # every case starts on a fresh shop
    played = play(service, case)
    expected_calls = [c.model_dump() for c in case.expected_tool_calls]
    scores = m.tool_call_scores(expected_calls, played.calls, always_scored)
    state_problems = m.final_state_mismatches(
        case.expected_final_state, shop_state(service.shop, case.expected_final_state)
    )
    leaks = [f for f in case.forbidden_facts if f.casefold() in played.bot_text.casefold()]
    repeats = m.repeated_questions([(t["customer"], t["bot"]) for t in played.transcript])
    fact_recall = m.fact_recall(played.bot_text, case.facts)
    took_over = played.takeover_turn is not None
    goals_met = scores["exact"] == 1.0 and not state_problems and fact_recall >= 1.0 and not leaks
    resolved = goals_met and not took_over and not case.expected_takeover and scores["recall"] in (None, 1.0)
    passed = (
        goals_met
        and took_over == case.expected_takeover
        and (
            case.takeover_by_turn is None
            or (played.takeover_turn is not None and played.takeover_turn <= case.takeover_by_turn)
        )
    )
    drafts = None
    if took_over and reference is not None:  # what the desk suggests to the person who takes it over
        from eval.drafts import judge_drafts

        drafts = judge_drafts(service, played.conversation_id, reference)
    return {
        "id": case.id,
        "tags": case.tags,
        "drafts": drafts,
        "turns": len(case.turns),
        "transcript": played.transcript,
        "expected_tool_calls": expected_calls,
        "tool_precision": scores["precision"],
        "tool_recall": scores["recall"],
        "tool_exact": scores["exact"],
        "final_state_ok": not state_problems,
        "final_state_problems": state_problems,
        "fact_recall": fact_recall,
        "leaks": leaks,
        "expected_takeover": case.expected_takeover,
        "takeover": took_over,
        "takeover_turn": played.takeover_turn,
        "takeover_turn_delta": m.takeover_turn_delta(case.takeover_by_turn, played.takeover_turn),
        "repeated_questions": repeats,
        "resolved": resolved,
        "turns_to_resolution": played.resolved_turn if resolved else None,
        "first_response_ms": played.transcript[0]["latency_ms"] if played.transcript else None,
        "passed": passed,
    }


def conversation_metrics(conversations: list[dict[str, Any]]) -> dict[str, float | None]:
    """`conversations.*` (tools, state, facts, takeover) and `effort.*` (what it cost the customer)."""
    if not conversations:
        return {}
    first = [c["first_response_ms"] for c in conversations if c["first_response_ms"] is not None]
    takeover = m.takeover_counts((c["expected_takeover"], c["takeover"]) for c in conversations)
    deltas = [c["takeover_turn_delta"] for c in conversations if c["takeover_turn_delta"] is not None]
    expected_no_human = [c for c in conversations if not c["expected_takeover"]]
    out: dict[str, float | None] = {"conversations.count": float(len(conversations))}
    out |= {
        f"conversations.{name}": m.mean(c[key] for c in conversations) for name, key in _CONVERSATION_MEANS
    }
    return (
        out
        | {
            "conversations.leak_rate": m.mean(bool(c["leaks"]) for c in conversations),
            "conversations.takeover_precision": takeover["precision"],
            "conversations.takeover_recall": takeover["recall"],
            "conversations.takeover_turn_delta_mean": m.mean(deltas),
            "effort.resolution_without_human": m.mean(c["resolved"] for c in expected_no_human),
            "effort.turns_to_resolution": m.mean(c["turns_to_resolution"] for c in conversations),
            "effort.repeated_questions_per_conversation": m.mean(
                len(c["repeated_questions"]) for c in conversations
            ),
            "effort.handoff_rate": m.mean(c["takeover"] for c in conversations),
            "effort.first_response_p50_ms": m.percentile(first, 50),
            "effort.first_response_p95_ms": m.percentile(first, 95),
        }
        | conversation_breakdown(conversations)
        | draft_metrics(conversations)
    )
