"""Customer turns run in the API's own pool: at most `effective_turn_threads` at once, the rest wait."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.service import SupportService
from assistant.turn import TurnResult
from knowledge.settings import Settings
from tests.api.helpers import make_settings, parse_sse, start

pytestmark = pytest.mark.slow


class CountingService(SupportService):
    """The real service (same parts), counting the turns that run at the same moment."""

    def __init__(self, settings: Settings, parts: Any) -> None:
        super().__init__(settings, parts)
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def customer_turn(
        self, conversation_id: str, text: str, on_token: Any = None, action_id: Any = None
    ) -> TurnResult:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.2)  # long enough for the other requests to arrive while this one runs
            return super().customer_turn(conversation_id, text, on_token=on_token, action_id=action_id)
        finally:
            with self._lock:
                self.running -= 1


@pytest.mark.parametrize("stream", [True, False])
def test_turns_beyond_the_pool_wait_and_all_are_answered(
    api_settings: Settings, service: SupportService, stream: bool
) -> None:
    settings = make_settings(api_settings.data_dir, turn_threads=2)
    counting = CountingService(settings, service.parts)
    with TestClient(create_app(settings, service=counting)) as client:
        conversations = [start(client) for _ in range(6)]

        def send(conversation: tuple[str, dict[str, str]]) -> dict[str, Any]:
            conversation_id, headers = conversation
            accept = "text/event-stream" if stream else "application/json"
            response = client.post(
                f"/v1/conversations/{conversation_id}/messages",
                json={"text": "How do I return an item?"},
                headers={**headers, "Accept": accept},
            )
            assert response.status_code == 200, response.text
            if stream:
                events = parse_sse(response.text)
                assert events[-1][0] == "final"
                return events[-1][1]
            result: dict[str, Any] = response.json()
            return result

        with ThreadPoolExecutor(6) as requests:
            finals = list(requests.map(send, conversations))
    assert counting.most == 2  # never more than the pool, and the pool was used in full
    assert all(f["reply"] and f["language"] == "en" for f in finals)


def test_turn_threads_default_follows_cores_and_the_model() -> None:
    offline = Settings(_env_file=None, llm_provider="offline")  # type: ignore[call-arg]
    remote = Settings(_env_file=None, llm_provider="openai", model_concurrency=4)  # type: ignore[call-arg]
    fixed = Settings(_env_file=None, llm_provider="offline", turn_threads=3)  # type: ignore[call-arg]
    assert offline.effective_turn_threads >= 2
    assert remote.effective_turn_threads == offline.effective_turn_threads + 4  # they mostly wait on I/O
    assert fixed.effective_turn_threads == 3
