"""The mailbox poller: unseen mail in the IMAP folder -> the inbound log, then marked \\Seen.

IDLE is used when the server offers it (the poller wakes when mail arrives), plain polling otherwise. A
message is flagged \\Seen only after it is stored, so a crash in between fetches it again, and the inbound
log's de-duplication (by Message-ID) stores it once.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from imapclient import IMAPClient

from assistant.channels.base import InboundMessage, PayloadError
from assistant.channels.email_in import parse_mime
from knowledge.settings import Settings

log = logging.getLogger(__name__)
MAX_PER_ROUND = 50


class ImapPoller:
    def __init__(self, settings: Settings, store: Callable[[InboundMessage], object]) -> None:
        if not (settings.imap_host and settings.imap_username):
            raise ValueError("IMAP is not configured (PARLEY_IMAP_HOST, PARLEY_IMAP_USERNAME)")
        self.settings = settings
        self.store = store
        self.client: IMAPClient | None = None

    def connect(self) -> IMAPClient:
        if self.client is None:
            s = self.settings
            client = IMAPClient(s.imap_host or "", port=s.imap_port, ssl=s.imap_ssl, timeout=30)
            client.login(s.imap_username or "", s.imap_password or "")
            client.select_folder(s.imap_folder)
            self.client = client
        return self.client

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):  # already gone
                self.client.logout()
            self.client = None

    def fetch_new(self) -> int:
        """Store every unseen message; returns how many were fetched."""
        client = self.connect()
        client.noop()  # lets the server report mail that arrived since the last command
        uids = client.search(["UNSEEN"])[:MAX_PER_ROUND]
        fetched = 0
        for uid, data in client.fetch(uids, [b"BODY.PEEK[]"]).items():
            raw = data.get(b"BODY[]")
            if not isinstance(raw, bytes):
                continue
            try:
                message = parse_mime(raw, self.settings.email_address)
            except PayloadError as exc:
                log.warning("IMAP message %s skipped: %s", uid, exc)
                client.add_flags([uid], [b"\\Seen"])
                continue
            self.store(message)
            client.add_flags([uid], [b"\\Seen"])
            fetched += 1
        return fetched

    def wait(self, timeout_s: float) -> None:
        """Until new mail (IDLE) or `timeout_s` passes."""
        client = self.connect()
        if self.settings.imap_idle_s > 0 and b"IDLE" in client.capabilities():
            client.idle()
            try:
                client.idle_check(timeout=min(timeout_s, self.settings.imap_idle_s))
            finally:
                client.idle_done()
        else:
            import time

            time.sleep(timeout_s)

    def supports_idle(self) -> bool:
        return b"IDLE" in self.connect().capabilities()
