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
from typing import Any, Generic, TypeVar, overload

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.types import Command

from assistant.agent import MODEL_CALL_LIMIT, guard_history
from assistant.agent_thread import (
    ThreadReader,
    TokenSink,
    decisions,
    knows_user,
    last_tool_call_index,
    run_agent,
    thread_messages,
    unfinished_run,
)
from assistant.confirmations import classify_confirmation, pending_action
from assistant.contacts.memory import ContactMemory
from assistant.fault_points import pause_point
from assistant.identity.policy import lookup_signs_in
from assistant.identity.signin import email_in, typed_code
from assistant.model_gate import cap_text, recursion_limit
from assistant.parts import ServiceParts
from assistant.planner.state import AUTH_MARKER
from assistant.prompts import Replies
from assistant.records import Citation, GuardDecision, ToolCallRecord
from assistant.recovery import already_ran, recovered_trace, recovery_notice, settle_from_shop
from assistant.reply import compose_reply, pending_interrupts
from assistant.routing.router import Router, route_or_queue
from assistant.shop.store import ShopStore
from assistant.store.conversations import Conversation, ConversationStore, Message
from assistant.store.models import ConversationStatus, MessageRole
from assistant.tools.base import CustomerScope
from assistant.tools.help_center import HelpCenter
from assistant.tools.outcomes import tool_trace
from assistant.turn import AskAgain, Recovered, Turn, TurnResult
from assistant.turn_signin import code_sign_in
from knowledge.language import detect_language
from knowledge.settings import Settings

TokenCallback = Callable[[str], None]
PartT = TypeVar("PartT")
# Above the model-call limit's steps, so that limit (a polite answer) always comes first (issue 11).
RECURSION_LIMIT = recursion_limit(MODEL_CALL_LIMIT)


