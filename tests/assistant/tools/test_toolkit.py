"""The toolkit's vocabulary: one spec owns a tool. A new WRITE tool is one spec plus its policy function,
and the agent, the confirmation, the trace and the report pick it up with no other change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command
from pydantic import Field

from assistant.agent import TurnContext, build_agent
from assistant.prompts import Replies
from assistant.shop.schema import Order
from assistant.shop.store import ShopStore
from assistant.tools import (
    CustomerScope,
    Facts,
    ToolKind,
    Toolkit,
    ToolOutcome,
    default_specs,
    tool,
    tool_trace,
)
from assistant.tools.base import Say, ToolArgs, ToolContext
from assistant.tools.policies import PENDING, PolicyViolation, require_status
from assistant.tools.replay import SqliteTemplate
from knowledge.settings import Settings
from tests.assistant.fakes import ScriptedModel
from tests.assistant.tools.shop_factory import make_shop

JANE, PENDING_ORDER, DELIVERED_ORDER = "jane_doe_1", "#W0000001", "#W0000002"
ON_HOLD = "on hold"


# --- a tool that is not part of Parley: its policy function and its one spec --------------------------
def plan_hold(order: Order) -> Order:
    """Policy: only a pending order can be put on hold."""
    require_status(order, PENDING, "Only a pending order can be put on hold")
    return order.model_copy(update={"status": ON_HOLD})


class HoldArgs(ToolArgs):
    order_id: str = Field(description="The order id, such as '#W0000000'.")


def describe_hold(args: dict[str, Any], facts: Facts, say: Say) -> str:
    return say("confirm_hold", order_id=args["order_id"])


def report_hold(outcome: ToolOutcome, facts: Facts, say: Say) -> str:
    return say("held", order_id=outcome.result["order_id"])


@tool(ToolKind.WRITE, HoldArgs, statuses=frozenset({PENDING}), describe=describe_hold, report=report_hold)
def hold_pending_order(ctx: ToolContext, args: HoldArgs) -> dict[str, Any]:
    """Put a pending order on hold. Ask for an explicit yes first."""
    held = plan_hold(ctx.order(args.order_id))
    ctx.shop.save_order(held)
    return held.to_tau2()


TEXTS = {
    "confirm_hold": {"en": "put order {order_id} on hold", "fr": "mettre la commande {order_id} en attente"},
    "held": {"en": "Order {order_id} is on hold.", "fr": "La commande {order_id} est en attente."},
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ShopStore]:
    template = SqliteTemplate.build(make_shop(), tmp_path / "template.db")
    with template.fresh_store(tmp_path / "shop.db") as fresh:
        yield fresh


@pytest.fixture
def toolkit(store: ShopStore) -> Toolkit:
    return Toolkit(store, specs=[*default_specs(), hold_pending_order], replies=Replies("Shop", extra=TEXTS))


def status_of(store: ShopStore, order_id: str) -> str:
    with store.transaction() as shop:
        order = shop.get_order(order_id)
        assert order is not None
        return order.status


def test_the_policy_function_allows_and_refuses() -> None:
    order = make_shop().orders[PENDING_ORDER]
    assert plan_hold(order).status == ON_HOLD
    with pytest.raises(PolicyViolation, match="Only a pending order"):
        plan_hold(make_shop().orders[DELIVERED_ORDER])


def test_every_write_set_and_status_rule_comes_from_the_specs(toolkit: Toolkit) -> None:
    assert "hold_pending_order" in toolkit.write_names
    assert toolkit.kinds()["hold_pending_order"] == "write"
    assert toolkit.statuses(["hold_pending_order"]) == {PENDING}
    assert toolkit.statuses(["return_delivered_order_items", "modify_pending_order_items"]) == {
        "delivered",
        "pending",
    }
    tags = {t.name: t.tags for t in toolkit.langchain_tools(CustomerScope.customer(JANE))}
    assert tags["hold_pending_order"] == ["write"]
    assert "hold_pending_order" not in Toolkit(None).write_names  # nothing registered globally


def test_the_new_tool_is_scoped_and_transactional_like_every_other(
    toolkit: Toolkit, store: ShopStore
) -> None:
    refused = toolkit.run(CustomerScope.customer(), "hold_pending_order", {"order_id": PENDING_ORDER})
    assert refused.error is not None and refused.error.startswith("Authenticate first")
    other = toolkit.run(
        CustomerScope.customer("john_roe_2"), "hold_pending_order", {"order_id": PENDING_ORDER}
    )
    assert other.error == "Order not found"
    wrong = toolkit.run(CustomerScope.customer(JANE), "hold_pending_order", {"order_id": DELIVERED_ORDER})
    assert wrong.error == f"Only a pending order can be put on hold (order {DELIVERED_ORDER} is 'delivered')"
    assert status_of(store, PENDING_ORDER) == "pending" and status_of(store, DELIVERED_ORDER) == "delivered"


def test_description_and_report_are_in_the_customer_language(toolkit: Toolkit) -> None:
    facts = Facts()
    assert toolkit.describe("hold_pending_order", {"order_id": "#W1"}, facts, "fr") == (
        "mettre la commande #W1 en attente"
    )
    outcome = ToolOutcome("hold_pending_order", {"order_id": "#W1"}, True, {"order_id": "#W1"})
    assert toolkit.report(outcome, facts, "en") == "Order #W1 is on hold."
    cancel = toolkit.describe(
        "cancel_pending_order", {"order_id": "#W1", "reason": "ordered by mistake"}, facts, "fr"
    )
    assert cancel.startswith("annuler la commande #W1 (motif : commandée par erreur)")


def test_the_agent_asks_for_a_yes_in_french_then_runs_and_traces_the_new_tool(
    toolkit: Toolkit, store: ShopStore, tmp_path: Path
) -> None:
    call = {
        "name": "hold_pending_order",
        "args": {"order_id": PENDING_ORDER},
        "id": "call_1",
        "type": "tool_call",
    }
    model = ScriptedModel(script=[AIMessage(content="", tool_calls=[call]), AIMessage(content="C'est fait.")])
    settings = Settings(data_dir=tmp_path / "parley", _env_file=None)  # type: ignore[call-arg]
    agent = build_agent(
        settings, offline_model=model, toolkit=toolkit, guard=None, checkpointer=InMemorySaver()
    )
    config: dict[str, Any] = {"configurable": {"thread_id": "t1"}}
    context = TurnContext(scope=CustomerScope.customer(JANE), conversation_id="t1", language="fr")

    agent.invoke({"messages": [("user", "mettez ma commande en attente")]}, config, context=context)
    (interrupt,) = agent.get_state(config).interrupts
    (request,) = interrupt.value["action_requests"]
    assert request["description"] == f"mettre la commande {PENDING_ORDER} en attente"
    assert status_of(store, PENDING_ORDER) == "pending"  # nothing runs before the yes

    state = agent.invoke(Command(resume={"decisions": [{"type": "approve"}]}), config, context=context)
    (record,) = tool_trace(state["messages"], toolkit.kinds())
    assert (record.name, record.ok, record.kind) == ("hold_pending_order", True, "write")
    assert status_of(store, PENDING_ORDER) == ON_HOLD


def test_a_declined_write_is_traced_as_rejected_and_changes_nothing(
    toolkit: Toolkit, store: ShopStore, tmp_path: Path
) -> None:
    call = {
        "name": "hold_pending_order",
        "args": {"order_id": PENDING_ORDER},
        "id": "call_1",
        "type": "tool_call",
    }
    model = ScriptedModel(script=[AIMessage(content="", tool_calls=[call]), AIMessage(content="OK.")])
    settings = Settings(data_dir=tmp_path / "parley", _env_file=None)  # type: ignore[call-arg]
    agent = build_agent(
        settings, offline_model=model, toolkit=toolkit, guard=None, checkpointer=InMemorySaver()
    )
    config: dict[str, Any] = {"configurable": {"thread_id": "t2"}}
    context = TurnContext(scope=CustomerScope.customer(JANE), conversation_id="t2")
    agent.invoke({"messages": [("user", "hold my order")]}, config, context=context)
    state = agent.invoke(Command(resume={"decisions": [{"type": "reject"}]}), config, context=context)
    (record,) = tool_trace(state["messages"], toolkit.kinds())
    assert (record.ok, record.rejected, record.kind) == (False, True, "write")
    assert status_of(store, PENDING_ORDER) == "pending"
