"""`parley chat` (script parsing, JSON lines on the sample shop and on the imported τ² retail shop) and
`parley demo --no-serve`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.chat_cli import ScriptError, parse_script
from assistant.cli import app
from assistant.shop.generator import DEMO_DELIVERED_ORDER_ID, DEMO_USER_ID
from tests.assistant.conftest import SampleDesk
from tests.assistant.openai_stub import StubReply, start_stub_server

runner = CliRunner()
SECRET = "the-shops-secret-of-at-least-32-bytes"  # HS256 wants 32+ bytes
TURN_KEYS = {
    "turn",
    "text",
    "reply",
    "citations",
    "tool_calls",
    "status",
    "handover",
    "awaiting_confirmation",
    "latency_ms",
}


# --- script parsing (no model, no database) ---------------------------------------------------------
def test_parse_script_reads_identity_and_turns() -> None:
    script = parse_script(['{"user_id": "u1"}', "", '{"text": "hi"}', '{"text": "bye"}'], 100)
    assert (script.user_id, script.customer_token, script.texts) == ("u1", None, ["hi", "bye"])
    assert parse_script(['{"customer_token": "t.sig"}', '{"text": "hi"}'], 100).customer_token == "t.sig"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"text": "hi"}', "{not json"], "line 2: not valid JSON"),
        (['{"text": "hi"}', '{"txt": "hi"}'], "line 2: missing 'text'"),
        (['{"text": "   "}'], "line 1: 'text' is empty"),
        (['{"text": 42}'], "line 1: 'text' must be a string"),
        (['["hi"]'], "line 1: expected a JSON object"),
        (['{"text": "' + "x" * 11 + '"}'], "line 1: 'text' has 11 characters, more than the limit of 10"),
        (['{"text": "hi"}', '{"user_id": "u1"}'], "line 2: 'user_id' must be the first line"),
        (['{"user_id": "u1", "customer_token": "t"}'], "line 1: give either"),
        (['{"user_id": ""}', '{"text": "hi"}'], "line 1: 'user_id' must be a non-empty string"),
        (['{"user_id": "u1"}'], "no customer turns"),
        ([], "no customer turns"),
    ],
)
def test_parse_script_names_the_bad_line(lines: list[str], message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        parse_script(lines, 10)


def write_script(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    return path


def json_turns(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_bad_script_exits_non_zero_naming_the_line(tmp_path: Path, settings: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("PARLEY_DATA_DIR", str(settings.data_dir))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi"}\n{"text": ""}\n', encoding="utf-8")
    result = runner.invoke(app, ["chat", "--script", str(bad), "--json"])
    assert result.exit_code == 2
    assert "line 2: 'text' is empty" in result.output
    missing = runner.invoke(app, ["chat", "--script", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert runner.invoke(app, ["chat", "--script", str(binary)]).exit_code == 2
    assert runner.invoke(app, ["chat", "--provider", "gpt5", "--script", str(bad)]).exit_code == 2


def test_oversized_message_is_refused_before_any_turn(
    tmp_path: Path, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PARLEY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARLEY_MAX_MESSAGE_CHARS", "50")
    script = write_script(tmp_path / "s.jsonl", [{"text": "hi"}, {"text": "y" * 51}])
    result = runner.invoke(app, ["chat", "--script", str(script), "--json"])
    assert result.exit_code == 2 and "line 2" in result.output and "limit of 50" in result.output
    assert not json_turns(result.stdout)  # checked before the first turn


def test_forged_or_expired_customer_token_is_refused(tmp_path: Path, settings: Any, monkeypatch: Any) -> None:
    from assistant.identity.tokens import issue_customer_token

    monkeypatch.setenv("PARLEY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("PARLEY_CUSTOMER_TOKEN_SECRET", SECRET)
    for token, reason in [
        (
            issue_customer_token(DEMO_USER_ID, "someone-elses-secret-of-32-bytes-or-more"),
            "signature is invalid",
        ),
        (issue_customer_token(DEMO_USER_ID, SECRET, ttl=1, now=1_000_000), "expired"),
        ("not-a-token", "malformed"),
    ]:
        script = write_script(tmp_path / "s.jsonl", [{"customer_token": token}, {"text": "hi"}])
        result = runner.invoke(app, ["chat", "--script", str(script), "--json"])
        assert result.exit_code == 2 and "line 1: customer token" in result.output and reason in result.output
        assert not json_turns(result.stdout)


# --- real turns -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_script_on_the_sample_shop_prints_one_json_line_per_turn(
    sample_desk: SampleDesk, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PARLEY_DATA_DIR", str(sample_desk.settings.data_dir))
    monkeypatch.setenv("PARLEY_LLM_PROVIDER", "offline")
    sample_desk.reset_shop()
    script = write_script(
        tmp_path / "s.jsonl",
        [
            {"user_id": DEMO_USER_ID},
            {"text": f"where is order {DEMO_DELIVERED_ORDER_ID}?"},
            {"text": "how long does shipping take?"},
        ],
    )
    result = runner.invoke(app, ["chat", "--script", str(script), "--json"])
    assert result.exit_code == 0, result.output
    status, knowledge = json_turns(result.stdout)
    assert set(status) == TURN_KEYS and status["turn"] == 1 and status["status"] == "bot"
    assert "delivered" in status["reply"] and DEMO_DELIVERED_ORDER_ID in status["reply"]
    lookup = next(c for c in status["tool_calls"] if c["name"] == "get_order_details")
    assert set(lookup) == {"name", "arguments", "ok", "output", "error"}
    assert lookup["ok"] and lookup["arguments"] == {"order_id": DEMO_DELIVERED_ORDER_ID}
    assert knowledge["turn"] == 2 and knowledge["citations"]
    # Articles cite their page; a row of the FAQ table (faq.csv) has no page of its own.
    assert all(
        (c["url"] or "").startswith("https://help.mapleandmoss.example/")
        or (not c["url"] and c["article_id"].startswith("faq-"))
        for c in knowledge["citations"]
    )
    assert any(c["url"] for c in knowledge["citations"])

    unknown = write_script(tmp_path / "u.jsonl", [{"user_id": "nobody_0000"}, {"text": "hi"}])
    refused = runner.invoke(app, ["chat", "--script", str(unknown)])
    assert refused.exit_code == 2 and "no customer with user id 'nobody_0000'" in refused.output


@pytest.mark.slow
def test_rich_output_for_a_customer_signed_in_by_token(
    sample_desk: SampleDesk, tmp_path: Path, monkeypatch: Any
) -> None:
    from assistant.identity.tokens import issue_customer_token

    monkeypatch.setenv("PARLEY_DATA_DIR", str(sample_desk.settings.data_dir))
    monkeypatch.setenv("PARLEY_LLM_PROVIDER", "offline")
    monkeypatch.setenv("PARLEY_CUSTOMER_TOKEN_SECRET", SECRET)
    monkeypatch.setenv("COLUMNS", "400")
    sample_desk.reset_shop()
    token = issue_customer_token(DEMO_USER_ID, SECRET)
    script = write_script(
        tmp_path / "s.jsonl",
        [
            {"customer_token": token},
            {"text": f"where is order {DEMO_DELIVERED_ORDER_ID}?"},
            {"text": "how long does shipping take?"},
        ],
    )
    result = runner.invoke(app, ["chat", "--script", str(script)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f'tool get_order_details({{"order_id": "{DEMO_DELIVERED_ORDER_ID}"}}) -> ok' in out  # signed in
    assert "delivered" in out and "tool search_help_center(" in out
    assert "https://help.mapleandmoss.example/articles/shipping-times" in out
    assert "(bot," in out


@pytest.mark.slow
def test_provider_flag_uses_the_openai_endpoint(
    sample_desk: SampleDesk, tmp_path: Path, monkeypatch: Any
) -> None:
    received: list[dict[str, Any]] = []
    base_url, stop = start_stub_server([StubReply(content="Hello from the stub model.")], received)
    try:
        monkeypatch.setenv("PARLEY_DATA_DIR", str(sample_desk.settings.data_dir))
        monkeypatch.setenv("PARLEY_LLM_PROVIDER", "offline")
        monkeypatch.setenv("PARLEY_LLM_BASE_URL", base_url)
        monkeypatch.setenv("PARLEY_LLM_MAX_RETRIES", "0")
        script = write_script(tmp_path / "s.jsonl", [{"text": "hello"}])
        result = runner.invoke(app, ["chat", "--provider", "openai", "--script", str(script), "--json"])
    finally:
        stop()
    assert result.exit_code == 0, result.output
    (turn,) = json_turns(result.stdout)
    assert turn["reply"] == "Hello from the stub model." and len(received) == 1


@pytest.mark.slow
def test_script_on_the_imported_tau2_retail_shop(
    tau2_retail_db_path: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path / "tau2"))
    monkeypatch.setenv("PARLEY_LLM_PROVIDER", "offline")
    imported = runner.invoke(
        app, ["import-orders", str(tau2_retail_db_path), "--format", "tau2", "--no-index"]
    )
    assert imported.exit_code == 0, imported.output
    db = json.loads(tau2_retail_db_path.read_text(encoding="utf-8"))
    user = next(u for u in db["users"].values() if u["orders"])
    order_id = user["orders"][0]
    name = f"{user['name']['first_name']} {user['name']['last_name']}"
    script = write_script(
        tmp_path / "t.jsonl",
        [{"text": f"Hi, I'm {name}, zip {user['address']['zip']}. What's the status of order {order_id}?"}],
    )
    result = runner.invoke(app, ["chat", "--script", str(script), "--json"])
    assert result.exit_code == 0, result.output
    (turn,) = json_turns(result.stdout)
    ran = {c["name"]: c for c in turn["tool_calls"]}
    assert ran["find_user_id_by_name_zip"]["output"] == user["user_id"]
    assert ran["get_order_details"]["ok"] and ran["get_order_details"]["arguments"] == {"order_id": order_id}
    assert order_id in turn["reply"] and db["orders"][order_id]["status"] in turn["reply"]


@pytest.mark.slow
def test_demo_no_serve_builds_once_and_prints_the_how_to(tmp_path: Path, monkeypatch: Any) -> None:
    import ui.demo
    from assistant.shop.generator import DEMO_PENDING_ORDER_ID, DEMO_USER_EMAIL

    monkeypatch.setenv("PARLEY_DATA_DIR", str(tmp_path / "demo"))
    # Two articles instead of the whole help centre: the same code path, a fraction of the embedding.
    articles = [ui.demo.SAMPLE_DATA / "help_center" / f for f in ("shipping-times.md", "cancel-order.md")]
    monkeypatch.setattr(ui.demo, "sample_sources", lambda: articles)
    first = runner.invoke(app, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "Generated Maple & Moss" in first.output and "2 articles added" in first.output
    assert DEMO_USER_EMAIL in first.output and DEMO_PENDING_ORDER_ID in first.output
    second = runner.invoke(app, ["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert "Sample shop already loaded" in second.output
    assert "0 articles added, 0 updated" in second.output  # nothing embedded again
