"""The offline planner: decides the next step of a conversation without a generative model.

It is stateless: every call rebuilds the dialogue state from the message history (customer messages,
earlier tool calls and their results), then runs the flow for the customer's current intent:
authenticate -> look up -> collect what the change needs -> emit the WRITE tool call (the agent's
confirmation middleware then lists the change and waits for an explicit yes) -> report the result.
It emits the same tool-call objects an LLM would, so tools, policies and evaluation are shared.
Every fact in a reply comes from a tool result or from the help centre; nothing is invented.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from typing import Any

import numpy as np
import yaml
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from assistant.confirmations import classify_confirmation
from assistant.planner.intents import ACTION_INTENTS, Encoder, IntentClassifier
from assistant.planner.slots import (
    EMAIL_RE,
    Slots,
    extract_slots,
    match_items,
    mentions_all_items,
    requested_options,
    words,
)
from knowledge.language import SUPPORTED_LANGUAGES, detect_language, fold, stopwords

AUTH_MARKER = "Authenticated customer user id:"
# Set by the agent desk: a person already has the conversation, so drafts never ask for one.
COPILOT_MARKER = "Copilot mode: drafting replies for a human agent."
WRITE_TOOLS = {
    "cancel_pending_order",
    "modify_pending_order_address",
    "modify_pending_order_items",
    "modify_pending_order_payment",
    "modify_user_address",
    "return_delivered_order_items",
    "exchange_delivered_order_items",
}
REJECTION_PREFIX = "User rejected the tool call"
# Orders we look up one by one when the customer did not say which order they mean.
MAX_ORDERS_TO_SCAN = 6
SLOT_ONLY_MAX_WORDS = 12
# A question about what the shop sells ("what colours does the Trail Backpack come in?"): the catalogue
# answers it (get_product_details), not the help centre.
_PRODUCT_CUE_RE = re.compile(
    r"\b(colou?rs?|sizes|available|availability|in stock|sold out|comes? in|options|versions|"
    r"price|cost|how much (is|are|does|do)|do you (have|sell)|couleurs?|tailles|disponibles?|"
    r"en stock|prix|kleuren|maten|beschikbaar|op voorraad|prijs)\b",
    re.I,
)
_ASKS_FOR_A_NUMBER_RE = re.compile(
    r"\b(how long|how much|how many|how soon|when|what time|which day|combien|quand|hoe lang|hoeveel|"
    r"wanneer|hoe laat)\b",
    re.I,
)
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý0-9\"'(])")
_MARKDOWN_RE = re.compile(r"(^|\n)#+\s*|\*\*|__|`")


@dataclass
class ToolOutcome:
    name: str
    args: dict[str, Any]
    ok: bool
    result: Any  # parsed JSON output, or the error text
    rejected: bool = False  # the customer said no to a confirmation


@dataclass
class Step:
    """What the planner decided: a tool call, or a reply to the customer."""

    tool: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    failed: bool = False  # the bot could not help (the guard counts these for loop detection)
    intent: str | None = None


@dataclass
class DialogueState:
    language: str
    latest_text: str
    task_texts: list[str]  # customer messages since the current task started
    intent: str
    slots: Slots
    user_id: str | None
    user: dict[str, Any] | None
    orders: dict[str, dict[str, Any]]
    products: dict[str, dict[str, Any]]
    turn: list[ToolOutcome]  # tool calls since the latest customer message
    history: list[ToolOutcome]  # all tool calls of the conversation
    last: ToolOutcome | None  # the result the planner is reacting to, if the last message is a tool result
    previous_reply: str = ""  # what the bot said before the latest customer message

    @property
    def task_text(self) -> str:
        return "\n".join(self.task_texts)

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


def _parse_tool_content(content: Any) -> Any:
    if isinstance(content, list):
        content = "".join(c.get("text", "") if isinstance(c, dict) else str(c) for c in content)
    if not isinstance(content, str):
        return content
    try:
        return json.loads(content)
    except (ValueError, TypeError):
        return content


def _outcomes(messages: Sequence[BaseMessage]) -> list[tuple[int, ToolOutcome]]:
    """Every tool call with its result, and the index of its result message."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    found: list[tuple[int, ToolOutcome]] = []
    for index, message in enumerate(messages):
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                calls[call["id"] or ""] = (call["name"], dict(call["args"]))
        elif isinstance(message, ToolMessage):
            name, args = calls.get(message.tool_call_id, (message.name or "", {}))
            content = _parse_tool_content(message.content)
            text = content if isinstance(content, str) else ""
            ok = message.status != "error" and not text.startswith("Error")
            rejected = not ok and text.startswith(REJECTION_PREFIX)
            found.append((index, ToolOutcome(name, args, ok, content, rejected)))
    return found


