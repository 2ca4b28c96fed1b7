"""The bot notices its own loops: the same reply twice without progress is a failure.

Before a reply goes out it is compared with everything the bot said in the conversation. The first time
it would repeat itself, it takes another path: it says it has already told what it knows and offers the
next step (what to send so it can look at the order, or a person). The second time, it hands the
conversation to a person with the reason. Pleasantries ("You're welcome!") may repeat.
"""

from __future__ import annotations

from assistant.planner.kit import PlannerKit
from assistant.planner.state import DialogueState, Step
from assistant.planner.words import near_identical
from knowledge.language import SUPPORTED_LANGUAGES

MAY_REPEAT = ("greeting", "thanks", "anything_else", "verified", "rejected", "transfer")
LOOP_KEYS = ("loop_next_step_stranger", "loop_next_step_customer")


def _said_in_any_language(kit: PlannerKit, keys: tuple[str, ...], text: str) -> bool:
    return any(
        near_identical(kit.replies(key, lang), text)
        for key in keys
        for lang in SUPPORTED_LANGUAGES
        if "{" not in kit.replies(key, lang)
    )


def repeats(kit: PlannerKit, state: DialogueState, text: str) -> bool:
    """`text` is (nearly) what the bot already said in this conversation, and not a pleasantry."""
    if not text.strip() or _said_in_any_language(kit, MAY_REPEAT, text):
        return False
    return any(near_identical(text, earlier) for earlier in state.bot_replies)


def loops_so_far(kit: PlannerKit, state: DialogueState) -> int:
    """How often the bot already had to step out of a loop in this conversation."""
    return sum(1 for reply in state.bot_replies if _said_in_any_language(kit, LOOP_KEYS, reply))


def break_loop(kit: PlannerKit, state: DialogueState, step: Step) -> Step:
    """`step` unchanged, or another path when its reply would repeat an earlier one."""
    if step.tool is not None or not repeats(kit, state, step.text):
        return step
    if loops_so_far(kit, state) >= 1 and not state.copilot:
        summary = (
            "The assistant was about to repeat itself a second time without progress (bot loop). "
            f"Customer's latest message: {state.latest_text[:300]}"
        )
        return Step(tool="transfer_to_human_agents", args={"summary": summary}, failed=True)
    key = "loop_next_step_customer" if state.user_id is not None else "loop_next_step_stranger"
    return kit.say(state, key, failed=True)
