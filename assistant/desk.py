"""The human side of the desk: the queue, claiming and handing back, agents' messages, suggested replies.

The bot's silence while a human has a conversation is not kept here in memory: it follows from the
conversation's status in the store, which every customer turn reads first (so it holds after a restart and
across API workers).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from assistant.agent import TurnContext
from assistant.planner.answers import answer_from_hits
from assistant.planner.drafts import (
    BARE_ASK_WORDS,
    MAX_QUESTIONS_FOR_A_DRAFT,
    UPSET_TRIGGERS,
    draft_is_sendable,
    finish_draft,
)
from assistant.planner.state import AUTH_MARKER, COPILOT_MARKER
from assistant.planner.words import content_words, near_identical
from assistant.records import ToolCallRecord
from assistant.reply import compose_reply, verify_citations
from assistant.service import SupportService
from assistant.store.conversations import (
    Conversation,
    ConversationConflict,
    ConversationNotFound,
    Message,
    Suggestion,
)
from assistant.store.models import ConversationStatus, MessageRole, SuggestionChoice
from assistant.tools.base import CustomerScope
from assistant.tools.help_center import hit_to_dict
from assistant.tools.outcomes import ToolOutcome, tool_trace
from assistant.tools.wording import describe_item, order_summary
from knowledge.language import detect_language


@dataclass
class QueueEntry:
    """One waiting conversation as agents see it; the order and the numbers come from assistant/routing."""

    conversation: Conversation
    priority: float  # the queue score now (priority + ageing + bonuses - fair-share penalty)
    wait_seconds: float
    summary: str
    customer: dict[str, Any] | None
    orders: list[dict[str, Any]] = field(default_factory=list)
    routing: dict[str, Any] = field(default_factory=dict)  # team, topic, stage, band, position, SLA, held

    def as_dict(self) -> dict[str, Any]:
        takeover = self.conversation.takeover or {}
        return {
            "conversation": self.conversation.model_dump(mode="json"),
            "priority": round(self.priority, 3),
            "wait_seconds": round(self.wait_seconds, 1),
            "summary": self.summary,
            "trigger": takeover.get("trigger"),
            "reason": takeover.get("reason"),
            "sentiment": takeover.get("sentiment"),
            "customer": self.customer,
            "orders": self.orders,
            "routing": self.routing,
        }


def summarise(messages: list[Message], takeover: dict[str, Any] | None) -> str:
    """One paragraph for the agent, built only from what was said (no model needed)."""
    customer = [m.text.strip() for m in messages if m.role == MessageRole.CUSTOMER and m.text.strip()]
    if not customer:
        return "No customer messages yet."
    parts = [f'The customer wrote {len(customer)} message(s), starting with: "{_clip(customer[0])}"']
    if len(customer) > 1:
        parts.append(f'Latest: "{_clip(customer[-1])}"')
    done = [
        t.call_text()
        for m in messages
        if m.role == MessageRole.BOT
        for t in m.tool_calls
        if t.kind == "write" and t.ok
    ]
    if done:
        parts.append("The bot already did: " + "; ".join(done))
    if takeover:
        parts.append(f"Handed over because: {takeover.get('reason') or takeover.get('trigger')}")
    return ". ".join(p.rstrip(".") for p in parts) + "."


def transcript(messages: list[Message], takeover: dict[str, Any] | None) -> str:
    """The conversation as plain lines for a model: who said what, and which tools the bot ran."""
    lines = []
    for message in messages:
        if message.text.strip():
            lines.append(f"{message.role.value}: {message.text.strip()}")
        for call in message.tool_calls:
            outcome = "ok" if call.ok else f"failed: {call.error}"
            lines.append(f"  tool {call.name}({call.arguments}) -> {outcome}")
    if takeover:
        lines.append(f"handed over because: {takeover.get('reason') or takeover.get('trigger')}")
    return "\n".join(lines)


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AgentDesk:
    def __init__(self, service: SupportService) -> None:
        self.service = service
        self.store = service.conversations

    # --- queue (desk: order, SLA and routing from assistant/routing) ------------------------------
    @property
    def router(self) -> Any:
        return self.service.router

    def queue(self, limit: int = 50, team_id: str | None = None) -> list[QueueEntry]:
        self.router.maybe_sweep()  # opening hours, re-assignment, escalation: due work first
        entries = []
        for item in self.router.queue.listing(limit=limit, team_id=team_id):
            try:
                conversation = self.store.get(item.conversation_id)
            except ConversationNotFound:
                continue
            customer, orders = self.customer_profile(conversation)
            routing = {
                "team_id": item.team_id,
                "topic": item.topic,
                "stage": item.stage,
                "band": item.band,
                "position": item.position,
                "held": item.held,
                "deferred_until": item.deferred_until.isoformat() if item.deferred_until else None,
                "sla": item.sla.as_dict(),
            }
            summary = self.summary(conversation)
            entries.append(
                QueueEntry(conversation, item.score, item.wait_seconds, summary, customer, orders, routing)
            )
        return entries

    @cached_property
    def summariser(self) -> Any:
        """The model's summary when a model is configured; None means the extractive one."""
        if self.service.provider != "openai":
            return None
        from assistant.model_helpers import ModelSummariser

        return ModelSummariser(self.service.settings, breaker=self.service.parts.model_breaker)

    def summary(self, conversation: Conversation) -> str:
        """One paragraph for the agent. A model's summary is written once per handover and kept with the
        takeover record, so refreshing the queue costs no model calls."""
        takeover = conversation.takeover or {}
        if takeover.get("summary"):
            return str(takeover["summary"])
        messages = self.store.messages(conversation.id)
        extractive = summarise(messages, conversation.takeover)
        earlier = self.service.contact_memory.summary(conversation)  # channels: other channels' history
        extractive = f"{extractive} {earlier}" if earlier else extractive
        if self.summariser is None or takeover.get("summary_source") == "extractive":
            return extractive
        written = self.summariser(transcript(messages, conversation.takeover))
        if written is None:  # the model failed: do not try again on every refresh
            self.store.update_takeover(conversation.id, {"summary_source": "extractive"})
            return extractive
        self.store.update_takeover(conversation.id, {"summary": written, "summary_source": "model"})
        return written

    def customer_profile(
        self, conversation: Conversation
    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        if not conversation.user_id:
            return None, []
        with self.service.shop.transaction() as shop:
            user = shop.get_user(conversation.user_id)
            if user is None:
                return None, []
            orders = [o.to_tau2() for o in shop.orders_of_user(conversation.user_id)]
            return user.to_tau2(), orders

    # --- ownership (desk: capacity and events through assistant/routing) ---------------------------
    def claim(self, conversation_id: str, agent: str) -> Conversation:
        self._routing_call(self.router.claim, conversation_id, agent)
        return self.store.get(conversation_id)

    def hand_back(self, conversation_id: str, agent: str) -> Conversation:
        self._routing_call(self.router.hand_back, conversation_id, agent)
        return self.store.get(conversation_id)

    def close(self, conversation_id: str, agent: str) -> Conversation:
        self._routing_call(self.router.close, conversation_id, agent)
        return self.store.get(conversation_id)

    @staticmethod
    def _routing_call(fn: Any, *args: Any) -> None:
        from assistant.routing.context import ConflictError, NotFoundError

        try:
            fn(*args)
        except NotFoundError as exc:
            raise ConversationNotFound(str(exc)) from exc
        except ConflictError as exc:
            raise ConversationConflict(str(exc)) from exc

    def send(self, conversation_id: str, agent: str, text: str) -> Message:
        """An agent writes to the customer: only the agent who holds the conversation may."""
        conversation = self.store.get(conversation_id)
        if conversation.status != ConversationStatus.HUMAN or conversation.assigned_agent != agent:
            owner = conversation.assigned_agent or "nobody"
            raise ConversationConflict(
                f"claim the conversation first (status {conversation.status.value}, owned by {owner})"
            )
        message = self.store.add_message(conversation_id, MessageRole.AGENT, text, author=agent)
        self.router.agent_replied(conversation_id)
        return message

    # --- suggested replies ---------------------------------------------------------------------
    def suggest(self, conversation_id: str, agent: str) -> list[Suggestion]:
        """1-3 drafts an agent could send as they are: to the customer, in the customer's language, from the
        conversation, their orders and the cited help-centre passages. Never an offer of "a person" (the
        agent is one), never a repeat of what the bot already said, never a cut-off sentence."""
        conversation = self.store.get(conversation_id)
        transcript = self.store.messages(conversation_id)
        last_customer = next((m for m in reversed(transcript) if m.role == MessageRole.CUSTOMER), None)
        if last_customer is None:
            return []
        language = self._draft_language(conversation, transcript)
        candidates = [
            self._opening_draft(conversation, transcript, language),
            self._copilot_draft(conversation, transcript),
            self._knowledge_draft(conversation, transcript, language),
            self._orders_draft(conversation, transcript, language),
        ]
        said = [m.text for m in transcript if m.role == MessageRole.BOT and m.text]
        drafts: list[dict[str, Any]] = []
        for draft in candidates:
            if draft is None or not draft_is_sendable(draft["text"], said, self.service.replies):
                continue
            draft["text"] = self._addressed(
                conversation, finish_draft(draft["text"], draft["citations"]), language
            )
            if all(not near_identical(draft["text"], d["text"]) for d in drafts):
                drafts.append(draft)
        return self.store.add_suggestions(conversation_id, agent, drafts[:3])

    def _opening_draft(
        self, conversation: Conversation, transcript: list[Message], language: str
    ) -> dict[str, Any] | None:
        """What a person says first when they take over: a bare ask for a person gets "how can I help?";
        an upset or stuck customer an apology and the one detail needed to act (their order number)."""
        trigger = str((conversation.takeover or {}).get("trigger") or "")
        said = " ".join(m.text for m in transcript if m.role == MessageRole.CUSTOMER)
        if trigger == "explicit_request" and len(content_words(said)) <= BARE_ASK_WORDS:
            key = "draft_opening_help"
        elif trigger in UPSET_TRIGGERS or conversation.status == ConversationStatus.WAITING_FOR_HUMAN:
            _, orders = self.customer_profile(conversation)
            if any(o["order_id"] in said for o in orders):
                return None  # the orders draft speaks about that order
            key = "draft_opening_sorry"
        else:
            return None
        text = self.service.replies(key, language)
        return {"text": text, "citations": [], "tool_results": [], "proposed_actions": []}

    @staticmethod
    def _draft_language(conversation: Conversation, transcript: list[Message]) -> str:
        texts = " ".join(m.text for m in transcript if m.role == MessageRole.CUSTOMER)
        return detect_language(texts, default=conversation.language or "en")

    def _addressed(self, conversation: Conversation, text: str, language: str) -> str:
        """The customer's first name in front, as an agent writes ("Hi Emma, ...")."""
        customer, _ = self.customer_profile(conversation)
        first = str(((customer or {}).get("name") or {}).get("first_name") or "").strip()
        key = "draft_hello_name" if first else "draft_hello"
        return f"{self.service.replies(key, language, name=first)} {text}"

    def decide(
        self, conversation_id: str, suggestion_id: int, agent: str, choice: SuggestionChoice, text: str | None
    ) -> tuple[Suggestion, Message | None]:
        """Record accept / edit / reject; accepted and edited drafts are sent to the customer."""
        suggestion = next((s for s in self.store.suggestions(conversation_id) if s.id == suggestion_id), None)
        if suggestion is None:
            raise LookupError(f"suggestion {suggestion_id} not found in this conversation")
        final = suggestion.draft_text if choice == SuggestionChoice.ACCEPTED else text
        if choice == SuggestionChoice.EDITED and not (text and text.strip()):
            raise ValueError("an edited suggestion needs the edited text")
        sent = None
        if choice in (SuggestionChoice.ACCEPTED, SuggestionChoice.EDITED):
            sent = self.send(conversation_id, agent, str(final))
        decided = self.store.decide_suggestion(suggestion_id, agent, choice, final)
        return decided, sent

    def _copilot_messages(self, conversation: Conversation, transcript: list[Message]) -> list[BaseMessage]:
        messages: list[BaseMessage] = [SystemMessage(COPILOT_MARKER)]
        if conversation.user_id:
            messages.append(SystemMessage(f"{AUTH_MARKER} {conversation.user_id}"))
        for message in transcript:
            if message.role == MessageRole.CUSTOMER:
                messages.append(HumanMessage(message.text))
            elif message.role in (MessageRole.BOT, MessageRole.AGENT) and message.text:
                messages.append(AIMessage(content=message.text))
        # The draft answers the customer's latest message: end on it.
        while messages and not isinstance(messages[-1], HumanMessage):
            messages.pop()
        return messages

    def _copilot_draft(self, conversation: Conversation, transcript: list[Message]) -> dict[str, Any] | None:
        messages = self._copilot_messages(conversation, transcript)
        if not any(isinstance(m, HumanMessage) for m in messages):
            return None
        parts = self.service.parts
        agent = parts.copilot_agent
        config = {"configurable": {"thread_id": f"copilot:{conversation.id}:{uuid.uuid4().hex}"}}
        language = conversation.language or "en"
        context = TurnContext(
            scope=CustomerScope.customer(conversation.user_id),
            conversation_id=conversation.id,
            language=language,
        )
        state = agent.invoke({"messages": messages}, config, context=context)
        run = list(state.get("messages", []))[len(messages) :]
        trace = tool_trace(run, parts.toolkit.kinds())
        reply = compose_reply(agent, config, run, trace, language, self.service.replies, parts.support_check)
        if reply.awaiting is not None:
            actions = reply.awaiting["actions"]
            return {
                "text": reply.text,
                "citations": [],
                "tool_results": [t.model_dump(mode="json") for t in trace if t.ok],
                "proposed_actions": [{"name": a["name"], "arguments": a.get("args", {})} for a in actions],
            }
        if reply.empty or not reply.text.strip():
            return None
        return {
            "text": reply.text,
            "citations": [c.model_dump() for c in reply.citations],
            "tool_results": [t.model_dump(mode="json") for t in trace],
            "proposed_actions": [],
        }

    def _knowledge_draft(
        self, conversation: Conversation, transcript: list[Message], language: str
    ) -> dict[str, Any] | None:
        """A help-centre answer to the customer's question: the latest of their messages the help centre
        answers ("you already said that" is no question; the question is earlier in the conversation)."""
        planner = self.service.parts.planner
        asked = [m.text for m in transcript if m.role == MessageRole.CUSTOMER and m.text.strip()]
        for question in list(reversed(asked))[:MAX_QUESTIONS_FOR_A_DRAFT]:
            hits = [hit_to_dict(h) for h in self.service.help_center.search(question)]
            output = {"query": question, "hits": hits}
            outcome = ToolOutcome("search_help_center", {"query": question}, True, output)
            state = planner.build_state([SystemMessage(COPILOT_MARKER), HumanMessage(question)])
            state.language = language
            step = answer_from_hits(planner.kit, state, outcome)
            if step.failed:
                continue
            search = ToolCallRecord(
                name="search_help_center", arguments={"query": question}, ok=True, output=output
            )
            text, citations, _ = verify_citations(step.text, [search])
            return {
                "text": text,
                "citations": [c.model_dump() for c in citations],
                "tool_results": [],
                "proposed_actions": [],
            }
        return None

    def _orders_draft(
        self, conversation: Conversation, transcript: list[Message], language: str
    ) -> dict[str, Any] | None:
        """The order the customer wrote about (status, tracking), or their recent orders to choose from."""
        _, orders = self.customer_profile(conversation)
        if not orders:
            return None
        replies = self.service.replies
        said = " ".join(m.text for m in transcript if m.role == MessageRole.CUSTOMER)
        named = [o for o in orders if o["order_id"] in said or o["order_id"].lstrip("#") in said]
        if named:
            order = named[-1]
            items = ", ".join(describe_item(i) for i in order.get("items", []))
            key = "status_" + re.sub(r"\W+", "_", str(order["status"]).lower()).strip("_")
            status = replies(key, language) if replies.has(key) else order["status"]
            text = replies("order_status", language, order_id=order["order_id"], items=items, status=status)
            tracking = [t for f in order.get("fulfillments", []) for t in f.get("tracking_id", [])]
            if tracking:
                text += " " + replies("tracking", language, tracking=", ".join(tracking))
            text += " " + replies("draft_looking_into_it", language)
        else:
            listing = "; ".join(order_summary(o) for o in orders[:5])
            text = replies("draft_which_order", language, orders=listing)
        return {
            "text": text,
            "citations": [],
            "tool_results": [
                {"name": "orders_of_user", "ok": True, "output": [o["order_id"] for o in orders]}
            ],
            "proposed_actions": [],
        }
