"""`Router`: the desk's routing in one object, built once per process from Settings.

    router = Router(settings, orders_of=shop_orders)      # orders_of(user_id) -> τ²-shaped order dicts
    outcome = router.hand_over(conversation_id, guard_decision, language)   # queue / assign / defer
    router.claim(cid, "alice"); router.transfer(cid, "alice", to_team="returns", note="...")
    router.sweep()                                          # opening hours, re-assignment, SLA escalation

Every method takes an optional `now` (aware datetime) so the simulation benchmark and the tests drive the
same code on a simulated clock.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Unpack

from assistant.routing import notices
from assistant.routing.assign import Assigner, Assignment
from assistant.routing.context import Clock, DeskConfig, DeskDb, system_clock
from assistant.routing.directory import DeskAgent, Directory
from assistant.routing.feedback import Feedback
from assistant.routing.handover import Handover, OrdersOf
from assistant.routing.macros import MacroStore
from assistant.routing.models import AgentStatus
from assistant.routing.notify import Notifier, webhook_notifier
from assistant.routing.ownership import Ownership, TransferTarget
from assistant.routing.queue import QueueStatus, QueueView
from assistant.routing.sweep import Sweeper, SweepReport
from assistant.store.conversations import ConversationStore
from assistant.store.models import ConversationStatus
from knowledge.settings import Settings

log = logging.getLogger(__name__)


class Router:
    def __init__(
        self,
        settings: Settings,
        *,
        database_url: str | None = None,
        orders_of: OrdersOf | None = None,
        notifier: Notifier | None = None,
        clock: Clock = system_clock,
    ) -> None:
        config = DeskConfig.from_settings(settings)
        self.db = DeskDb(database_url or str(settings.database_url), config, clock)
        self.directory = Directory(self.db)
        self.assigner = Assigner(self.db)
        self.ownership = Ownership(self.db, self.assigner)
        self.queue = QueueView(self.db, self.assigner)
        self.handovers = Handover(self.db, self.assigner, self.queue, self.directory, orders_of)
        self.sweeper = Sweeper(
            self.db, self.assigner, self.handovers, notifier or webhook_notifier(config.webhook_timeout_s)
        )
        self.feedback = Feedback(self.db)
        self.macros = MacroStore(self.db)
        # A customer's handover (guard, transfer tool, or asking for a person): routed to a team's queue.
        self.hand_over = self.handovers.hand_over

    # --- customers -------------------------------------------------------------------------------------
    def queue_status(self, conversation_id: str, now: datetime | None = None) -> QueueStatus:
        self.sweeper.maybe_sweep(now)
        return self.queue.status(conversation_id, now)

    def record_origin(self, conversation_id: str, ip: str | None) -> None:
        self.handovers.record_origin(conversation_id, ip)

    # --- agents --------------------------------------------------------------------------------------
    def claim(self, conversation_id: str, agent: str, now: datetime | None = None) -> None:
        self.ownership.claim(conversation_id, agent, now)

    def assign_to(self, conversation_id: str, agent: str, by: str, now: datetime | None = None) -> None:
        self.ownership.assign_to(conversation_id, agent, by, now)

    def hand_back(self, conversation_id: str, agent: str, now: datetime | None = None) -> None:
        self.ownership.hand_back(conversation_id, agent, now)
        self.assigner.dispatch(now)

    def close(self, conversation_id: str, agent: str | None, now: datetime | None = None) -> None:
        self.ownership.close(conversation_id, agent, now)
        self.assigner.dispatch(now)

    def transfer(
        self,
        conversation_id: str,
        from_agent: str,
        *,
        now: datetime | None = None,
        **target: Unpack[TransferTarget],
    ) -> None:
        """`Ownership.transfer` (to_agent= or to_team=, note=), then a dispatch round."""
        self.ownership.transfer(conversation_id, from_agent, now=now, **target)
        self.assigner.dispatch(now)

    def agent_replied(self, conversation_id: str, now: datetime | None = None) -> None:
        self.ownership.mark_reply(conversation_id, now)

    def set_status(self, agent: str, status: AgentStatus | str, now: datetime | None = None) -> DeskAgent:
        updated = self.directory.set_status(agent, status, now)
        if updated.status == AgentStatus.ONLINE:
            self.assigner.dispatch(now)
        return self.directory.agent(agent)

    def dispatch(self, now: datetime | None = None) -> list[Assignment]:
        return self.assigner.dispatch(now)

    def sweep(self, now: datetime | None = None) -> SweepReport:
        return self.sweeper.sweep(now)

    def maybe_sweep(self, now: datetime | None = None) -> SweepReport | None:
        return self.sweeper.maybe_sweep(now)


def shop_orders(shop: Any) -> OrdersOf:
    """orders_of(user_id) for a ShopStore: the customer's orders in τ² shape (journey stage, order value)."""

    def orders_of(user_id: str) -> list[dict[str, Any]]:
        with shop.transaction() as session:
            return [o.to_tau2() for o in session.orders_of_user(user_id)]

    return orders_of


def route_or_queue(
    router: Router, store: ConversationStore, conversation_id: str, decision: dict[str, Any], language: str
) -> tuple[ConversationStatus, str]:
    """What SupportService calls at a handover: the new status and what to tell the customer. If routing
    itself fails, the conversation still goes to the shared queue with a plain handover message: a customer
    who asked for a person gets one."""
    try:
        outcome = router.hand_over(conversation_id, decision, language)
        return outcome.status, outcome.text
    except Exception:
        log.exception("routing failed for conversation %s; queued without routing", conversation_id)
        store.request_human(conversation_id, decision, priority=float(decision.get("severity", 0.5) or 0.5))
        return ConversationStatus.WAITING_FOR_HUMAN, notices.text(language, "handover_plain")