class Replies:
    def __init__(self, shop_name: str) -> None:
        self.shop_name = shop_name

    @cached_property
    def _templates(self) -> dict[str, dict[str, str]]:
        text = resources.files("assistant.planner").joinpath("replies.yaml").read_text("utf-8")
        loaded: dict[str, dict[str, str]] = yaml.safe_load(text)
        return loaded

    def __call__(self, key: str, language: str, **values: Any) -> str:
        variants = self._templates[key]
        template = variants.get(language) or variants["en"]
        return template.format(shop=self.shop_name, **values).strip()


def describe_payment_method(user: dict[str, Any] | None, method_id: str) -> str:
    method = (user or {}).get("payment_methods", {}).get(method_id, {})
    source = method.get("source") or method_id.rsplit("_", 1)[0]
    if source == "credit_card":
        last_four = method.get("last_four")
        return f"credit card ending {last_four}" if last_four else "credit card"
    if source == "gift_card":
        return "gift card"
    if source == "paypal":
        return "PayPal account"
    return method_id


def describe_item(item: dict[str, Any]) -> str:
    options = ", ".join(str(v) for v in item.get("options", {}).values())
    return f"{item['name']} ({options})" if options else str(item["name"])


def describe_address(address: dict[str, Any]) -> str:
    parts = [address.get("address1"), address.get("address2"), address.get("city")]
    line = ", ".join(str(p) for p in parts if p)
    return f"{line}, {address.get('state', '')} {address.get('zip', '')}, {address.get('country', '')}".strip(
        ", "
    )


def order_summary(order: dict[str, Any]) -> str:
    items = ", ".join(item["name"] for item in order.get("items", []))
    return f"{order['order_id']} ({items}; {order['status']})"


