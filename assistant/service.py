"""SupportService: one customer turn, end to end. The CLI, the HTTP API and the evaluation all call this.

Order of a turn: persist the customer's message -> if a human has (or is about to take) the conversation,
stay silent -> run the agent (guard first, then planner/LLM and tools) -> verify citations -> persist the
reply with its citations, tool trace and latency -> apply the guard's or the transfer tool's handover.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.types import Command

from assistant.agent import (
    TurnContext,
    build_agent,
    build_checkpointer,
    build_openai_model,
    build_tools,
    tool_trace,
)
from assistant.confirmations import classify_confirmation
from assistant.planner.planner import AUTH_MARKER, Replies
from assistant.store.conversations import Conversation, ConversationStore
from assistant.store.models import ConversationStatus, MessageRole
from assistant.tools.base import CustomerScope
from knowledge.language import detect_language
from knowledge.settings import Settings

_CITATION_RE = re.compile(r"\s?\[(\d{1,2})\]")
TokenCallback = Callable[[str], None]


@dataclass
class TurnResult:
    conversation_id: str
    status: ConversationStatus
    reply: str | None  # None: the bot stays silent (a human has the conversation)
    citations: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    guard: dict[str, Any] | None = None
    handover: bool = False
    awaiting_confirmation: dict[str, Any] | None = None
    failed: bool = False
    invalid_citations: list[int] = field(default_factory=list)
    latency_ms: float = 0.0
    customer_seq: int = 0
    reply_seq: int | None = None
    provider: str = "offline"

    def as_dict(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "status": self.status.value,
            "reply": self.reply,
            "citations": self.citations,
            "tool_calls": self.tool_calls,
            "guard": self.guard,
            "handover": self.handover,
            "awaiting_confirmation": self.awaiting_confirmation,
            "failed": self.failed,
            "invalid_citations": self.invalid_citations,
            "latency_ms": round(self.latency_ms, 1),
            "provider": self.provider,
        }


class HelpCenterAdapter:
    """search_help_center's view of the index: top-k hits, and an empty list when nothing is indexed yet."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def index(self) -> Any:
        from knowledge.index import HelpCenterIndex

        return HelpCenterIndex(self.settings)

    def search(self, query: str) -> list[Any]:
        from knowledge.index import KnowledgeIndexError

        try:
            # Articles in the customer's language first; all languages when those do not answer it.
            hits = list(self.index.search(query, k=self.settings.search_k, locale=detect_language(query)))
            if not hits or max(h.score for h in hits) < self.settings.min_answer_score:
                hits = list(self.index.search(query, k=self.settings.search_k))
            return hits
        except KnowledgeIndexError:
            return []


def verify_citations(text: str, trace: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]], list[int]]:
    """Keep only [n] markers that point at a hit of the latest help-centre search of this turn.

    Returns the text without invalid markers, the citations (ref, article id, title, url, section) and the
    invalid numbers that were removed.
    """
    searches = [t for t in trace if t["name"] == "search_help_center" and t.get("ok")]
    hits: list[dict[str, Any]] = (searches[-1].get("output") or {}).get("hits", []) if searches else []
    citations: list[dict[str, Any]] = []
    invalid: list[int] = []

    def check(match: re.Match[str]) -> str:
        ref = int(match.group(1))
        if 1 <= ref <= len(hits):
            if all(c["ref"] != ref for c in citations):
                hit = hits[ref - 1]
                citations.append(
                    {
                        "ref": ref,
                        "article_id": hit.get("article_id"),
                        "title": hit.get("title"),
                        "url": hit.get("url"),
                        "section": hit.get("section"),
                    }
                )
            return match.group(0)
        invalid.append(ref)
        return ""

    cleaned = _CITATION_RE.sub(check, text)
    return cleaned, sorted(citations, key=lambda c: c["ref"]), invalid


