"""Replaying τ²'s gold actions: all 114 retail tasks run to the end; exactly the reviewed calls fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.tools import Toolkit
from assistant.tools.replay import (
    ReplayInputError,
    SqliteTemplate,
    load_shop_data,
    load_tasks,
    parse_tool_calls,
    replay_calls,
)
from tests.conftest import TAU2_RETAIL_DB, TAU2_RETAIL_TASKS, require_or_skip

WRITE_TOOLS = Toolkit(None).write_names

# Every gold call that the policy must refuse, reviewed one by one: (task id, action id) -> (tool, error).
EXPECTED_REFUSALS: dict[tuple[str, str], tuple[str, str]] = {
    # The user gives an item id where a product id is asked ("Product ID and Item ID ... should not be
    # confused"): 6086499569 is a variant of another product, not a product.
    ("2", "2_1"): ("get_product_details", "Product not found"),
    ("3", "3_1"): ("get_product_details", "Product not found"),
    ("4", "4_1"): ("get_product_details", "Product not found"),
    # A mistyped email (aarav.santos8321 / daikisanchez1479 / silva7872): no such user; the next gold
    # call finds the customer another way.
    ("35", "35_0"): ("find_user_id_by_email", "User not found"),
    ("37", "37_0"): ("find_user_id_by_email", "User not found"),
    ("38", "38_0"): ("find_user_id_by_email", "User not found"),
    ("54", "54_0"): ("find_user_id_by_email", "User not found"),
    ("55", "55_0"): ("find_user_id_by_email", "User not found"),
    # Name + a wrong zip: Fatima Taylor lives in 43224 or 32169, not 85033; Noah Ito in 98187.
    ("39", "39_0"): ("find_user_id_by_name_zip", "User not found"),
    ("67", "67_0"): ("find_user_id_by_name_zip", "User not found"),
    ("67", "67_1"): ("find_user_id_by_name_zip", "User not found"),
    ("68", "68_0"): ("find_user_id_by_name_zip", "User not found"),
    # The user first gives order ids without the '#W' prefix.
    ("46", "46_1"): ("get_order_details", "Order not found"),
    ("46", "46_2"): ("get_order_details", "Order not found"),
    ("47", "47_1"): ("get_order_details", "Order not found"),
    ("47", "47_2"): ("get_order_details", "Order not found"),
    # Exchange asked for an order that is still pending; the next gold call modifies its items instead.
    ("64", "64_6"): ("exchange_delivered_order_items", "Non-delivered order cannot be exchanged"),
    # Two tea kettles exchanged for dearer ones, paid with a gift card holding 17.00 of the 21.10 needed.
    ("105", "106_0"): ("exchange_delivered_order_items", "Insufficient gift card balance"),
}


@pytest.fixture(scope="module")
def tau2_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    require_or_skip(TAU2_RETAIL_DB.exists(), f"τ² retail data not found at {TAU2_RETAIL_DB}")
    return SqliteTemplate.build(
        load_shop_data(TAU2_RETAIL_DB), tmp_path_factory.mktemp("tau2") / "template.db"
    )


@pytest.fixture(scope="module")
def original() -> dict[str, Any]:
    return json.loads(TAU2_RETAIL_DB.read_text())


@pytest.fixture(scope="module")
def replayed(
    tau2_template: SqliteTemplate, tmp_path_factory: pytest.TempPathFactory, original: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Every task on its own fresh copy: its results and the orders/users that ended up different."""
    work = tmp_path_factory.mktemp("tasks")
    out: dict[str, dict[str, Any]] = {}
    for task in load_tasks(TAU2_RETAIL_TASKS):
        calls = parse_tool_calls(task)
        with tau2_template.fresh_store(work / "task.db") as store:
            results = replay_calls(store, calls)
            final = store.export_data().to_tau2()
        out[str(task["id"])] = {
            "calls": calls,
            "results": results,
            "orders": {k: v for k, v in final["orders"].items() if v != original["orders"].get(k)},
            "users": {k: v for k, v in final["users"].items() if v != original["users"].get(k)},
            "products_unchanged": final["products"] == original["products"],
            "order_count": len(final["orders"]),
        }
    return out


@pytest.mark.slow
def test_all_114_tasks_run_to_the_end_and_refuse_exactly_the_reviewed_calls(
    replayed: dict[str, dict[str, Any]],
) -> None:
    assert len(replayed) == 114
    assert sum(len(r["calls"]) for r in replayed.values()) == 550
    refused = {
        (task_id, call.action_id): (result.name, result.error)
        for task_id, r in replayed.items()
        for call, result in zip(r["calls"], r["results"], strict=True)
        if not result.ok
    }
    assert set(refused) == set(EXPECTED_REFUSALS)
    for key, (tool, error_start) in EXPECTED_REFUSALS.items():
        name, error = refused[key]
        assert name == tool and error.startswith(error_start), (key, error)