class OfflinePlanner:
    def __init__(
        self, encoder: Encoder, shop_name: str = "Maple & Moss", min_answer_score: float = 0.35
    ) -> None:
        self.encode = encoder
        self.intents = IntentClassifier(encoder)
        self.replies = Replies(shop_name)
        self.min_answer_score = min_answer_score

    # --- state -------------------------------------------------------------------------------
    def build_state(self, messages: Sequence[BaseMessage]) -> DialogueState:
        human_indexes = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
        human_texts = [str(messages[i].content) for i in human_indexes]
        latest_index = human_indexes[-1] if human_indexes else -1
        latest_text = human_texts[-1] if human_texts else ""

        outcomes = _outcomes(messages)
        history = [o for _, o in outcomes]
        turn = [o for i, o in outcomes if i > latest_index]
        last = outcomes[-1][1] if outcomes and outcomes[-1][0] == len(messages) - 1 else None

        user_id = None
        for message in messages:
            if isinstance(message, SystemMessage) and AUTH_MARKER in str(message.content):
                user_id = str(message.content).split(AUTH_MARKER, 1)[1].split()[0].strip()
        user: dict[str, Any] | None = None
        orders: dict[str, dict[str, Any]] = {}
        products: dict[str, dict[str, Any]] = {}
        for outcome in history:
            if not outcome.ok:
                continue
            if outcome.name in {"find_user_id_by_email", "find_user_id_by_name_zip"} and isinstance(
                outcome.result, str
            ):
                user_id = outcome.result
            elif outcome.name in {"get_user_details", "modify_user_address"} and isinstance(
                outcome.result, dict
            ):
                user = outcome.result
            elif isinstance(outcome.result, dict) and "order_id" in outcome.result:
                orders[outcome.result["order_id"]] = outcome.result
            elif outcome.name == "get_product_details" and isinstance(outcome.result, dict):
                products[outcome.result["product_id"]] = outcome.result

        copilot = any(isinstance(m, SystemMessage) and COPILOT_MARKER in str(m.content) for m in messages)
        # Customer messages after which a change was made: a task that made its change is finished.
        done_after = {
            max((n for n, h in enumerate(human_indexes) if h < i), default=-1)
            for i, o in outcomes
            if o.name in WRITE_TOOLS and o.ok
        }
        intent, task_start = self._current_intent(human_texts, done_after, allow_human=not copilot)
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
        language = detect_language(latest_text, default=self._previous_language(human_texts))
        previous_reply = next(
            (
                str(m.content)
                for m in reversed(messages[: max(latest_index, 0)])
                if isinstance(m, AIMessage) and m.content and not m.tool_calls
            ),
            "",
        )
        return DialogueState(
            language=language,
            latest_text=latest_text,
            task_texts=task_texts,
            intent=intent,
            slots=slots,
            user_id=user_id,
            user=user,
            orders=orders,
            products=products,
            turn=turn,
            history=history,
            last=last,
            previous_reply=previous_reply,
        )

    @staticmethod
    def _previous_language(human_texts: list[str]) -> str:
        for text in reversed(human_texts[:-1]):
            if len(text.split()) >= 3:
                return detect_language(text)
        return "en"

    def _current_intent(
        self, human_texts: list[str], done_after: set[int], allow_human: bool = True
    ) -> tuple[str, int]:
        """The intent of the latest message, or of the task it continues when it only supplies details.

        A message with the same action intent as the unfinished task before it continues that task
        ("I need to cancel an order" ... "I ordered it by mistake"), so the order id and reason given
        in between are not asked for again.
        """
        if not human_texts:
            return "greeting", 0
        index = len(human_texts) - 1
        result = self.intents.classify(human_texts[index], allow_human=allow_human)
        if result.intent in ACTION_INTENTS and index > 0:
            task_intent, task_start = self._current_intent(human_texts[:index], done_after, allow_human)
            unfinished = task_intent in ACTION_INTENTS and not any(d >= task_start for d in done_after)
            # A bare detail ("Keizersgracht 12, Amsterdam, ...") can look like another request to the
            # intent model; it answers the question the unfinished task asked.
            details_only = result.source == "neighbour" and self._is_follow_up(
                human_texts[index], result.confidence, result.source
            )
            if unfinished and (task_intent == result.intent or details_only):
                return task_intent, task_start
        if result.intent in ACTION_INTENTS or result.intent in {"human"}:
            return result.intent, index
        if not self._is_follow_up(human_texts[index], result.confidence, result.source):
            return result.intent, index
        for earlier in range(index - 1, -1, -1):
            previous = self.intents.classify(human_texts[earlier], allow_human=allow_human)
            if previous.intent in ACTION_INTENTS:
                # That message may itself continue an older task: keep the task's real start.
                return self._current_intent(human_texts[: earlier + 1], done_after, allow_human)
            if not self._is_follow_up(human_texts[earlier], previous.confidence, previous.source):
                break
        return result.intent, index

    @staticmethod
    def _is_follow_up(text: str, confidence: float, source: str) -> bool:
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
        return (
            short and not looks_like_question and (gives_details or confidence < 0.55 or source == "default")
        )

    # --- decision ----------------------------------------------------------------------------
    def next_step(self, messages: Sequence[BaseMessage]) -> Step:
        state = self.build_state(messages)
        if state.last is not None:
            reaction = self._react_to_result(state)
            if reaction is not None:
                reaction.intent = state.intent
                return reaction
        step = self._flow(state)
        if step.tool is not None and state.called_this_turn(step.tool, **step.args) is not None:
            # The same call again would loop: its result is already known and did not settle the task.
            failed = next(o for o in reversed(state.turn) if o.name == step.tool)
            error = str(failed.result).removeprefix("Error: ") if not failed.ok else "no progress"
            step = self._say(state, "tool_error", failed=True, error=error)
        step.intent = state.intent
        return step

    def _say(self, state: DialogueState, key: str, failed: bool = False, **values: Any) -> Step:
        return Step(text=self.replies(key, state.language, **values), failed=failed)

    def _react_to_result(self, state: DialogueState) -> Step | None:
        last = state.last
        assert last is not None
        if last.rejected:
            return self._say(state, "rejected")
        if last.name == "transfer_to_human_agents":
            return self._say(state, "transfer")
        if last.name in WRITE_TOOLS:
            if not last.ok:
                return self._say(
                    state, "tool_error", failed=True, error=str(last.result).removeprefix("Error: ")
                )
            return self._report_write(state, last)
        if last.name in {"list_all_product_types", "get_product_details"} and state.intent == "question":
            return self._product_flow(state) or Step(
                tool="search_help_center", args={"query": state.latest_text.strip()[:500]}
            )
        if last.name == "search_help_center":
            if state.intent in ACTION_INTENTS and state.user_id is None:
                return self._answer_then_offer(state, last)
            return self.answer_from_hits(state, last)
        if last.name.startswith("find_user_id") and last.ok and state.intent not in ACTION_INTENTS:
            question = EMAIL_RE.sub(" ", state.latest_text).strip()
            if "?" in question and state.called_this_turn("search_help_center") is None:
                return Step(tool="search_help_center", args={"query": question[:500]})
            return self._say(state, "verified")
        return None

    def _flow(self, state: DialogueState) -> Step:
        intent = state.intent
        if intent == "greeting":
            return self._say(state, "greeting")
        if intent == "thanks":
            return self._say(state, "thanks")
        if intent == "human":
            summary = f"Customer asked for a human agent. Last message: {state.latest_text[:300]}"
            return Step(tool="transfer_to_human_agents", args={"summary": summary})
        if intent in ACTION_INTENTS:
            return self._action_flow(state)
        if state.user_id is None and self._gives_identity(state):
            # Details before any request ("hi, I'm emma@..."): verify now, so nobody asks for them again.
            return self._authenticate(state)
        if not state.latest_text.strip():
            return self._say(state, "clarify", failed=True)
        if (
            len(state.latest_text.split()) <= 3
            and (answer := classify_confirmation(state.latest_text)) != "other"
        ):
            # A bare yes/no answers what we said last, never a help-centre search for "yes".
            offered_person = any(
                self.replies("dont_know", lang) in state.previous_reply for lang in SUPPORTED_LANGUAGES
            )
            if offered_person and answer == "yes":
                summary = "The assistant could not answer and the customer accepted a person. "
                return Step(
                    tool="transfer_to_human_agents", args={"summary": summary + state.task_text[:300]}
                )
            return self._say(state, "nothing_to_confirm" if answer == "yes" else "anything_else")
        if _PRODUCT_CUE_RE.search(state.latest_text):
            product_step = self._product_flow(state)
            if product_step is not None:
                return product_step
        return Step(tool="search_help_center", args={"query": state.latest_text.strip()[:500]})

    # --- the catalogue ---------------------------------------------------------------------------
    def _product_flow(self, state: DialogueState) -> Step | None:
        """Catalogue look-up for a product question; None when no product of the shop is named."""
        catalogue = next(
            (o.result for o in reversed(state.history) if o.name == "list_all_product_types" and o.ok),
            None,
        )
        if not isinstance(catalogue, dict):
            if state.called_this_turn("list_all_product_types") is not None:
                return None
            return Step(tool="list_all_product_types")
        said = {w.rstrip("s") for w in words(state.latest_text)}
        named = [
            name for name in catalogue if (parts := {w.rstrip("s") for w in words(name)}) and parts <= said
        ]
        if not named:
            return None
        product_id = str(catalogue[max(named, key=len)])
        product = state.products.get(product_id)
        if product is None:
            if state.called_this_turn("get_product_details", product_id=product_id) is not None:
                return None
            return Step(tool="get_product_details", args={"product_id": product_id})
        return self._product_answer(state, product)

    def _product_answer(self, state: DialogueState, product: dict[str, Any]) -> Step:
        name = str(product.get("name", ""))
        variants = list(product.get("variants", {}).values())
        in_stock = [v for v in variants if v.get("available")]
        if not in_stock:
            return self._say(state, "product_all_sold_out", name=name)
        values: dict[str, list[str]] = {}
        for variant in in_stock:
            for key, value in variant.get("options", {}).items():
                if str(value) not in values.setdefault(key, []):
                    values[key].append(str(value))
        options = "; ".join(f"{key}: {', '.join(vals)}" for key, vals in values.items())
        wanted = requested_options(state.latest_text, variants, {})
        if wanted:
            wanted_text = ", ".join(wanted.values())
            matching = [v for v in in_stock if all(v["options"].get(k) == val for k, val in wanted.items())]
            if not matching:
                return self._say(state, "product_sold_out", name=name, wanted=wanted_text, options=options)
            listed = "; ".join(
                f"{', '.join(str(x) for x in v['options'].values())} (${float(v['price']):.2f})"
                for v in matching[:4]
            )
            return self._say(state, "product_available", name=name, wanted=wanted_text, variants=listed)
        prices = [float(v["price"]) for v in in_stock]
        return self._say(
            state,
            "product_options",
            name=name,
            options=options,
            low=f"{min(prices):.2f}",
            high=f"{max(prices):.2f}",
        )

    @staticmethod
    def _answer_first(state: DialogueState) -> bool:
        """A new request from a customer we do not know yet: say what the help centre says first.

        "Can I cancel just one item?" or "is return shipping free?" reads like an action on an order to
        the intent model, but the customer wants the rule; asking for an email instead would cost them a
        turn. Details (an order id, an email, a zip code) mean they want it done, so we verify them at once.
        """
        if len(state.task_texts) != 1 or state.called_this_turn("search_help_center") is not None:
            return False
        latest = extract_slots(state.latest_text)
        # A capitalised pair alone is no identity: "Is the Trail Backpack available?" names a product.
        return not (latest.order_ids or latest.email or latest.zip_code)

    def _answer_then_offer(self, state: DialogueState, outcome: ToolOutcome) -> Step:
        """The help centre's answer, then how to get it done on their own order; no match: verify first."""
        answer = self.answer_from_hits(state, outcome)
        if answer.failed:
            return self._authenticate(state)
        language = state.language
        if not detect_language(state.latest_text, default=""):
            # No word told us the language ("kost retourneren geld?"): follow the passages we quoted.
            hits = outcome.result.get("hits", []) if isinstance(outcome.result, dict) else []
            cited = [hits[c["ref"] - 1] for c in answer.citations if 0 < c["ref"] <= len(hits)]
            locales = {str(h.get("locale") or "").split("-")[0] for h in cited}
            if len(locales) == 1 and (only := locales.pop()) in SUPPORTED_LANGUAGES:
                language = only
        answer.text = f"{answer.text} {self.replies('offer_auth', language)}"
        return answer

    @staticmethod
    def _gives_identity(state: DialogueState) -> bool:
        latest = extract_slots(state.latest_text)
        return bool(latest.email or (latest.first_name and latest.last_name and latest.zip_code))

    # --- authentication and order selection ----------------------------------------------------
    def _authenticate(self, state: DialogueState) -> Step:
        slots = state.slots
        if slots.email and not state.failed_before("find_user_id_by_email", email=slots.email):
            return Step(tool="find_user_id_by_email", args={"email": slots.email})
        if slots.first_name and slots.last_name and slots.zip_code:
            args = {"first_name": slots.first_name, "last_name": slots.last_name, "zip": slots.zip_code}
            if not state.failed_before("find_user_id_by_name_zip", **args):
                return Step(tool="find_user_id_by_name_zip", args=args)
        last_failed = next(
            (o for o in reversed(state.turn) if o.name.startswith("find_user_id") and not o.ok), None
        )
        if last_failed is not None and last_failed.name == "find_user_id_by_email":
            return self._say(state, "auth_failed_email", failed=True, email=last_failed.args.get("email", ""))
        if last_failed is not None:
            return self._say(
                state,
                "auth_failed_name",
                failed=True,
                first_name=last_failed.args.get("first_name", ""),
                last_name=last_failed.args.get("last_name", ""),
                zip_code=last_failed.args.get("zip", ""),
            )
        # Ask only for what is missing: never make the customer repeat themselves.
        if slots.first_name and slots.last_name and not slots.zip_code:
            return self._say(state, "ask_zip", first_name=slots.first_name)
        if slots.zip_code and not slots.first_name:
            return self._say(state, "ask_name")
        return self._say(state, "ask_auth")

    def _orders_listing(self, state: DialogueState) -> str:
        order_ids = (state.user or {}).get("orders", [])
        known = [order_summary(state.orders[o]) for o in order_ids if o in state.orders]
        unknown = [o for o in order_ids if o not in state.orders]
        listing = "; ".join(known + unknown)
        return self.replies("your_orders", state.language, orders=listing) if listing else ""

    def _select_order(
        self, state: DialogueState, eligible: set[str] | None
    ) -> tuple[Step | None, dict[str, Any] | None]:
        """(a step to take first, or None) and the order the task is about once known."""
        if state.user is None:
            assert state.user_id is not None
            return Step(tool="get_user_details", args={"user_id": state.user_id}), None
        own_orders: list[str] = list(state.user.get("orders", []))
        order_id = state.slots.latest_order_id
        if order_id is not None:
            if order_id not in own_orders:
                # Another customer's order looks exactly like one that does not exist.
                return self._say(
                    state,
                    "order_not_found",
                    failed=True,
                    order_id=order_id,
                    orders=self._orders_listing(state),
                ), None
            if order_id not in state.orders:
                if state.called_this_turn("get_order_details", order_id=order_id) is not None:
                    return self._say(
                        state,
                        "order_not_found",
                        failed=True,
                        order_id=order_id,
                        orders=self._orders_listing(state),
                    ), None
                return Step(tool="get_order_details", args={"order_id": order_id}), None
            return None, state.orders[order_id]
        # No order id given: look at the customer's orders and pick the one the words point at.
        for candidate in own_orders[:MAX_ORDERS_TO_SCAN]:
            if candidate not in state.orders and not state.failed_before(
                "get_order_details", order_id=candidate
            ):
                return Step(tool="get_order_details", args={"order_id": candidate}), None
        known = [state.orders[o] for o in own_orders if o in state.orders]
        if eligible is not None:
            known = [o for o in known if o["status"] in eligible] or known
        if len(known) == 1:
            return None, known[0]
        matching = [o for o in known if match_items(state.task_text, o.get("items", []))]
        if len(matching) == 1:
            return None, matching[0]
        options = "; ".join(order_summary(o) for o in (matching or known))
        return self._say(state, "ask_order", orders=options), None

    # --- action flows ----------------------------------------------------------------------------
    def _action_flow(self, state: DialogueState) -> Step:
        if state.user_id is None:
            if self._answer_first(state):
                return Step(tool="search_help_center", args={"query": state.latest_text.strip()[:500]})
            return self._authenticate(state)
        intent = state.intent
        if intent == "modify_user_address":
            if state.slots.address is None:
                return self._say(state, "ask_new_address")
            return Step(tool="modify_user_address", args={"user_id": state.user_id, **state.slots.address})
        if intent == "account_info":
            if state.user is None:
                return Step(tool="get_user_details", args={"user_id": state.user_id})
            return self._account_summary(state)
        eligible = {
            "order_status": None,
            "cancel_order": {"pending"},
            # Items of a pending order are modified, of a delivered one exchanged: see below.
            "modify_order_items": {"pending", "delivered"},
            "modify_order_address": {"pending"},
            "modify_order_payment": {"pending"},
            "return_items": {"delivered"},
            "exchange_items": {"pending", "delivered"},
        }[intent]
        if intent == "order_status" and state.slots.latest_order_id is None and state.user is not None:
            pending_lookup, _ = self._select_order(state, None)
            if pending_lookup is not None and pending_lookup.tool:
                return pending_lookup
            known = [state.orders[o] for o in state.user.get("orders", []) if o in state.orders]
            if len(known) != 1:
                matching = [o for o in known if match_items(state.task_text, o.get("items", []))]
                if len(matching) != 1:
                    return Step(text=self._orders_listing(state))
                return self._order_status(state, matching[0])
        step, order = self._select_order(state, eligible)
        if step is not None:
            return step
        assert order is not None
        if intent in {"exchange_items", "modify_order_items"} and order["status"] in {"pending", "delivered"}:
            # Customers say "exchange" or "change" for both: a pending order's items are modified, a
            # delivered order's items exchanged. The order's status decides, not the word.
            intent = state.intent = "modify_order_items" if order["status"] == "pending" else "exchange_items"
            eligible = {order["status"]}
        if intent == "order_status":
            return self._order_status(state, order)
        status = order["status"]
        if eligible is not None and status not in eligible:
            action = {
                "cancel_order": "cancelled",
                "modify_order_items": "changed",
                "modify_order_address": "changed",
                "modify_order_payment": "changed",
                "return_items": "returned",
                "exchange_items": "exchanged",
            }[intent]
            if "pending" in eligible:
                text = self.replies(
                    "not_pending", state.language, order_id=order["order_id"], status=status, action=action
                )
                if status == "delivered":
                    text += " " + self.replies("delivered_hint", state.language)
            else:
                text = self.replies(
                    "not_delivered", state.language, order_id=order["order_id"], status=status, action=action
                )
            return Step(text=text, failed=False)
        if intent == "cancel_order":
            return self._cancel(state, order)
        if intent == "return_items":
            return self._return(state, order)
        if intent in {"exchange_items", "modify_order_items"}:
            return self._change_items(state, order)
        if intent == "modify_order_address":
            if state.slots.address is None:
                return self._say(state, "ask_new_address")
            return Step(
                tool="modify_pending_order_address",
                args={"order_id": order["order_id"], **state.slots.address},
            )
        return self._change_payment(state, order)

    def _order_status(self, state: DialogueState, order: dict[str, Any]) -> Step:
        items = ", ".join(describe_item(i) for i in order.get("items", []))
        text = self.replies(
            "order_status", state.language, order_id=order["order_id"], items=items, status=order["status"]
        )
        tracking = [t for f in order.get("fulfillments", []) for t in f.get("tracking_id", [])]
        if tracking:
            text += " " + self.replies("tracking", state.language, tracking=", ".join(tracking))
        return Step(text=text)

    def _account_summary(self, state: DialogueState) -> Step:
        user = state.user or {}
        methods = []
        for method_id, method in user.get("payment_methods", {}).items():
            label = describe_payment_method(user, method_id)
            if method.get("balance") is not None:
                label += f" (balance ${method['balance']:.2f})"
            methods.append(label)
        name = user.get("name", {})
        return self._say(
            state,
            "account_summary",
            name=f"{name.get('first_name', '')} {name.get('last_name', '')}".strip(),
            email=user.get("email", ""),
            methods=", ".join(methods),
            orders=", ".join(user.get("orders", [])),
        )

    def _cancel(self, state: DialogueState, order: dict[str, Any]) -> Step:
        reason = state.slots.cancel_reason
        if reason is None:
            return self._say(state, "ask_cancel_reason", order_id=order["order_id"])
        return Step(tool="cancel_pending_order", args={"order_id": order["order_id"], "reason": reason})

    def _refund_method(self, state: DialogueState, order: dict[str, Any]) -> str:
        """Original payment method, unless the customer asked for a gift card they own."""
        original = order["payment_history"][0]["payment_method_id"] if order.get("payment_history") else ""
        methods = (state.user or {}).get("payment_methods", {})
        if state.slots.payment_kind == "gift_card":
            gift_cards = [m for m in methods if methods[m].get("source") == "gift_card"]
            if gift_cards:
                return original if original in gift_cards else gift_cards[0]
        return original

    def _chosen_items(self, state: DialogueState, order: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = order.get("items", [])
        if mentions_all_items(state.task_text):
            return items
        return match_items(state.task_text, items)

    def _return(self, state: DialogueState, order: dict[str, Any]) -> Step:
        chosen = self._chosen_items(state, order)
        if not chosen:
            listing = "; ".join(describe_item(i) for i in order.get("items", []))
            return self._say(state, "ask_items", order_id=order["order_id"], action="return", items=listing)
        return Step(
            tool="return_delivered_order_items",
            args={
                "order_id": order["order_id"],
                "item_ids": [i["item_id"] for i in chosen],
                "payment_method_id": self._refund_method(state, order),
            },
        )

    def _change_items(self, state: DialogueState, order: dict[str, Any]) -> Step:
        action = "exchange" if state.intent == "exchange_items" else "change"
        chosen = self._chosen_items(state, order)
        if not chosen:
            listing = "; ".join(describe_item(i) for i in order.get("items", []))
            return self._say(state, "ask_items", order_id=order["order_id"], action=action, items=listing)
        for item in chosen:
            if item["product_id"] not in state.products:
                return Step(tool="get_product_details", args={"product_id": item["product_id"]})
        old_ids: list[str] = []
        new_ids: list[str] = []
        for item in chosen:
            product = state.products[item["product_id"]]
            variants = list(product.get("variants", {}).values())
            current = dict(item.get("options", {}))
            wanted = requested_options(state.task_text, variants, current)
            available = [v for v in variants if v.get("available") and v["item_id"] != item["item_id"]]
            option_list = "; ".join(", ".join(str(x) for x in v["options"].values()) for v in available[:8])
            if not wanted:
                return self._say(
                    state,
                    "ask_new_options",
                    item=item["name"],
                    current=", ".join(current.values()),
                    options=option_list,
                )
            target = {**current, **wanted}
            exact = [v for v in available if v["options"] == target]
            close = [v for v in available if all(v["options"].get(k) == val for k, val in wanted.items())]
            pick = exact or sorted(
                close, key=lambda v: -sum(v["options"].get(k) == val for k, val in current.items())
            )
            if not pick:
                return self._say(
                    state,
                    "option_unavailable",
                    item=item["name"],
                    wanted=", ".join(wanted.values()),
                    options=option_list,
                )
            old_ids.append(item["item_id"])
            new_ids.append(pick[0]["item_id"])
        tool = (
            "exchange_delivered_order_items"
            if state.intent == "exchange_items"
            else "modify_pending_order_items"
        )
        return Step(
            tool=tool,
            args={
                "order_id": order["order_id"],
                "item_ids": old_ids,
                "new_item_ids": new_ids,
                "payment_method_id": self._refund_method(state, order),
            },
        )

    def _change_payment(self, state: DialogueState, order: dict[str, Any]) -> Step:
        methods = (state.user or {}).get("payment_methods", {})
        original = order["payment_history"][0]["payment_method_id"] if order.get("payment_history") else ""
        kind = state.slots.payment_kind
        candidates = [
            m for m, info in methods.items() if m != original and kind and info.get("source") == kind
        ]
        if state.slots.card_last_four:
            candidates = [m for m in candidates if methods[m].get("last_four") == state.slots.card_last_four]
        if len(candidates) != 1:
            listing = ", ".join(describe_payment_method(state.user, m) for m in methods if m != original)
            return self._say(state, "ask_payment_method", methods=listing)
        return Step(
            tool="modify_pending_order_payment",
            args={"order_id": order["order_id"], "payment_method_id": candidates[0]},
        )

    # --- results -----------------------------------------------------------------------------
    def _report_write(self, state: DialogueState, outcome: ToolOutcome) -> Step:
        result = outcome.result if isinstance(outcome.result, dict) else {}
        lang = state.language
        user = state.user
        if outcome.name == "cancel_pending_order":
            refunds = [p for p in result.get("payment_history", []) if p.get("transaction_type") == "refund"]
            parts = []
            for refund in refunds:
                method_id = refund["payment_method_id"]
                key = "refund_gift_card" if method_id.startswith("gift_card") else "refund_other"
                parts.append(
                    self.replies(
                        key,
                        lang,
                        amount=f"{refund['amount']:.2f}",
                        method=describe_payment_method(user, method_id),
                    )
                )
            return Step(
                text=self.replies("cancelled", lang, order_id=result.get("order_id"), refund=" ".join(parts))
            )
        if outcome.name == "return_delivered_order_items":
            returned = [
                describe_item(i)
                for i in result.get("items", [])
                if i["item_id"] in outcome.args.get("item_ids", [])
            ]
            return Step(
                text=self.replies(
                    "return_requested",
                    lang,
                    items=", ".join(returned),
                    order_id=result.get("order_id"),
                    method=describe_payment_method(user, str(outcome.args.get("payment_method_id", ""))),
                )
            )
        if outcome.name in {"exchange_delivered_order_items", "modify_pending_order_items"}:
            return self._report_item_change(state, outcome, result)
        if outcome.name == "modify_pending_order_address":
            return Step(
                text=self.replies(
                    "address_changed",
                    lang,
                    order_id=result.get("order_id"),
                    address=describe_address(result.get("address", {})),
                )
            )
        if outcome.name == "modify_user_address":
            return Step(
                text=self.replies(
                    "user_address_changed", lang, address=describe_address(result.get("address", {}))
                )
            )
        if outcome.name == "modify_pending_order_payment":
            return Step(
                text=self.replies(
                    "payment_changed",
                    lang,
                    order_id=result.get("order_id"),
                    method=describe_payment_method(user, str(outcome.args.get("payment_method_id", ""))),
                )
            )
        return Step(text=json.dumps(result)[:500])

    def _report_item_change(self, state: DialogueState, outcome: ToolOutcome, result: dict[str, Any]) -> Step:
        lang = state.language
        method = describe_payment_method(state.user, str(outcome.args.get("payment_method_id", "")))
        old = state.orders.get(str(outcome.args.get("order_id")), {})
        changes = []
        for _old_id, new_id in zip(
            outcome.args.get("item_ids", []), outcome.args.get("new_item_ids", []), strict=False
        ):
            product = next((p for p in state.products.values() if new_id in p.get("variants", {})), None)
            new_options = ", ".join(product["variants"][new_id]["options"].values()) if product else new_id
            name = product["name"] if product else new_id
            changes.append(f"{name} -> {new_options}")
        if outcome.name == "exchange_delivered_order_items":
            difference = float(result.get("exchange_price_difference") or 0.0)
        else:
            old_total = sum(i["price"] for i in old.get("items", []))
            new_total = sum(i["price"] for i in result.get("items", []))
            difference = round(new_total - old_total, 2)
        diff_text = ""
        if difference > 0:
            diff_text = self.replies("price_difference_pay", lang, amount=f"{difference:.2f}", method=method)
        elif difference < 0:
            diff_text = self.replies(
                "price_difference_refund", lang, amount=f"{-difference:.2f}", method=method
            )
        key = "exchange_requested" if outcome.name == "exchange_delivered_order_items" else "items_modified"
        return Step(
            text=self.replies(
                key, lang, order_id=result.get("order_id"), changes="; ".join(changes), difference=diff_text
            )
        )

    def answer_from_hits(self, state: DialogueState, outcome: ToolOutcome) -> Step:
        """An extractive answer: the retrieved sentences closest to the question, each with its source."""
        result = outcome.result if outcome.ok else None
        hits: list[dict[str, Any]] = result.get("hits", []) if isinstance(result, dict) else []
        # Citation numbers are positions in the search result, so they can be checked against it.
        relevant = [(i, h) for i, h in enumerate(hits) if float(h.get("score", 0.0)) >= self.min_answer_score]
        if not relevant:
            return self._say(state, "dont_know", failed=True)
        query = str(outcome.args.get("query", state.latest_text))
        candidates: list[tuple[int, str]] = []
        for rank, (_, hit) in enumerate(relevant[:3]):
            for sentence in _sentences(str(hit.get("text", ""))):
                candidates.append((rank, sentence))
        if not candidates:
            return self._say(state, "dont_know", failed=True)
        vectors = self.encode([query] + [s for _, s in candidates])
        similarity = vectors[1:] @ vectors[0]
        # Favour the best-ranked article slightly: its context is the most likely answer.
        bonus = np.array([0.05 if hit_index == 0 else 0.0 for hit_index, _ in candidates])
        # MiniLM is an English model: in French and Dutch its similarities are weak, so the words the
        # customer used count too (shared content-word stems).
        asked = _content_stems(query)
        if asked:
            overlap = np.array(
                [len(asked & _content_stems(sentence)) / len(asked) for _, sentence in candidates]
            )
            bonus += OVERLAP_WEIGHT * overlap
        if _ASKS_FOR_A_NUMBER_RE.search(query):
            # "How long / how much / when": the sentence with the number is the answer, not its preamble.
            bonus += np.array([0.05 if re.search(r"\d", sentence) else 0.0 for _, sentence in candidates])
        order = np.argsort(-(similarity + bonus))
        chosen: list[int] = []
        for index in order[:8]:
            if len(chosen) == 3 or (similarity[index] < 0.25 and chosen):
                break
            # Help centres repeat themselves; one sentence per fact is enough.
            if any(float(vectors[1 + index] @ vectors[1 + other]) > 0.8 for other in chosen):
                continue
            chosen.append(int(index))
        # The closest sentence answers first; the rest follow in reading order, as each source wrote them.
        chosen = chosen[:1] + sorted(chosen[1:], key=lambda i: (candidates[i][0], i))
        citations: list[dict[str, Any]] = []
        lines = []
        for index in chosen:
            rank, sentence = candidates[index]
            position, hit = relevant[rank]
            ref = position + 1
            if all(c["ref"] != ref for c in citations):
                citations.append(
                    {
                        "ref": ref,
                        "article_id": hit.get("article_id"),
                        "title": hit.get("title"),
                        "url": hit.get("url"),
                        "section": hit.get("section"),
                    }
                )
            lines.append(f"{sentence} [{ref}]")
        return Step(text=" ".join(lines), citations=citations)


OVERLAP_WEIGHT = 0.3  # tried 0.3 and 0.5 on the sample-shop questions: 0.651 vs 0.634 fact recall


@cache
def _common_words() -> frozenset[str]:
    return frozenset().union(*(stopwords(lang) for lang in SUPPORTED_LANGUAGES))


def _content_stems(text: str) -> set[str]:
    """Words that carry meaning (4+ letters, not a stopword of en/fr/nl), cut to 5 letters as a crude stem."""
    common = _common_words()
    return {w[:5] for w in re.findall(r"[a-z0-9]+", fold(text.lower())) if len(w) >= 4 and w not in common}


def _sentences(text: str) -> list[str]:
    cleaned = _MARKDOWN_RE.sub(r"\1", text)
    sentences: list[str] = []
    for paragraph in re.split(r"\n\s*\n|\n(?=[-*] )|\n", cleaned):
        paragraph = paragraph.strip(" -*\t")
        if len(paragraph) < 3:
            continue
        for sentence in _SENTENCE_RE.split(paragraph):
            sentence = sentence.strip()
            if 15 <= len(sentence) <= 400:
                sentences.append(sentence)
    return sentences