class SupportService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.ensure_data_dir()

    # --- parts (built on first use; each is cheap to hold, some are slow to build) ----------------
    @cached_property
    def conversations(self) -> ConversationStore:
        store = ConversationStore(str(self.settings.database_url))
        store.migrate()
        return store

    @cached_property
    def shop(self) -> Any:
        from assistant.shop.store import ShopStore

        store = ShopStore(str(self.settings.database_url))
        store.migrate()
        return store

    @cached_property
    def help_center(self) -> HelpCenterAdapter:
        return HelpCenterAdapter(self.settings)

    @cached_property
    def embedder(self) -> Any:
        from knowledge.embeddings import get_embedder

        return get_embedder(self.settings)

    @cached_property
    def conversation_encoder(self) -> Any:
        """The embedder with a cache: planner and guard embed the same sentences turn after turn."""
        from knowledge.embeddings import CachedEncoder

        return CachedEncoder(self.embedder.encode)

    @cached_property
    def planner(self) -> Any:
        from assistant.planner.planner import OfflinePlanner

        return OfflinePlanner(
            self.conversation_encoder,
            shop_name=self.settings.shop_name,
            min_answer_score=self.settings.min_answer_score,
        )

    @cached_property
    def replies(self) -> Replies:
        return Replies(self.settings.shop_name)

    @cached_property
    def guard(self) -> Any:
        from assistant.guard.guard import SentimentGuard

        model_sentiment = None
        if self.provider == "openai" and self.settings.guard_model_sentiment:
            from assistant.model_helpers import ModelSentiment

            model_sentiment = ModelSentiment(self.settings)
        return SentimentGuard(
            self.settings, similarity=self.conversation_encoder, model_sentiment=model_sentiment
        )

    @cached_property
    def checkpointer(self) -> Any:
        return build_checkpointer(self.settings)

    @cached_property
    def tools(self) -> list[Any]:
        return build_tools(self.shop, self.help_center)

    @cached_property
    def offline_model(self) -> Any:
        from assistant.planner.model import OfflinePlannerChatModel

        return OfflinePlannerChatModel(planner=self.planner)

    @property
    def provider(self) -> str:
        return self.settings.effective_llm_provider

    @cached_property
    def agent(self) -> Any:
        primary = build_openai_model(self.settings) if self.provider == "openai" else None
        return build_agent(
            self.settings,
            offline_model=self.offline_model,
            primary_model=primary,
            tools=self.tools,
            guard=self.guard,
            checkpointer=self.checkpointer,
        )

    @cached_property
    def copilot_agent(self) -> Any:
        """The same agent for human agents' suggestions: no guard, WRITE tools interrupt and never run."""
        primary = build_openai_model(self.settings) if self.provider == "openai" else None
        return build_agent(
            self.settings,
            offline_model=self.offline_model,
            primary_model=primary,
            tools=self.tools,
            guard=None,
            checkpointer=self.checkpointer,
        )

    # --- conversations -----------------------------------------------------------------------
    def start_conversation(
        self, channel: str = "widget", user_id: str | None = None, language: str | None = None
    ) -> tuple[Conversation, str]:
        return self.conversations.create_conversation(channel=channel, user_id=user_id, language=language)

    def customer_turn(
        self, conversation_id: str, text: str, on_token: TokenCallback | None = None
    ) -> TurnResult:
        started = time.perf_counter()
        conversation = self.conversations.get(conversation_id)
        # The customer's words are stored before anything else can fail.
        customer_message = self.conversations.add_message(conversation_id, MessageRole.CUSTOMER, text)
        if conversation.status != ConversationStatus.BOT:
            return TurnResult(
                conversation_id=conversation_id,
                status=conversation.status,
                reply=None,
                customer_seq=customer_message.seq,
                latency_ms=(time.perf_counter() - started) * 1000,
                provider=self.provider,
            )
        scope = CustomerScope.customer(conversation.user_id)
        language = detect_language(text, default=conversation.language or "en")
        context = TurnContext(scope=scope, conversation_id=conversation_id, language=language)
        config: dict[str, Any] = {"configurable": {"thread_id": conversation_id}, "recursion_limit": 60}
        prefix = ""
        pending = self._pending_interrupts(config)
        run_input: Any
        if pending:
            # A listed change waits for an explicit yes; the guard still hears this message first.
            decision = self.guard.evaluate(text, self._guard_history(config))
            if decision.takeover:
                self._run(
                    Command(resume={"decisions": [{"type": "reject"}] * len(pending)}), config, context, None
                )
                return self._finish_handover(
                    conversation_id, customer_message.seq, decision, started, language
                )
            answer = classify_confirmation(text)
            if answer == "yes":
                run_input = Command(resume={"decisions": [{"type": "approve"}] * len(pending)})
            elif answer == "no":
                run_input = Command(resume={"decisions": [{"type": "reject"}] * len(pending)})
            else:
                # Something else entirely: drop the pending change, then handle the new message.
                self._run(
                    Command(resume={"decisions": [{"type": "reject"}] * len(pending)}), config, context, None
                )
                run_input = {"messages": [*self._agent_notes(conversation_id), HumanMessage(text)]}
        else:
            notes: list[BaseMessage] = list(self._agent_notes(conversation_id))
            if conversation.user_id and not self._thread_knows_user(config):
                notes.insert(0, SystemMessage(f"{AUTH_MARKER} {conversation.user_id}"))
            run_input = {"messages": [*notes, HumanMessage(text)]}

        before = len(self._state_messages(config))
        if isinstance(run_input, Command):
            # The approved (or rejected) WRITE call sits in the message before the interrupt: trace it in
            # this turn, the turn in which it ran, with its result.
            before = self._last_tool_call_index(config)
        state = self._run(run_input, config, context, on_token)
        messages: list[BaseMessage] = list(state.get("messages", []))
        run_messages = messages[before:]
        trace = tool_trace(run_messages)
        guard = state.get("guard_decision")
        if guard:
            self.conversations.set_message_guard(conversation_id, customer_message.seq, guard)
        if scope.user_id and scope.user_id != conversation.user_id:
            self.conversations.set_user(conversation_id, scope.user_id)
        if language != conversation.language:
            self.conversations.set_language(conversation_id, language)

        interrupts = self._pending_interrupts(config)
        awaiting = None
        failed = False
        meta: dict[str, Any] = {}
        citations: list[dict[str, Any]] = []
        invalid: list[int] = []
        if interrupts:
            request = interrupts[0]
            descriptions = [a.get("description", a["name"]) for a in request.get("action_requests", [])]
            reply = prefix + self.replies("confirm", language, description="; ".join(descriptions))
            awaiting = {"actions": request.get("action_requests", [])}
            if on_token is not None:
                on_token(reply)
        else:
            final = next(
                (m for m in reversed(run_messages) if isinstance(m, AIMessage) and not m.tool_calls), None
            )
            raw = str(final.content) if final is not None else self.replies("clarify", language)
            meta = (final.response_metadata or {}).get("parley", {}) if final is not None else {}
            reply, citations, invalid = verify_citations(raw, trace)
            searched = any(t["name"] == "search_help_center" for t in trace)
            failed = bool(meta.get("failed")) or final is None or (searched and not citations and not meta)
            reply = prefix + reply
        status = ConversationStatus.BOT
        handover = False
        # --- desk: a handover is routed before the reply is stored, so the reply can say where the customer
        # stands (queue position and wait, or when the team is back). assistant/routing decides.
        takeover: dict[str, Any] | None = guard if guard and guard.get("takeover") else None
        transfer = next((t for t in trace if t["name"] == "transfer_to_human_agents" and t.get("ok")), None)
        if takeover is None and transfer is not None:
            takeover = {
                "takeover": True,
                "trigger": "agent_transfer",
                "reason": str(transfer["arguments"].get("summary", "the agent transferred the conversation"))[
                    :500
                ],
                "severity": 0.5,
                "language": language,
            }
        if takeover is not None:
            status, notice = self._route_handover(conversation_id, takeover, language)
            handover = True
            guard_said = not interrupts and bool(meta.get("handover"))
            reply = notice if guard_said else f"{reply}\n\n{notice}".strip()
        # --- end desk
        latency_ms = (time.perf_counter() - started) * 1000
        bot_message = self.conversations.add_message(
            conversation_id,
            MessageRole.BOT,
            reply,
            citations=citations,
            tool_calls=trace,
            latency_ms=latency_ms,
        )
        return TurnResult(
            conversation_id=conversation_id,
            status=status,
            reply=reply,
            citations=citations,
            tool_calls=trace,
            guard=guard,
            handover=handover,
            awaiting_confirmation=awaiting,
            failed=failed,
            invalid_citations=invalid,
            latency_ms=latency_ms,
            customer_seq=customer_message.seq,
            reply_seq=bot_message.seq,
            provider=self.provider,
        )

    def _finish_handover(
        self, conversation_id: str, customer_seq: int, decision: Any, started: float, language: str
    ) -> TurnResult:
        guard = decision.model_dump(mode="json")
        self.conversations.set_message_guard(conversation_id, customer_seq, guard)
        status, reply = self._route_handover(conversation_id, guard, decision.language or language)
        latency_ms = (time.perf_counter() - started) * 1000
        bot_message = self.conversations.add_message(
            conversation_id, MessageRole.BOT, reply, latency_ms=latency_ms
        )
        return TurnResult(
            conversation_id=conversation_id,
            status=status,
            reply=reply,
            guard=guard,
            handover=True,
            latency_ms=latency_ms,
            customer_seq=customer_seq,
            reply_seq=bot_message.seq,
            provider=self.provider,
        )

    # --- desk: the one place a handover is routed (the rules are in assistant/routing) -----------
    @cached_property
    def router(self) -> Any:
        from assistant.routing.router import Router, shop_orders

        return Router(self.settings, orders_of=shop_orders(self.shop))

    def _route_handover(
        self, conversation_id: str, decision: dict[str, Any], language: str
    ) -> tuple[ConversationStatus, str]:
        from assistant.routing.router import route_or_queue

        return route_or_queue(self.router, self.conversations, conversation_id, decision, language)

    # --- end desk

    # --- agent plumbing ------------------------------------------------------------------------
    def _run(
        self, run_input: Any, config: dict[str, Any], context: TurnContext, on_token: TokenCallback | None
    ) -> Any:
        state: Any = {}
        for mode, chunk in self.agent.stream(
            run_input, config, context=context, stream_mode=["messages", "values"]
        ):
            if mode == "values":
                state = chunk
            elif on_token is not None:
                message, metadata = chunk
                if (
                    metadata.get("langgraph_node") == "model"
                    and message.content
                    and not getattr(message, "tool_call_chunks", None)
                ):
                    on_token(str(message.content))
        return state

    def _state_messages(self, config: dict[str, Any]) -> list[BaseMessage]:
        snapshot = self.agent.get_state(config)
        return list(snapshot.values.get("messages", [])) if snapshot and snapshot.values else []

    def _last_tool_call_index(self, config: dict[str, Any]) -> int:
        messages = self._state_messages(config)
        for index in range(len(messages) - 1, -1, -1):
            message = messages[index]
            if isinstance(message, AIMessage) and message.tool_calls:
                return index
        return len(messages)

    def _pending_interrupts(self, config: dict[str, Any]) -> list[dict[str, Any]]:
        snapshot = self.agent.get_state(config)
        return [i.value for i in getattr(snapshot, "interrupts", ()) if isinstance(i.value, dict)]

    def _thread_knows_user(self, config: dict[str, Any]) -> bool:
        return any(
            isinstance(m, SystemMessage) and AUTH_MARKER in str(m.content)
            for m in self._state_messages(config)
        )

    def _guard_history(self, config: dict[str, Any]) -> list[Any]:
        from assistant.agent import _turn_record
        from assistant.guard.guard import TurnRecord

        records = [_turn_record(m, TurnRecord) for m in self._state_messages(config)]
        return [r for r in records if r is not None]

    def _agent_notes(self, conversation_id: str) -> list[BaseMessage]:
        """What human agents wrote since the bot last spoke, so the bot knows after a handback."""
        notes: list[BaseMessage] = []
        for message in reversed(self.conversations.messages(conversation_id)):
            if message.role == MessageRole.BOT:
                break
            if message.role == MessageRole.AGENT:
                notes.insert(0, AIMessage(content=message.text, name="human_agent"))
        return notes
