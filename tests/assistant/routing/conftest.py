"""A desk on a real database (SQLite in tmp, or PostgreSQL) with a clock the test moves."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assistant.routing.directory import AgentSpec, TeamSpec
from assistant.routing.router import Router
from assistant.store.conversations import ConversationStore
from assistant.store.models import MessageRole
from knowledge.settings import Settings

T0 = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)  # a Monday


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Desk:
    store: ConversationStore
    router: Router
    clock: Clock
    settings: Settings
    ips: int = 0

    def team(self, team_id: str, **fields: Any) -> None:
        self.router.directory.save_team(TeamSpec(id=team_id, name=team_id.title(), **fields))

    def agent(
        self, name: str, capacity: int = 2, teams: tuple[str, ...] = (), status: str = "online", **fields: Any
    ) -> None:
        self.router.directory.save_agent(AgentSpec(name=name, capacity=capacity, teams=list(teams), **fields))
        self.router.set_status(name, status)

    def conversation(
        self,
        text: str = "I want to talk to a person",
        *,
        user_id: str | None = None,
        ip: str | None = None,
        language: str = "en",
    ) -> str:
        """A conversation with one customer message; each from its own IP unless `ip` says otherwise."""
        conversation, _ = self.store.create_conversation(user_id=user_id, language=language)
        self.ips += 1
        self.router.record_origin(conversation.id, ip or f"198.51.100.{self.ips}")
        self.store.add_message(conversation.id, MessageRole.CUSTOMER, text)
        return conversation.id

    def hand_over(
        self, cid: str, trigger: str = "explicit_request", severity: float = 0.5, language: str = "en"
    ) -> Any:
        decision = {
            "takeover": True,
            "trigger": trigger,
            "severity": severity,
            "language": language,
            "reason": f"{trigger} in a test",
        }
        return self.router.hand_over(cid, decision, language)

    def waiting(self, text: str = "I want to talk to a person", **kwargs: Any) -> str:
        trigger = kwargs.pop("trigger", "explicit_request")
        severity = kwargs.pop("severity", 0.5)
        cid = self.conversation(text, **kwargs)
        self.hand_over(cid, trigger, severity, kwargs.get("language", "en"))
        return cid


def make_desk(
    settings: Settings, database_url: str | None = None, notifier: Any = None, **overrides: Any
) -> Desk:
    settings = settings.model_copy(
        update={"database_url": database_url or settings.database_url, **overrides}
    )
    store = ConversationStore(str(settings.database_url))
    store.migrate()
    clock = Clock()
    router = Router(settings, notifier=notifier, clock=clock)
    return Desk(store, router, clock, settings)


@pytest.fixture
def desk(settings: Settings) -> Desk:
    return make_desk(settings)


@dataclass
class Webhook:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A real HTTP server on 127.0.0.1 that records the JSON bodies POSTed to it."""
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hook.received.append(
                {"path": self.path, "json": json.loads(body), "type": self.headers["Content-Type"]}
            )
            self.send_response(hook.status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/lead"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
