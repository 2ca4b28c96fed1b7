"""The offline planner: decides the next step of a conversation without a generative model.

It is stateless: every call rebuilds the dialogue state from the message history (state.py), reacts to
the latest tool result if there is one, and otherwise runs the flow for the customer's current intent:
the order flows (orders.py), catalogue questions (catalogue.py), or an answer from the help centre
(answers.py). It emits the same tool-call objects an LLM would, so tools, policies and evaluation are
shared. Every fact in a reply comes from a tool result or from the help centre; nothing is invented.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import BaseMessage

from assistant.confirmations import classify_confirmation
from assistant.identity.policy import lookup_signs_in
from assistant.planner import answers, catalogue, loops, orders, refusals
from assistant.planner.intents import ACTION_INTENTS, Classifier, Encoder, IntentClassifier, names_an_action
from assistant.planner.kit import PlannerKit
from assistant.planner.slots import EMAIL_RE, extract_slots
from assistant.planner.state import DialogueState, Step, build_state
from assistant.prompts import Replies
from assistant.tools.help_center import SEARCH_UNAVAILABLE
from assistant.tools.toolkit import Toolkit
from knowledge.language import SUPPORTED_LANGUAGES

MAX_QUERY_CHARS = 500


class OfflinePlanner:
    def __init__(
        self,
        encoder: Encoder,
        toolkit: Toolkit,
        shop_name: str = "Maple & Moss",
        min_answer_score: float = 0.35,
        intents: Classifier | None = None,
        identity_policy: str = "verified",
    ) -> None:
        self.intents = intents or IntentClassifier(encoder)
        self.kit = PlannerKit(
            Replies(shop_name),
            toolkit,
            encoder,
            min_answer_score,
            lookup_signs_in=lookup_signs_in(identity_policy),
        )

    def build_state(self, messages: Sequence[BaseMessage]) -> DialogueState:
        return build_state(messages, self.intents, self.kit.tools.write_names)

    def next_step(self, messages: Sequence[BaseMessage]) -> Step:
        state = self.build_state(messages)
        if state.last is not None:
            reaction = self._react_to_result(state)
            if reaction is not None:
                reaction = loops.break_loop(self.kit, state, reaction)
                reaction.intent = state.intent
                return reaction
        step = self._flow(state)
        if step.tool is not None and state.called_this_turn(step.tool, **step.args) is not None:
            # The same call again would loop: its result is already known and did not settle the task.
            failed = next(o for o in reversed(state.turn) if o.name == step.tool)
            step = refusals.refused(self.kit, state, str(failed.result) if not failed.ok else "")
        step = loops.break_loop(self.kit, state, step)
        step.intent = state.intent
        return step

    # --- reacting to a tool result -----------------------------------------------------------------
    def _react_to_result(self, state: DialogueState) -> Step | None:
        kit, last = self.kit, state.last
        assert last is not None
        if last.rejected:
            return kit.say(state, "rejected")
        if last.name == "transfer_to_human_agents":
            return kit.say(state, "transfer")
        if last.name in kit.tools.write_names:
            if not last.ok:
                return refusals.refused(kit, state, str(last.result))
            return Step(text=kit.tools.report(last, state.facts, state.language))
        if last.name in {"list_all_product_types", "get_product_details"} and state.intent == "question":
            return catalogue.product_flow(kit, state) or _search(state.latest_text)
        if last.name == "search_help_center" and not last.ok and SEARCH_UNAVAILABLE in str(last.result):
            # The index cannot be read: no answer can be grounded, so a person takes it from here.
            summary = f"The help centre search is unavailable. The customer asked: {state.latest_text[:300]}"
            return Step(tool="transfer_to_human_agents", args={"summary": summary})
        if last.name == "search_help_center":
            if state.intent in ACTION_INTENTS and state.user_id is None:
                offer = answers.answer_then_offer(kit, state, last)
                if offer is not None:
                    return offer
                if "?" in state.latest_text and not names_an_action(state.latest_text):
                    # A question that only MiniLM's vote read as an action ("Vous avez une boutique à
                    # Paris ?", "Zijn jullie producten vegan?") and the help centre does not answer: say so
                    # honestly rather than ask for an email no order needs. A complaint without a question
                    # ("toujours rien, vous tournez en rond") keeps its path (sign-in, then the loop guard).
                    return answers.refusal(kit, state)
                return orders.authenticate(kit, state)
            return answers.answer_from_hits(kit, state, last)
        if last.name.startswith("find_user_id") and last.ok and state.intent not in ACTION_INTENTS:
            question = EMAIL_RE.sub(" ", state.latest_text).strip()
            if "?" in question and state.called_this_turn("search_help_center") is None:
                return _search(question)
            return kit.say(state, "verified")
        return None

    # --- the customer's message ----------------------------------------------------------------------
    def _flow(self, state: DialogueState) -> Step:
        kit, intent = self.kit, state.intent
        if intent == "greeting":
            return kit.say(state, "greeting")
        if intent == "thanks":
            return kit.say(state, "thanks")
        if intent == "human":
            summary = f"Customer asked for a human agent. Last message: {state.latest_text[:300]}"
            return Step(tool="transfer_to_human_agents", args={"summary": summary})
        if intent in ACTION_INTENTS:
            if state.user_id is not None:
                return orders.action_flow(kit, state)
            return _search(state.latest_text) if _answer_first(state) else orders.authenticate(kit, state)
        if state.user_id is None and _gives_identity(state):
            # Details before any request ("hi, I'm emma@..."): verify now, so nobody asks for them again.
            return orders.authenticate(kit, state)
        if not state.latest_text.strip():
            return kit.say(state, "clarify", failed=True)
        if len(state.latest_text.split()) <= 3 and (answer := classify_confirmation(state.latest_text)) in (
            "yes",
            "no",
        ):
            return self._bare_answer(state, answer)
        if catalogue.PRODUCT_CUE_RE.search(state.latest_text):
            product_step = catalogue.product_flow(kit, state)
            if product_step is not None:
                return product_step
        return _search(state.latest_text)

    def _bare_answer(self, state: DialogueState, answer: str) -> Step:
        """A bare yes/no answers what we said last, never a help-centre search for "yes"."""
        offers = ("dont_know", "refusal_generic", "refusal_payment_history", *loops.LOOP_KEYS)
        said = state.previous_reply
        offered_person = any(
            self.kit.replies(k, lang) in said for k in offers for lang in SUPPORTED_LANGUAGES
        )
        if offered_person and answer == "yes":
            summary = "The assistant could not answer and the customer accepted a person. "
            return Step(tool="transfer_to_human_agents", args={"summary": summary + state.task_text[:300]})
        return self.kit.say(state, "nothing_to_confirm" if answer == "yes" else "anything_else")


def _search(text: str) -> Step:
    return Step(tool="search_help_center", args={"query": text.strip()[:MAX_QUERY_CHARS]})


def _answer_first(state: DialogueState) -> bool:
    """A new request from a customer we do not know yet: say what the help centre says first.

    "Can I cancel just one item?" or "is return shipping free?" reads like an action on an order to the
    intent model, but the customer wants the rule; asking for an email instead would cost them a turn.
    Details (an order id, an email, a zip code) mean they want it done, so we verify them at once.
    """
    if len(state.task_texts) != 1 or state.called_this_turn("search_help_center") is not None:
        return False
    latest = extract_slots(state.latest_text)
    # A capitalised pair alone is no identity: "Is the Trail Backpack available?" names a product.
    return not (latest.order_ids or latest.email or latest.zip_code)


def _gives_identity(state: DialogueState) -> bool:
    latest = extract_slots(state.latest_text)
    return bool(latest.email or (latest.first_name and latest.last_name and latest.zip_code))