@pytest.mark.slow
def test_replays_change_only_what_their_successful_writes_touch(
    replayed: dict[str, dict[str, Any]], original: dict[str, Any]
) -> None:
    for task_id, r in replayed.items():
        assert r["products_unchanged"] and r["order_count"] == 1000, task_id
        written_orders = {
            call.arguments["order_id"]
            for call, result in zip(r["calls"], r["results"], strict=True)
            if result.ok and call.name in WRITE_TOOLS and "order_id" in call.arguments
        }
        address_users = {
            call.arguments["user_id"]
            for call, result in zip(r["calls"], r["results"], strict=True)
            if result.ok and call.name == "modify_user_address"
        }
        owners = {original["orders"][order_id]["user_id"] for order_id in written_orders}
        assert set(r["orders"]) == written_orders, task_id
        assert set(r["users"]) <= owners | address_users, task_id


@pytest.mark.slow
def test_spot_checks_of_final_states(replayed: dict[str, dict[str, Any]], original: dict[str, Any]) -> None:
    # Task 0: exchange of keyboard + thermostat: (269.16 + 249.01) - (272.33 + 262.47) = -16.63.
    order = replayed["0"]["orders"]["#W2378156"]
    assert order["status"] == "exchange requested"
    assert order["exchange_items"] == ["1151293680", "4983901480"]
    assert order["exchange_new_items"] == ["7706410293", "7747408585"]
    assert order["exchange_payment_method_id"] == "credit_card_9513926"
    assert order["exchange_price_difference"] == -16.63
    assert order["items"] == original["orders"]["#W2378156"]["items"]  # nothing swapped until returned

    # Task 20: four items modified, the difference (+71.96) paid by gift card (86.00 -> 14.04), and
    # every item carries its own new variant's price (τ² would copy the last one onto all four).
    order = replayed["20"]["orders"]["#W9911714"]
    assert order["status"] == "pending (item modified)"
    assert [(i["item_id"], i["price"]) for i in order["items"]] == [
        ("4579334072", 54.85),
        ("1151293680", 272.33),
        ("4107812777", 155.33),
        ("2882812427", 261.11),
    ]
    assert order["payment_history"][-1] == {
        "transaction_type": "payment",
        "amount": 71.96,
        "payment_method_id": "gift_card_4332117",
    }
    gift_card = replayed["20"]["users"]["ethan_garcia_1261"]["payment_methods"]["gift_card_4332117"]
    assert gift_card["balance"] == 14.04

    # Task 30: a gift-card order cancelled: refund 109.27 recorded and back on the card (44.00 -> 153.27);
    # two returns to that gift card.
    orders = replayed["30"]["orders"]
    assert orders["#W9373487"]["status"] == "cancelled"
    assert orders["#W9373487"]["cancel_reason"] == "no longer needed"
    assert orders["#W9373487"]["payment_history"][-1] == {
        "transaction_type": "refund",
        "amount": 109.27,
        "payment_method_id": "gift_card_7711863",
    }
    assert (
        replayed["30"]["users"]["olivia_lopez_3865"]["payment_methods"]["gift_card_7711863"]["balance"]
        == 153.27
    )
    assert orders["#W7449508"]["status"] == "return requested"
    assert orders["#W7449508"]["return_items"] == ["6477915553"]

    # Task 40: payment moved from one card to another: payment on the new one, refund to the old one.
    order = replayed["40"]["orders"]["#W4923227"]
    assert order["status"] == "pending"
    assert order["payment_history"][1:] == [
        {"transaction_type": "payment", "amount": 321.18, "payment_method_id": "credit_card_8897086"},
        {"transaction_type": "refund", "amount": 321.18, "payment_method_id": "credit_card_8554680"},
    ]

    # Task 46: return of two items (sorted) to the original PayPal account.
    order = replayed["46"]["orders"]["#W9502127"]
    assert (order["status"], order["return_items"], order["return_payment_method_id"]) == (
        "return requested",
        ["6259501109", "9534205511"],
        "paypal_2433177",
    )

    # Task 64: the refused exchange wrote nothing; the modification after it refunds 502.28 - 466.75.
    order = replayed["64"]["orders"]["#W7464385"]
    assert order["status"] == "pending (item modified)"
    assert order["payment_history"][1:] == [
        {"transaction_type": "refund", "amount": 35.53, "payment_method_id": "paypal_1261484"}
    ]
    assert "exchange_items" not in order

    # Task 105: the only write was refused (gift card too small): nothing changed at all.
    assert replayed["105"]["orders"] == {} and replayed["105"]["users"] == {}

    # Task 22: the default address is changed and then changed back; the order's address stays new.
    assert replayed["22"]["users"] == {}
    assert replayed["22"]["orders"]["#W9911714"]["address"]["address1"] == "101 Highway"