class _Part(Generic[PartT]):
    """A SupportService attribute that is the part of the same name of its ServiceParts (read-only)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, service: None, owner: type) -> _Part[PartT]: ...

    @overload
    def __get__(self, service: SupportService, owner: type) -> PartT: ...

    def __get__(self, service: SupportService | None, owner: type) -> _Part[PartT] | PartT:
        if service is None:
            return self
        part: PartT = getattr(service.parts, self.name)
        return part

    def __set__(self, service: SupportService, value: PartT) -> None:
        raise AttributeError(f"{self.name} is a part: give it to ServiceParts instead")


class SupportService:
    def __init__(self, settings: Settings, parts: ServiceParts | None = None) -> None:
        self.settings = settings
        settings.ensure_data_dir()
        self.parts = parts or ServiceParts(settings)

    # --- the parts most callers need (read-only, built on first use) ----------------------------------
    conversations = _Part[ConversationStore]()
    shop = _Part[ShopStore]()
    help_center = _Part[HelpCenter]()
    replies = _Part[Replies]()
    provider = _Part[str]()
    router = _Part[Router]()  # the desk's routing (assistant/routing): teams, capacity, priority, hours
    contact_memory = _Part[ContactMemory]()  # contacts and their memory across channels (assistant/contacts)

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
        self,
        conversation_id: str,
        text: str,
        on_token: TokenCallback | None = None,
        action_id: str | None = None,
    ) -> TurnResult:
        """`action_id`: the pending change a widget button answers (a stale or other id is not a yes)."""
        started = time.perf_counter()
        conversation = self.conversations.get(conversation_id)
        # The customer's words are stored before anything else can fail (and before waiting for the turn).
        customer_message = self.conversations.add_message(conversation_id, MessageRole.CUSTOMER, text)
        pause_point("after_customer_message")
        if conversation.status != ConversationStatus.BOT:
            return self._silent(conversation, customer_message, started)
        # One turn at a time per conversation, across workers: a reply answers its own message.
        with self.conversations.turns.hold(conversation_id):
            conversation = self.conversations.get(conversation_id)
            if conversation.status != ConversationStatus.BOT:
                return self._silent(conversation, customer_message, started)
            language = detect_language(text, default=conversation.language or "en")
            signed_in_note = ""
            if conversation.user_id is None and not self._lookup_signs_in:
                # Verified identity: an email starts a one-time code, the code typed back signs in.
                signing = self._code_sign_in(conversation, customer_message, text, language)
                if isinstance(signing, TurnResult):
                    return signing
                if signing is not None:
                    conversation, text, signed_in_note = signing
            turn = Turn(
                conversation=conversation,
                customer_message=customer_message,
                language=language,
                scope=CustomerScope.customer(conversation.user_id, lookup_signs_in=self._lookup_signs_in),
                started=started,
                config={"configurable": {"thread_id": conversation_id}, "recursion_limit": RECURSION_LIMIT},
                recovered=settle_from_shop(
                    self.conversations.actions.unreported(conversation_id),
                    self.shop,
                    self.conversations.actions,
                ),
                deadline=started + self.settings.turn_deadline_s,
                thread=ThreadReader(self.parts.agent),
            )
            if language != conversation.language:  # every path of the turn answers in it (and the widget)
                self.conversations.set_language(conversation.id, language)
            run_input = self._run_input(turn, text, action_id)
            if isinstance(run_input, GuardDecision):
                return self._guard_handover(turn, run_input)
            if isinstance(run_input, AskAgain | Recovered):
                return self._answer_without_agent(turn, run_input)
            return self._run_turn(turn, run_input, on_token, prefix=signed_in_note)

    def _silent(self, conversation: Conversation, customer_message: Message, started: float) -> TurnResult:
        return TurnResult(
            conversation_id=conversation.id,
            status=conversation.status,
            reply=None,
            customer_seq=customer_message.seq,
            latency_ms=(time.perf_counter() - started) * 1000,
            provider=self.provider,
            language=conversation.language,
        )

    # --- identity (assistant/identity: policy.py, signin.py) ------------------------------------------
    @property
    def _lookup_signs_in(self) -> bool:
        return lookup_signs_in(self.settings.identity_policy)

    def _takes_over(self, conversation_id: str, text: str) -> bool:
        """Whether the guard would hand this message to a person (read before a code is sent for it)."""
        config = {"configurable": {"thread_id": conversation_id}}
        return self.parts.guard.evaluate(
            text, guard_history(thread_messages(self.parts.agent, config))
        ).takeover

    def _code_sign_in(
        self, conversation: Conversation, customer_message: Message, text: str, language: str
    ) -> TurnResult | tuple[Conversation, str, str] | None:
        takes_over = (
            typed_code(text) is None
            and email_in(text) is not None
            and self._takes_over(conversation.id, text)
        )
        if takes_over:
            return None  # "a person, now! I'm ann@..." goes to a person (the guard, in the agent run)
        return code_sign_in(self.parts, self.conversations, conversation, customer_message, text, language)

    # --- the steps of a turn -------------------------------------------------------------------------
    def _run_input(self, turn: Turn, text: str, action_id: str | None = None) -> Any:
        """What the agent runs on: the new message, or the customer's answer to a change waiting for a yes.

        A guard takeover while a change waits comes back as the GuardDecision (the change is dropped); an
        answer that is neither a clear yes nor a clear no as AskAgain (nothing runs, the question is asked
        again); an answer to a change that already ran before a crash as Recovered (the notice answers).
        """
        pending = pending_interrupts(turn.thread, turn.config)
        actions: list[dict[str, Any]] = list(pending[0].get("action_requests", [])) if pending else []
        if pending and turn.recovered and already_ran(actions, turn.recovered):
            # The yes was given and the change ran; the crash lost the rest of that turn. Never run it twice.
            self._run(decisions("reject", len(pending)), turn, None)
            pending = []
        not_run = [{"name": r.tool, "args": r.arguments} for r in turn.recovered if r.status == "not_run"]
        # The crash came after the yes and before the change: a new yes to that change continues the run
        # (the change runs now); anything else starts afresh and the change is dropped, never run.
        if (
            not pending
            and not_run
            and unfinished_run(turn.thread, turn.config)
            and classify_confirmation(text, pending_action(not_run), action_id) == "yes"
        ):
            turn.recovered = [r for r in turn.recovered if r.status != "not_run"]
            return None
        answer = classify_confirmation(text, pending_action(actions) if pending else None, action_id)
        if not pending and turn.recovered and answer != "other":
            return Recovered()
        if not pending:
            notes: list[BaseMessage] = list(self._agent_notes(turn.id))
            if turn.conversation.user_id and not knows_user(turn.thread, turn.config):
                notes.insert(0, SystemMessage(f"{AUTH_MARKER} {turn.conversation.user_id}"))
            # The contact's earlier conversations on any channel, once per thread.
            notes[:0] = self.contact_memory.notes(
                turn.conversation, thread_messages(turn.thread, turn.config)
            )
            return {"messages": [*notes, HumanMessage(text)]}
        # A listed change waits for an explicit yes; the guard still hears this message first.
        decision = self.parts.guard.evaluate(text, guard_history(thread_messages(turn.thread, turn.config)))
        if decision.takeover:
            self._run(decisions("reject", len(pending)), turn, None)
            return decision
        if answer in ("yes", "no"):
            return decisions("approve" if answer == "yes" else "reject", len(pending))
        if answer == "again":
            return AskAgain(actions)
        # Something else entirely: drop the pending change, then handle the new message.
        self._run(decisions("reject", len(pending)), turn, None)
        return {"messages": [*self._agent_notes(turn.id), HumanMessage(text)]}

    def _run_turn(
        self, turn: Turn, run_input: Any, on_token: TokenCallback | None, prefix: str = ""
    ) -> TurnResult:
        agent = self.parts.agent
        if prefix and on_token is not None:
            on_token(prefix + "\n\n")
        # An approved (or declined) WRITE sits in the message before the interrupt: trace it in this turn,
        # the turn in which it ran, with its result.
        resuming = isinstance(run_input, Command) or run_input is None  # None: an interrupted run goes on
        before = (
            last_tool_call_index(turn.thread, turn.config)
            if resuming
            else len(thread_messages(turn.thread, turn.config))
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
        reply = compose_reply(
            agent, turn.config, run_messages, trace, turn.language, self.replies, self.parts.support_check
        )
        reply.text = cap_text(reply.text, self.settings.max_reply_chars)  # stored and served at most this
        if reply.awaiting is not None and on_token is not None:
            on_token(reply.text)
        if prefix:
            reply.text = f"{prefix}\n\n{reply.text}"
        # A handover is routed before the reply is stored, so the reply can say where the customer stands
        # (queue position and wait, or when the team is back): assistant/routing decides.
        status, notice = self._handover(turn, guard, trace)
        handover = notice is not None
        if notice is not None:
            reply.text = notice if reply.guard_handover else f"{reply.text}\n\n{notice}".strip()
        if turn.recovered:
            recovered = recovery_notice(turn.recovered, turn.language, self.replies, self.parts.toolkit)
            reply.text = f"{recovered}\n\n{reply.text}".strip()
            trace = [*recovered_trace(turn.recovered), *trace]
        return self._replied(
            turn,
            status,
            reply.text,
            trace,
            reply.citations,
            guard=guard,
            handover=handover,
            awaiting=reply.awaiting,
            failed=reply.failed,
            invalid_citations=reply.invalid_citations,
        )

    def _handover(
        self, turn: Turn, guard: GuardDecision | None, trace: list[ToolCallRecord]
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

    def _guard_handover(self, turn: Turn, decision: GuardDecision) -> TurnResult:
        """The guard took over while a change waited for a yes: the change is dropped, a person is asked."""
        guard = decision.model_dump(mode="json")
        self.conversations.set_message_guard(turn.id, turn.customer_message.seq, guard)
        status, reply = self._route_handover(turn.id, guard, decision.language or turn.language)
        trace = recovered_trace(turn.recovered)
        if turn.recovered:
            recovered = recovery_notice(turn.recovered, turn.language, self.replies, self.parts.toolkit)
            reply = f"{recovered}\n\n{reply}"
        return self._replied(turn, status, reply, trace, guard=decision, handover=True)

    def _answer_without_agent(self, turn: Turn, answer: AskAgain | Recovered) -> TurnResult:
        """The question asked again (nothing runs), or the notice of a change that ran before a crash."""
        parts: list[str] = []
        trace = recovered_trace(turn.recovered)
        if turn.recovered:
            parts.append(recovery_notice(turn.recovered, turn.language, self.replies, self.parts.toolkit))
        awaiting: dict[str, Any] | None = None
        if isinstance(answer, AskAgain):
            descriptions = "; ".join(a.get("description", a.get("name", "")) for a in answer.actions)
            parts.append(self.replies("confirm_again", turn.language, description=descriptions))
            awaiting = {"actions": answer.actions, "action_id": pending_action(answer.actions).action_id}
        status = ConversationStatus.BOT
        if isinstance(answer, Recovered) and any(r.status == "started" for r in turn.recovered):
            # Whether the change went through is unknown: a person checks (the notice says so).
            decision = {"takeover": True, "trigger": "unfinished_action", "reason": parts[0], "severity": 0.6}
            status, notice = self._route_handover(turn.id, decision, turn.language)
            parts.append(notice)
        elif isinstance(answer, Recovered):
            parts.append(self.replies("anything_else", turn.language))
        text = "\n\n".join(parts)
        return self._replied(
            turn, status, text, trace, handover=status != ConversationStatus.BOT, awaiting=awaiting
        )

    def _replied(
        self,
        turn: Turn,
        status: ConversationStatus,
        text: str,
        trace: list[ToolCallRecord],
        citations: list[Citation] | None = None,
        *,
        guard: GuardDecision | None = None,
        handover: bool = False,
        awaiting: dict[str, Any] | None = None,
        failed: bool = False,
        invalid_citations: list[int] | None = None,
    ) -> TurnResult:
        """Store the bot's reply with the turn's latency so far; the turn's result, which carries it."""
        cited = citations if citations is not None else []
        latency_ms = turn.elapsed_ms()
        bot_message = self._store_reply(turn, text, cited, trace, latency_ms)
        return TurnResult(
            conversation_id=turn.id,
            status=status,
            reply=text,
            citations=cited,
            tool_calls=trace,
            guard=guard,
            handover=handover,
            awaiting_confirmation=awaiting,
            failed=failed,
            invalid_citations=invalid_citations or [],
            latency_ms=latency_ms,
            customer_seq=turn.customer_message.seq,
            reply_seq=bot_message.seq,
            provider=self.provider,
            language=turn.language,
        )

    def _store_reply(
        self,
        turn: Turn,
        text: str,
        citations: list[Citation],
        trace: list[ToolCallRecord],
        latency_ms: float,
    ) -> Message:
        """Persist the bot's reply, then mark every change recorded so far as reported by it."""
        pause_point("before_reply")
        message = self.conversations.add_message(
            turn.id,
            MessageRole.BOT,
            text,
            citations=[c.model_dump() for c in citations],
            tool_calls=[t.model_dump(mode="json") for t in trace],
            latency_ms=latency_ms,
        )
        unreported = self.conversations.actions.unreported(turn.id)
        self.conversations.actions.mark_reported([r.id for r in unreported], message.seq)
        return message

    # --- agent plumbing ------------------------------------------------------------------------------
    def _run(self, run_input: Any, turn: Turn, on_token: TokenCallback | None) -> Any:
        tokens = TokenSink(on_token, self.settings.max_reply_chars, live=self.provider != "offline")
        try:  # the thread changes: what was read of it before is stale
            return run_agent(self.parts.agent, run_input, turn.config, turn.context, tokens)
        finally:
            turn.thread.forget()

    def _agent_notes(self, conversation_id: str) -> list[BaseMessage]:
        """What human agents wrote since the bot last spoke, so the bot knows after a handback."""
        since = self.conversations.last_seq(conversation_id, MessageRole.BOT)
        return [
            AIMessage(content=m.text, name="human_agent")
            for m in self.conversations.messages(conversation_id, after_seq=since)
            if m.role == MessageRole.AGENT
        ]
