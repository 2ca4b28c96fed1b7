"""The dialogue state: everything the planner decides from, rebuilt from the messages on every call.

The planner keeps no memory between calls: customer messages, earlier tool calls and their results (read
by `assistant.tools.outcomes`) say what the task is, which details were given and what is already known.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from assistant.planner.intents import ACTION_INTENTS, Classifier
from assistant.planner.slots import Slots, extract_slots
from assistant.tools.outcomes import Facts, ToolOutcome, read_outcomes
from knowledge.language import detect_language

AUTH_MARKER = "Authenticated customer user id:"
# Set by the agent desk: a person already has the conversation, so drafts never ask for one.
COPILOT_MARKER = "Copilot mode: drafting replies for a human agent."
SLOT_ONLY_MAX_WORDS = 12


@dataclass
class Step:
    """What the planner decided: a tool call, or a reply to the customer."""

    tool: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    failed: bool = False  # the bot could not help (the guard counts these for loop detection)
    intent: str | None = None
    evidence: dict[str, Any] | None = None  # the answerability signals behind a help-centre answer or refusal


@dataclass
class DialogueState:
    language: str
    latest_text: str
    task_texts: list[str]  # customer messages since the current task started
    intent: str
    slots: Slots
    facts: Facts  # the customer, their orders as last seen, the products looked up
    turn: list[ToolOutcome]  # tool calls since the latest customer message
    history: list[ToolOutcome]  # all tool calls of the conversation
    last: ToolOutcome | None  # the result the planner is reacting to, if the last message is a tool result
    previous_reply: str = ""  # what the bot said before the latest customer message
    bot_replies: list[str] = field(default_factory=list)  # everything the bot said before, oldest first
    copilot: bool = False  # drafting for a human agent: never offer "a person", one is already there

    @property
    def task_text(self) -> str:
        return "\n".join(self.task_texts)

    @property
    def user_id(self) -> str | None:
        return self.facts.user_id

    @property
    def user(self) -> dict[str, Any] | None:
        return self.facts.user

    @property
    def orders(self) -> dict[str, dict[str, Any]]:
        return self.facts.orders

    @property
    def products(self) -> dict[str, dict[str, Any]]:
        return self.facts.products

    def called_this_turn(self, name: str, **args: Any) -> ToolOutcome | None:
        for outcome in reversed(self.turn):
            if outcome.name == name and all(outcome.args.get(k) == v for k, v in args.items()):
                return outcome
        return None

    def failed_before(self, name: str, **args: Any) -> bool:
        return any(
            o.name == name and not o.ok and all(o.args.get(k) == v for k, v in args.items())
            for o in self.history
        )


def build_state(
    messages: Sequence[BaseMessage], intents: Classifier, write_tools: frozenset[str]
) -> DialogueState:
    human_indexes = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
    human_texts = [str(messages[i].content) for i in human_indexes]
    latest_index = human_indexes[-1] if human_indexes else -1
    latest_text = human_texts[-1] if human_texts else ""

    outcomes = read_outcomes(messages)
    history = [o for _, o in outcomes]
    turn = [o for i, o in outcomes if i > latest_index]
    last = outcomes[-1][1] if outcomes and outcomes[-1][0] == len(messages) - 1 else None

    facts = Facts.from_outcomes(history)
    # The service marks a customer signed in before the conversation; a lookup in it wins over the mark.
    marks = [
        str(m.content).split(AUTH_MARKER, 1)[1].split()[0].strip()
        for m in messages
        if isinstance(m, SystemMessage) and AUTH_MARKER in str(m.content)
    ]
    if marks and facts.user_id is None:
        facts.user_id = marks[-1]

    copilot = any(isinstance(m, SystemMessage) and COPILOT_MARKER in str(m.content) for m in messages)
    # Customer messages after which a change was made: a task that made its change is finished.
    done_after = {
        max((n for n, h in enumerate(human_indexes) if h < i), default=-1)
        for i, o in outcomes
        if o.name in write_tools and o.ok
    }
    intent, task_start = current_intent(intents, human_texts, done_after, allow_human=not copilot)
    task_texts = human_texts[task_start:] if human_texts else []
    slots = Slots()
    for text in human_texts:
        slots = slots.merge(extract_slots(text))
    # Order ids and reasons belong to the task at hand, not to an earlier one.
    task_slots = Slots()
    for text in task_texts:
        task_slots = task_slots.merge(extract_slots(text))
    slots.order_ids = task_slots.order_ids
    slots.cancel_reason = task_slots.cancel_reason
    slots.payment_kind = task_slots.payment_kind
    slots.address = task_slots.address
    language = detect_language(latest_text, default=_previous_language(human_texts))
    bot_replies = [
        str(m.content)
        for m in messages[: max(latest_index, 0)]
        if isinstance(m, AIMessage) and m.content and not m.tool_calls
    ]
    return DialogueState(
        language=language,
        latest_text=latest_text,
        task_texts=task_texts,
        intent=intent,
        slots=slots,
        facts=facts,
        turn=turn,
        history=history,
        last=last,
        previous_reply=bot_replies[-1] if bot_replies else "",
        bot_replies=bot_replies,
        copilot=copilot,
    )


def _previous_language(human_texts: list[str]) -> str:
    for text in reversed(human_texts[:-1]):
        if len(text.split()) >= 3:
            return detect_language(text)
    return "en"


def current_intent(
    intents: Classifier, human_texts: list[str], done_after: set[int], allow_human: bool = True
) -> tuple[str, int]:
    """The intent of the latest message, or of the task it continues when it only supplies details.

    A message with the same action intent as the unfinished task before it continues that task
    ("I need to cancel an order" ... "I ordered it by mistake"), so the order id and reason given
    in between are not asked for again. Returns the intent and the index of the task's first message.
    """
    if not human_texts:
        return "greeting", 0
    index = len(human_texts) - 1
    result = intents.classify(human_texts[index], allow_human=allow_human)
    if result.intent in ACTION_INTENTS and index > 0:
        task_intent, task_start = current_intent(intents, human_texts[:index], done_after, allow_human)
        unfinished = task_intent in ACTION_INTENTS and not any(d >= task_start for d in done_after)
        # A bare detail ("Keizersgracht 12, Amsterdam, ...") can look like another request to the
        # intent model; it answers the question the unfinished task asked.
        details_only = result.source == "neighbour" and is_follow_up(
            human_texts[index], result.confidence, result.source
        )
        if unfinished and (task_intent == result.intent or details_only):
            return task_intent, task_start
    if result.intent in ACTION_INTENTS or result.intent in {"human"}:
        return result.intent, index
    if not is_follow_up(human_texts[index], result.confidence, result.source):
        return result.intent, index
    for earlier in range(index - 1, -1, -1):
        previous = intents.classify(human_texts[earlier], allow_human=allow_human)
        if previous.intent in ACTION_INTENTS:
            # That message may itself continue an older task: keep the task's real start.
            return current_intent(intents, human_texts[: earlier + 1], done_after, allow_human)
        if not is_follow_up(human_texts[earlier], previous.confidence, previous.source):
            break
    return result.intent, index


def is_follow_up(text: str, confidence: float, source: str) -> bool:
    """A message that answers our question (an email, a zip, "the blue one") rather than asking one."""
    slots = extract_slots(text)
    gives_details = bool(
        slots.order_ids
        or slots.email
        or slots.zip_code
        or slots.first_name
        or slots.cancel_reason
        or slots.payment_kind
        or slots.address
    )
    short = len(text.split()) <= SLOT_ONLY_MAX_WORDS
    looks_like_question = text.strip().endswith("?") and source != "default"
    return short and not looks_like_question and (gives_details or confidence < 0.55 or source == "default")
