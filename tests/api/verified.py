"""A real API under the verified identity policy, on its own copy of the prepared sample shop, with a real
SMTP server on loopback (aiosmtpd, ui/outbox.py) receiving the sign-in codes. Shared by the code-flow API
tests and the red-team suite (tests/security)."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.service import SupportService
from knowledge.settings import Settings
from tests.api.helpers import make_settings
from ui.outbox import DevOutbox, SentMail

CODE_IN_MAIL = re.compile(r"\b(\d{6})\b")


@dataclass
class VerifiedApi:
    client: TestClient
    service: SupportService
    settings: Settings
    outbox: DevOutbox

    def mails_to(self, email: str) -> list[SentMail]:
        return [m for m in self.outbox.recent() if m.to.lower() == email.lower()]

    def code_for(self, email: str, timeout_s: float = 10.0) -> str:
        """The newest code mailed to this address (the SMTP server receives it synchronously; the wait only
        covers the sink's own thread)."""
        deadline = time.monotonic() + timeout_s
        while True:
            mails = self.mails_to(email)
            if mails:
                found = CODE_IN_MAIL.search(mails[0].body)
                assert found, mails[0].body
                return found.group(1)
            assert time.monotonic() < deadline, f"no code mailed to {email}"
            time.sleep(0.05)


@contextmanager
def verified_api(prepared_dir: Path, copy_to: Path, **overrides: Any) -> Iterator[VerifiedApi]:
    """The API on a private copy of the prepared data dir (its writes touch no other test's shop)."""
    data_dir = copy_to / "data"
    shutil.copytree(prepared_dir, data_dir)
    outbox = DevOutbox().start()
    try:
        settings = make_settings(
            data_dir,
            identity_policy="verified",
            smtp_host="127.0.0.1",
            smtp_port=outbox.port,
            smtp_starttls=False,
            email_address="help@shop.test",
            **overrides,
        )
        service = SupportService(settings)
        with TestClient(create_app(settings, service=service)) as client:
            yield VerifiedApi(client, service, settings, outbox)
    finally:
        outbox.stop()
