"""`parley chat` (talk to the assistant in a terminal, or play a script of customer turns) .

Script files (`parley chat --script FILE.jsonl`) hold one JSON object per line:

    {"customer_token": "..."}     optional first line: the signed token the shop's backend issued
                                  (`parley issue-token USER_ID` mints one with settings.customer_token_secret)
    {"user_id": "emma_laurent_1001"}  optional first line instead: a TRUSTED customer id, for scripts run
                                  by the operator on their own machine (nobody else can reach this command)
    {"text": "where is my order?"}  one line per customer turn

Blank lines are skipped. Every line is checked before the first turn runs, so a bad script changes nothing.
With --json each turn prints one JSON line: turn, text, reply, citations, tool_calls, status, handover,
awaiting_confirmation, latency_ms.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from knowledge.jsonl import JsonLineError, json_lines

if TYPE_CHECKING:
    from rich.console import Console

    from assistant.service import SupportService, TurnResult
    from assistant.store.conversations import Conversation
    from knowledge.settings import Settings

PROVIDERS = ("offline", "openai")
EXIT_WORDS = {"quit", "exit", "bye", "/quit", "/exit"}


class ScriptError(ValueError):
    """A script line the chat cannot play; the message names the line."""


@dataclass
class ChatScript:
    texts: list[str] = field(default_factory=list)
    user_id: str | None = None  # trusted id from a {"user_id": ...} line
    customer_token: str | None = None  # signed token from a {"customer_token": ...} line


def parse_script(lines: Iterable[str], max_message_chars: int) -> ChatScript:
    """Read a chat script (see the module doc); raise ScriptError naming the first bad line."""
    script = ChatScript()
    seen_turn = False
    try:
        entries = list(json_lines(lines))
    except JsonLineError as exc:
        raise ScriptError(f"line {exc.line}: not valid JSON ({exc.reason})") from None
    for number, entry in entries:
        if not isinstance(entry, dict):
            raise ScriptError(f"line {number}: expected a JSON object, got {type(entry).__name__}")
        identity = {"user_id", "customer_token"} & entry.keys()
        if identity and "text" not in entry:
            if seen_turn or script.user_id or script.customer_token:
                key = sorted(identity)[0]
                raise ScriptError(f"line {number}: {key!r} must be the first line of the script")
            if len(identity) > 1:
                raise ScriptError(f"line {number}: give either 'user_id' or 'customer_token', not both")
            key = identity.pop()
            value = entry[key]
            if not isinstance(value, str) or not value.strip():
                raise ScriptError(f"line {number}: {key!r} must be a non-empty string")
            setattr(script, key, value.strip())
            continue
        if "text" not in entry:
            raise ScriptError(f"line {number}: missing 'text'")
        text = entry["text"]
        if not isinstance(text, str):
            raise ScriptError(f"line {number}: 'text' must be a string, got {type(text).__name__}")
        if not text.strip():
            raise ScriptError(f"line {number}: 'text' is empty")
        if len(text) > max_message_chars:
            raise ScriptError(
                f"line {number}: 'text' has {len(text)} characters, "
                f"more than the limit of {max_message_chars}"
            )
        script.texts.append(text)
        seen_turn = True
    if not script.texts:
        raise ScriptError('the script has no customer turns (lines like {"text": "..."})')
    return script


def verify_customer_token(token: str, settings: Settings) -> str:
    """The user id inside a signed customer token (assistant.identity.tokens checks signature and expiry)."""
    from assistant.identity.tokens import InvalidCustomerToken
    from assistant.identity.tokens import verify_customer_token as verify

    try:
        return verify(token, settings.customer_token_secret, settings.customer_token_max_lifetime_s)
    except InvalidCustomerToken as exc:
        raise ScriptError(f"line 1: {exc}") from None


def turn_record(number: int, text: str, result: TurnResult) -> dict[str, Any]:
    """One turn as the JSON line `parley chat --json` prints."""
    return {
        "turn": number,
        "text": text,
        "reply": result.reply,
        "citations": [c.model_dump() for c in result.citations],
        "tool_calls": [
            call.model_dump(mode="json", include={"name", "arguments", "ok", "output", "error"})
            for call in result.tool_calls
        ],
        "status": result.status.value,
        "handover": result.handover,
        "awaiting_confirmation": result.awaiting_confirmation,
        "latency_ms": round(result.latency_ms, 1),
    }


def chat_settings(provider: str | None) -> Settings:
    from knowledge.settings import Settings

    settings = Settings()  # read here, not cached: one command, one read of the environment
    if provider is None:
        return settings
    if provider not in PROVIDERS:
        raise _fail(f"--provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")
    if provider == "openai" and not (settings.llm_base_url or settings.llm_api_key):
        raise _fail(
            "--provider openai needs PARLEY_LLM_BASE_URL (an OpenAI-compatible server) or PARLEY_LLM_API_KEY"
        )
    return settings.model_copy(update={"llm_provider": provider})


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _check_user(settings: Settings, user_id: str) -> None:
    from assistant.shop.store import ShopStore

    store = ShopStore(str(settings.database_url))
    store.migrate()
    with store.transaction() as shop:
        if shop.get_user(user_id) is None:
            raise _fail(f"no customer with user id {user_id!r} in this shop")


# --- rich output ---------------------------------------------------------------------------------
def _short(value: Any, limit: int = 90) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def print_turn(console: Console, result: TurnResult) -> None:
    """Reply, then citations with urls, one dim line per tool call, and the status."""
    from rich.markup import escape

    for call in result.tool_calls:
        outcome = {True: "ok", False: "failed", None: "waiting for your yes"}.get(call.ok, "?")
        detail = f" - {_short(call.error, 60)}" if call.error else ""
        console.print(
            f"[dim]  tool {escape(call.name)}({escape(_short(call.arguments, 70))}) "
            f"-> {outcome}{escape(detail)}[/dim]",
            highlight=False,
        )
    if result.reply is not None:
        console.print(f"[bold green]assistant>[/bold green] {escape(result.reply)}", highlight=False)
    for citation in result.citations:
        console.print(
            f"  [cyan][{citation.ref}][/cyan] "
            f"{escape(str(citation.title or citation.article_id))}"
            f" [dim]{escape(str(citation.url or ''))}[/dim]",
            highlight=False,
        )
    status = f"{result.status.value}, {result.latency_ms:.0f} ms, {result.provider}"
    if result.awaiting_confirmation:
        status += ", waiting for your yes or no"
    if result.handover:
        status += ", handed over to a person (the assistant stays silent now)"
    elif result.reply is None:
        status += ", a person has this conversation"
    console.print(f"[dim]  ({status})[/dim]", highlight=False)


class WarmService:
    """The service built and warmed (models, intents, index) in a background thread, so the prompt shows at
    once and the customer types while it loads; the first message waits for it if it is not ready yet."""

    def __init__(self, settings: Settings, user_id: str | None) -> None:
        self._result: tuple[SupportService, Conversation] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._build, args=(settings, user_id), daemon=True)
        self._thread.start()

    def _build(self, settings: Settings, user_id: str | None) -> None:
        try:
            from assistant.service import SupportService

            service = SupportService(settings)
            conversation, _ = service.start_conversation(channel="cli", user_id=user_id)
            _ = service.parts.agent
            service.parts.planner.intents.classify("hello")
            with suppress(Exception):  # a damaged index is reported by the turn that needs it
                service.help_center.index.warm()
            self._result = (service, conversation)
        except BaseException as exc:  # handed to the caller of get()
            self._error = exc

    def get(self) -> tuple[SupportService, Conversation]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def interactive_chat(settings: Settings, user_id: str | None, console: Console) -> None:
    console.print(
        f"[bold]{settings.shop_name}[/bold] assistant ({settings.effective_llm_provider} provider). "
        "Type your message; 'quit' or Ctrl-D ends.",
        highlight=False,
    )
    warm: WarmService | None = None
    limit = settings.max_message_chars
    while True:
        try:
            console.print("[bold]you>[/bold] ", end="")
            console.file.flush()
            # Started once the prompt shows: its imports would otherwise compete with the prompt's.
            warm = warm or WarmService(settings, user_id)
            text = input()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if text.strip().lower() in EXIT_WORDS:
            return
        if not text.strip():
            continue
        if len(text) > limit:
            console.print(f"[red]That message has {len(text)} characters; the limit is {limit}.[/red]")
            continue
        with console.status("thinking...", spinner="dots"):
            service, conversation = warm.get()
            result = service.customer_turn(conversation.id, text)
        print_turn(console, result)


def play_script(
    service: SupportService, script: ChatScript, user_id: str | None, as_json: bool, console: Console
) -> None:
    conversation, _ = service.start_conversation(channel="cli", user_id=user_id)
    for number, text in enumerate(script.texts, start=1):
        result = service.customer_turn(conversation.id, text)
        if as_json:
            typer.echo(json.dumps(turn_record(number, text, result), ensure_ascii=False, default=str))
        else:
            from rich.markup import escape

            console.print(f"[bold]you>[/bold] {escape(text)}", highlight=False)
            print_turn(console, result)


# --- commands ------------------------------------------------------------------------------------
def chat(
    script_path: Annotated[
        Path | None, typer.Option("--script", help="Play customer turns from a JSONL file instead of asking.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="With --script: one JSON line per turn.")] = False,
    provider: Annotated[
        str | None, typer.Option("--provider", help="offline or openai (default: from settings).")
    ] = None,
    user_id: Annotated[
        str | None,
        typer.Option("--user-id", help="Chat as this customer (trusted: for the operator's own testing)."),
    ] = None,
) -> None:
    """Chat with the assistant in the terminal, or play a script of customer turns."""
    from rich.console import Console

    settings = chat_settings(provider)
    script: ChatScript | None = None
    if script_path is not None:
        try:
            with script_path.open(encoding="utf-8") as handle:
                script = parse_script(handle, settings.max_message_chars)
        except OSError as exc:
            raise _fail(f"cannot read {script_path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise _fail(f"{script_path} is not UTF-8 text") from None
        except ScriptError as exc:
            raise _fail(f"{script_path}: {exc}") from None
        if script.customer_token is not None:
            try:
                user_id = verify_customer_token(script.customer_token, settings)
            except ScriptError as exc:
                raise _fail(f"{script_path}: {exc}") from None
        elif script.user_id is not None:
            user_id = script.user_id
    elif as_json:
        raise _fail("--json needs --script FILE.jsonl")

    if user_id is not None:
        _check_user(settings, user_id)
    console = Console(highlight=False)
    if script is None:
        interactive_chat(settings, user_id, console)
    else:
        from assistant.service import SupportService

        play_script(SupportService(settings), script, user_id, as_json, console)


def register(app: typer.Typer) -> None:
    """Add this package's commands to `parley`."""
    app.command("chat")(chat)
