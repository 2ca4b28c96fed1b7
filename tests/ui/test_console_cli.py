"""`parley console`: options, clear errors for bad input, the streamlit command it runs."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from ui import cli as console_cli
from ui.console_client import AgentApiClient, AuthError, ConsoleError

runner = CliRunner()


def test_console_is_registered_with_its_options() -> None:
    result = runner.invoke(app, ["console", "--help"])
    assert result.exit_code == 0
    for option in ("--api-url", "--port", "--refresh"):
        assert option in result.output
    assert "--agent-key" not in result.output  # agents sign in in the browser


def test_bad_api_url_is_a_clear_error() -> None:
    result = runner.invoke(app, ["console", "--api-url", "ftp://x"])
    assert result.exit_code == 2
    assert "http://" in result.output


def test_console_runs_streamlit_with_no_key_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    class Done:
        returncode = 0

    def fake_run(command: list[str], env: dict[str, str], check: bool) -> Done:
        seen.update(command=command, env=env)
        return Done()

    monkeypatch.setenv("PARLEY_AGENT_KEY", "leftover-secret-key")
    monkeypatch.setattr(console_cli.subprocess, "run", fake_run)
    result = runner.invoke(app, ["console", "--api-url", "http://api:8000/", "--port", "8600"])
    assert result.exit_code == 0, result.output
    command = seen["command"]
    assert isinstance(command, list) and command[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert command[4].endswith("ui/console.py") and "8600" in command
    env = seen["env"]
    assert isinstance(env, dict)
    assert "PARLEY_AGENT_KEY" not in env  # the key never reaches the console process
    assert "leftover-secret-key" not in " ".join(command) + " ".join(env.values())
    assert env["PARLEY_API_URL"] == "http://api:8000"


@pytest.mark.parametrize(
    ("url", "key", "error"),
    [
        ("127.0.0.1:8000", "k", ConsoleError),
        ("http://x", "", AuthError),
        ("http://x", "  ", AuthError),
    ],
)
def test_client_refuses_bad_configuration(url: str, key: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        AgentApiClient(url, key)


def test_client_validates_ids_and_choices() -> None:
    with AgentApiClient("http://127.0.0.1:9", "k") as client:
        with pytest.raises(ValueError, match="conversation id"):
            client.claim("")
        with pytest.raises(ValueError, match="conversation id"):
            client.conversation("x" * 500)
        with pytest.raises(ValueError, match="choice"):
            client.decide_suggestion("c", 1, "maybe")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="too long"):
            client.send_message("c", "x" * 30_000)