# --- input parsing and the CLI ----------------------------------------------------------------------


def test_parse_tool_calls_accepts_the_documented_shapes() -> None:
    call = {"name": "calculate", "arguments": {"expression": "1 + 1"}}
    task = {"id": "7", "evaluation_criteria": {"actions": [call]}}
    assert [c.name for c in parse_tool_calls([call])] == ["calculate"]
    assert [c.name for c in parse_tool_calls(task)] == ["calculate"]
    assert [c.name for c in parse_tool_calls({"actions": [call]})] == ["calculate"]
    assert [c.name for c in parse_tool_calls([task], "7")] == ["calculate"]
    assert parse_tool_calls([]) == []


@pytest.mark.parametrize(
    ("raw", "task_id", "message"),
    [
        ([{"id": "7", "evaluation_criteria": {}}], None, "choose one with --task"),
        ([{"id": "7", "evaluation_criteria": {}}], "8", "no task with id '8'"),
        ([{"name": "calculate"}], "8", "--task needs"),
        ("calculate", None, "expected a list"),
        ([{"arguments": {}}], None, "call 0: name"),
        ([{"name": "x", "arguments": [1]}], None, "call 0: arguments"),
    ],
)
def test_parse_tool_calls_rejects_bad_input_clearly(raw: Any, task_id: str | None, message: str) -> None:
    with pytest.raises(ReplayInputError, match=message):
        parse_tool_calls(raw, task_id)


@pytest.mark.slow
def test_cli_replays_one_task_of_tasks_json(tmp_path: Path) -> None:
    require_or_skip(TAU2_RETAIL_DB.exists(), "τ² retail data missing")
    out = tmp_path / "final.json"
    args = ["replay-actions", "--db", str(TAU2_RETAIL_DB), "--actions", str(TAU2_RETAIL_TASKS)]
    result = CliRunner().invoke(app, [*args, "--task", "105", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(line["name"], line["ok"]) for line in lines] == [("exchange_delivered_order_items", False)]
    assert lines[0]["error"].startswith("Insufficient gift card balance")
    assert json.loads(out.read_text()) == json.loads(TAU2_RETAIL_DB.read_text())  # refused: db unchanged


@pytest.mark.slow
def test_cli_replays_an_actions_list_and_exports_the_final_db(tmp_path: Path) -> None:
    require_or_skip(TAU2_RETAIL_DB.exists(), "τ² retail data missing")
    actions = tmp_path / "actions.json"
    actions.write_text(
        json.dumps(
            [
                {"name": "get_order_details", "arguments": {"order_id": "#W9373487"}},
                {
                    "name": "cancel_pending_order",
                    "arguments": {"order_id": "#W9373487", "reason": "no longer needed"},
                },
                {
                    "name": "cancel_pending_order",
                    "arguments": {"order_id": "#W9373487", "reason": "no longer needed"},
                },
            ]
        )
    )
    out = tmp_path / "final.json"
    result = CliRunner().invoke(
        app, ["replay-actions", "--db", str(TAU2_RETAIL_DB), "--actions", str(actions), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["ok"] for line in lines] == [True, True, False]
    assert lines[2]["error"].startswith("Non-pending order cannot be cancelled")
    final = json.loads(out.read_text())
    assert final["orders"]["#W9373487"]["status"] == "cancelled"
    assert final["users"]["olivia_lopez_3865"]["payment_methods"]["gift_card_7711863"]["balance"] == 153.27


def test_cli_reports_bad_files_with_exit_code_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    runner = CliRunner()
    result = runner.invoke(
        app, ["replay-actions", "--db", str(bad), "--actions", str(bad), "--out", str(tmp_path / "o.json")]
    )
    assert result.exit_code == 2 and "not valid JSON" in result.output
    empty_db = tmp_path / "db.json"
    empty_db.write_text(json.dumps({"products": {}}))
    actions = tmp_path / "a.json"
    actions.write_text("[]")
    result = runner.invoke(
        app,
        [
            "replay-actions",
            "--db",
            str(empty_db),
            "--actions",
            str(actions),
            "--out",
            str(tmp_path / "o.json"),
        ],
    )
    assert result.exit_code == 2 and "missing top-level key(s): users, orders" in result.output
    assert not (tmp_path / "o.json").exists()
