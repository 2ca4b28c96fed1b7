"""The tools as LangChain StructuredTools: READ/WRITE in tags and metadata, results as content + artifact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage
from pydantic import BaseModel

from assistant.shop.store import ShopStore
from assistant.tools import CustomerScope, Toolkit
from assistant.tools.replay import SqliteTemplate
from tests.assistant.tools.shop_factory import make_shop


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ShopStore]:
    template = SqliteTemplate.build(make_shop(), tmp_path / "template.db")
    with template.fresh_store(tmp_path / "shop.db") as fresh:
        yield fresh


def test_tools_carry_their_kind_and_schema(store: ShopStore) -> None:
    tools = {tool.name: tool for tool in Toolkit(store).langchain_tools(CustomerScope.customer())}
    assert "search_help_center" not in tools  # no index given
    assert {name for name, tool in tools.items() if tool.tags == ["write"]} == Toolkit(store).write_names
    assert tools["cancel_pending_order"].metadata == {"kind": "write", "hands_over": False}
    assert tools["transfer_to_human_agents"].metadata == {"kind": "read", "hands_over": True}
    schema = tools["modify_pending_order_items"].tool_call_schema
    assert isinstance(schema, type) and issubclass(schema, BaseModel)
    assert set(schema.model_json_schema()["required"]) == {
        "order_id",
        "item_ids",
        "new_item_ids",
        "payment_method_id",
    }


def test_tool_calls_share_the_scope_and_write_through_the_store(store: ShopStore) -> None:
    scope = CustomerScope.customer()
    tools = {tool.name: tool for tool in Toolkit(store).langchain_tools(scope)}

    def call(name: str, args: dict[str, object]) -> ToolMessage:
        message = tools[name].invoke({"type": "tool_call", "id": f"call-{name}", "name": name, "args": args})
        assert isinstance(message, ToolMessage)
        return message

    refused = call("get_order_details", {"order_id": "#W0000001"})
    assert str(refused.content).startswith("Error: Authenticate first") and refused.artifact["ok"] is False
    assert call("find_user_id_by_email", {"email": "jane_doe_1@example.com"}).content == "jane_doe_1"
    assert scope.user_id == "jane_doe_1"
    cancelled = call("cancel_pending_order", {"order_id": "#W0000001", "reason": "ordered by mistake"})
    assert cancelled.artifact["ok"] and cancelled.artifact["kind"] == "write"
    assert '"status": "cancelled"' in cancelled.content
    with store.transaction() as shop:
        order = shop.get_order("#W0000001")
    assert order is not None and order.status == "cancelled"
    handover = call("transfer_to_human_agents", {"summary": "asks for a person"})
    assert handover.content == "Transfer successful" and handover.artifact["handover"] is True


def test_unknown_tool_names_are_refused(store: ShopStore) -> None:
    with pytest.raises(ValueError, match="unknown tools: nope"):
        Toolkit(store).langchain_tools(CustomerScope.customer(), names=["nope"])
