"""SupportService: one customer turn, end to end. The CLI, the HTTP API and the evaluation all call this.

Order of a turn: persist the customer's message -> if a human has (or is about to take) the conversation,
stay silent -> decide what the message means for a change waiting for a yes -> run the agent (guard first,
then planner/LLM and tools) -> compose the reply (reply.py: the change to confirm, or the final answer with
verified citations) -> persist it with its citations, tool trace and latency -> apply the guard's or the
transfer tool's handover.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.types import Command

from assistant.agent import MODEL_CALL_LIMIT, TurnContext, guard_history
from assistant.confirmations import classify_confirmation
from assistant.contacts.memory import ContactMemory
from assistant.model_gate import cap_text, recursion_limit
from assistant.parts import ServiceParts
from assistant.planner.state import AUTH_MARKER
from assistant.prompts import Replies
from assistant.records import Citation, GuardDecision, ToolCallRecord
from assistant.reply import compose_reply, pending_interrupts
from assistant.routing.router import Router, route_or_queue
from assistant.shop.store import ShopStore
from assistant.store.conversations import Conversation, ConversationStore, Message
from assistant.store.models import ConversationStatus, MessageRole
from assistant.tools.base import CustomerScope
from assistant.tools.help_center import HelpCenter
from assistant.tools.outcomes import tool_trace
from knowledge.language import detect_language
from knowledge.settings import Settings

TokenCallback = Callable[[str], None]
# Above the model-call limit's steps, so that limit (a polite answer) always comes first (issue 11).
RECURSION_LIMIT = recursion_limit(MODEL_CALL_LIMIT)


@dataclass
class TurnResult:
    conversation_id: str
    status: ConversationStatus
    reply: str | None  # None: the bot stays silent (a human has the conversation)
    citations: list[Citation] = field(default_factory=list)
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    guard: GuardDecision | None = None
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
            "citations": [c.model_dump() for c in self.citations],
            "tool_calls": [t.model_dump(mode="json") for t in self.tool_calls],
            "guard": self.guard.model_dump(mode="json") if self.guard else None,
            "handover": self.handover,
            "awaiting_confirmation": self.awaiting_confirmation,
            "failed": self.failed,
            "invalid_citations": self.invalid_citations,
            "latency_ms": round(self.latency_ms, 1),
            "provider": self.provider,
        }


@dataclass
class _Turn:
    """One customer turn in progress."""

    conversation: Conversation
    customer_message: Message
    language: str
    scope: CustomerScope
    started: float
    config: dict[str, Any]
    deadline: float | None = None  # perf_counter(): no model call is waited for past it (model_gate.py)

    @property
    def id(self) -> str:
        return self.conversation.id

    @property
    def context(self) -> TurnContext:
        return TurnContext(
            scope=self.scope, conversation_id=self.id, language=self.language, deadline=self.deadline
        )

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


def _decisions(kind: str, count: int) -> Command:
    return Command(resume={"decisions": [{"type": kind}] * count})


class SupportService:
    def __init__(self, settings: Settings, parts: ServiceParts | None = None) -> None:
        self.settings = settings
        settings.ensure_data_dir()
        self.parts = parts or ServiceParts(settings)

    # --- the parts most callers need -----------------------------------------------------------------
    @property
    def conversations(self) -> ConversationStore:
        return self.parts.conversations

    @property
    def shop(self) -> ShopStore:
        return self.parts.shop

    @property
    def help_center(self) -> HelpCenter:
        return self.parts.help_center

    @property
    def replies(self) -> Replies:
        return self.parts.replies

    @property
    def provider(self) -> str:
        return self.parts.provider

    @property
    def router(self) -> Router:
        """The desk's routing (assistant/routing): teams, capacity, priority, business hours."""
        return self.parts.router

    @property
    def contact_memory(self) -> ContactMemory:
        """Contacts and their memory across channels (assistant/contacts)."""
        return self.parts.contact_memory

    # --- conversations -----------------------------------------------------------------------------
    def start_conversation(
        self, channel: str = "widget", user_id: str | None = None, language: str | None = None
    ) -> tuple[Conversation, str]:
        conversation, secret = self.conversations.create_conversation(
            channel=channel, user_id=user_id, language=language
        )
        if user_id and channel == "widget":  # a token-signed customer is a known contact
            conversation = self.contact_memory.contacts.sign_in_widget(conversation, user_id)
        return conversation, secret

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
        turn = _Turn(
            conversation=conversation,
            customer_message=customer_message,
            language=detect_language(text, default=conversation.language or "en"),
            scope=CustomerScope.customer(conversation.user_id),
            started=started,
            config={"configurable": {"thread_id": conversation_id}, "recursion_limit": RECURSION_LIMIT},
            deadline=started + self.settings.turn_deadline_s,
        )
        run_input = self._run_input(turn, text)
        if isinstance(run_input, GuardDecision):
            return self._guard_handover(turn, run_input)
        return self._run_turn(turn, run_input, on_token)

    # --- the steps of a turn -------------------------------------------------------------------------
    def _run_input(self, turn: _Turn, text: str) -> Any:
        """What the agent runs on: the new message, or the customer's answer to a change waiting for a yes.

        A guard takeover while a change waits comes back as the GuardDecision (the change is dropped).
        """
        pending = pending_interrupts(self.parts.agent, turn.config)
        if not pending:
            notes: list[BaseMessage] = list(self._agent_notes(turn.id))
            if turn.conversation.user_id and not self._thread_knows_user(turn.config):
                notes.insert(0, SystemMessage(f"{AUTH_MARKER} {turn.conversation.user_id}"))
            # The contact's earlier conversations on any channel, once per thread.
            notes[:0] = self.contact_memory.notes(turn.conversation, self._state_messages(turn.config))
            return {"messages": [*notes, HumanMessage(text)]}
        # A listed change waits for an explicit yes; the guard still hears this message first.
        decision = self.parts.guard.evaluate(text, guard_history(self._state_messages(turn.config)))
        if decision.takeover:
            self._run(_decisions("reject", len(pending)), turn, None)
            return decision
        answer = classify_confirmation(text)
        if answer in ("yes", "no"):
            return _decisions("approve" if answer == "yes" else "reject", len(pending))
        # Something else entirely: drop the pending change, then handle the new message.
        self._run(_decisions("reject", len(pending)), turn, None)
        return {"messages": [*self._agent_notes(turn.id), HumanMessage(text)]}

    def _run_turn(self, turn: _Turn, run_input: Any, on_token: TokenCallback | None) -> TurnResult:
        agent = self.parts.agent
        # An approved (or declined) WRITE sits in the message before the interrupt: trace it in this turn,
        # the turn in which it ran, with its result.
        resuming = isinstance(run_input, Command)
        before = (
            self._last_tool_call_index(turn.config) if resuming else len(self._state_messages(turn.config))
        )
        state = self._run(run_input, turn, on_token)
        run_messages: list[BaseMessage] = list(state.get("messages", []))[before:]
        trace = tool_trace(run_messages, self.parts.toolkit.kinds())
        guard = GuardDecision.model_validate(state["guard_decision"]) if state.get("guard_decision") else None
        if guard is not None:
            self.conversations.set_message_guard(
                turn.id, turn.customer_message.seq, guard.model_dump(mode="json")
            )
        if turn.scope.user_id and turn.scope.user_id != turn.conversation.user_id:
            self.conversations.set_user(turn.id, turn.scope.user_id)
        if turn.language != turn.conversation.language:
            self.conversations.set_language(turn.id, turn.language)
        reply = compose_reply(
            agent, turn.config, run_messages, trace, turn.language, self.replies, self.parts.support_check
        )
        reply.text = cap_text(reply.text, self.settings.max_reply_chars)  # stored and served at most this
        if reply.awaiting is not None and on_token is not None:
            on_token(reply.text)
        # A handover is routed before the reply is stored, so the reply can say where the customer stands
        # (queue position and wait, or when the team is back): assistant/routing decides.
        status, notice = self._handover(turn, guard, trace)
        handover = notice is not None
        if notice is not None:
            reply.text = notice if reply.guard_handover else f"{reply.text}\n\n{notice}".strip()
        latency_ms = turn.elapsed_ms()
        bot_message = self.conversations.add_message(
            turn.id,
            MessageRole.BOT,
            reply.text,
            citations=[c.model_dump() for c in reply.citations],
            tool_calls=[t.model_dump(mode="json") for t in trace],
            latency_ms=latency_ms,
        )
        return TurnResult(
            conversation_id=turn.id,
            status=status,
            reply=reply.text,
            citations=reply.citations,
            tool_calls=trace,
            guard=guard,
            handover=handover,
            awaiting_confirmation=reply.awaiting,
            failed=reply.failed,
            invalid_citations=reply.invalid_citations,
            latency_ms=latency_ms,
            customer_seq=turn.customer_message.seq,
            reply_seq=bot_message.seq,
            provider=self.provider,
        )

    def _handover(
        self, turn: _Turn, guard: GuardDecision | None, trace: list[ToolCallRecord]
    ) -> tuple[ConversationStatus, str | None]:
        """The guard's takeover, or the agent's transfer to a person, routes the conversation to the desk;
        the notice tells the customer where they stand. No handover: (BOT, None)."""
        if guard is not None and guard.takeover:
            return self._route_handover(turn.id, guard.model_dump(mode="json"), turn.language)
        transfer = next((t for t in trace if t.name == "transfer_to_human_agents" and t.ok), None)
        if transfer is None:
            return ConversationStatus.BOT, None
        reason = str(transfer.arguments.get("summary", "the agent transferred the conversation"))[:500]
        decision = {
            "takeover": True,
            "trigger": "agent_transfer",
            "reason": reason,
            "severity": 0.5,
            "language": turn.language,
        }
        return self._route_handover(turn.id, decision, turn.language)

    def _route_handover(
        self, conversation_id: str, decision: dict[str, Any], language: str
    ) -> tuple[ConversationStatus, str]:
        return route_or_queue(self.router, self.conversations, conversation_id, decision, language)

    def _guard_handover(self, turn: _Turn, decision: GuardDecision) -> TurnResult:
        """The guard took over while a change waited for a yes: the change is dropped, a person is asked."""
        guard = decision.model_dump(mode="json")
        self.conversations.set_message_guard(turn.id, turn.customer_message.seq, guard)
        status, reply = self._route_handover(turn.id, guard, decision.language or turn.language)
        latency_ms = turn.elapsed_ms()
        bot_message = self.conversations.add_message(turn.id, MessageRole.BOT, reply, latency_ms=latency_ms)
        return TurnResult(
            conversation_id=turn.id,
            status=status,
            reply=reply,
            guard=decision,
            handover=True,
            latency_ms=latency_ms,
            customer_seq=turn.customer_message.seq,
            reply_seq=bot_message.seq,
            provider=self.provider,
        )

    # --- agent plumbing ------------------------------------------------------------------------------
    def _run(self, run_input: Any, turn: _Turn, on_token: TokenCallback | None) -> Any:
        state: Any = {}
        if on_token is not None:
            on_token = _capped(on_token, self.settings.max_reply_chars)
        stream = self.parts.agent.stream(
            run_input, turn.config, context=turn.context, stream_mode=["messages", "values"]
        )
        for mode, chunk in stream:
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

    def _state(self, config: dict[str, Any]) -> Any:
        snapshot = self.parts.agent.get_state(config)
        return snapshot.values if snapshot and snapshot.values else {}

    def _state_messages(self, config: dict[str, Any]) -> list[BaseMessage]:
        return list(self._state(config).get("messages", []))

    def _last_tool_call_index(self, config: dict[str, Any]) -> int:
        messages = self._state_messages(config)
        for index in range(len(messages) - 1, -1, -1):
            message = messages[index]
            if isinstance(message, AIMessage) and message.tool_calls:
                return index
        return len(messages)

    def _thread_knows_user(self, config: dict[str, Any]) -> bool:
        return any(
            isinstance(m, SystemMessage) and AUTH_MARKER in str(m.content)
            for m in self._state_messages(config)
        )

    def _agent_notes(self, conversation_id: str) -> list[BaseMessage]:
        """What human agents wrote since the bot last spoke, so the bot knows after a handback."""
        notes: list[BaseMessage] = []
        for message in reversed(self.conversations.messages(conversation_id)):
            if message.role == MessageRole.BOT:
                break
            if message.role == MessageRole.AGENT:
                notes.insert(0, AIMessage(content=message.text, name="human_agent"))
        return notes


def _capped(on_token: TokenCallback, limit: int) -> TokenCallback:
    """`on_token` that passes on at most `limit` characters in all: a huge model reply is not streamed."""
    sent = 0

    def forward(piece: str) -> None:
        nonlocal sent
        if sent >= limit:
            return
        piece = piece[: limit - sent]
        sent += len(piece)
        on_token(piece)

    return forward
