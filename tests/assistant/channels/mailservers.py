"""Real mail servers for the tests: aiosmtpd receiving Parley's mail, and Debian's dovecot serving IMAP.

dovecot runs unprivileged on 127.0.0.1 and a free port, from a throwaway config, with one passwd-file user
and a Maildir in a temporary directory (as `nobody` when the tests run as root, as the current user
otherwise). `scripts/test.sh` installs it with apt-get when it is missing.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from tests.conftest import free_port, port_open, require_or_skip

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: bool = False  # answer 451 (try again later) to every message

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        if self.refuse:
            return "451 4.3.0 try again later"
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout_s
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    from aiosmtpd.controller import Controller

    port = free_port()
    sink = SmtpSink("127.0.0.1", port)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class Imap:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        from imapclient import IMAPClient

        with IMAPClient(self.host, port=self.port, ssl=False) as client:
            client.login(self.user, self.password)
            client.append(folder, raw)

    def unseen(self, folder: str = "INBOX") -> list[int]:
        from imapclient import IMAPClient

        with IMAPClient(self.host, port=self.port, ssl=False) as client:
            client.login(self.user, self.password)
            client.select_folder(folder)
            return list(client.search(["UNSEEN"]))


CONFIG = """base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@contextmanager
def dovecot_server(user: str = "support", password: str = "mailbox-secret") -> Iterator[Imap]:
    require_or_skip(os.path.exists(DOVECOT), "dovecot is not installed (apt-get install dovecot-imapd)")
    as_root = os.geteuid() == 0
    run_user = "nobody" if as_root else pwd.getpwuid(os.geteuid()).pw_name
    run_group = grp.getgrgid(pwd.getpwnam(run_user).pw_gid).gr_name
    root = Path(tempfile.mkdtemp(prefix="parley-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    (root / "passwd").write_text(f"{user}:{{PLAIN}}{password}\n")
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, user=run_user, group=run_group, port=port))
    if as_root:
        shutil.chown(root, run_user, run_group)
        for path in root.rglob("*"):
            shutil.chown(path, run_user, run_group)
    command = [DOVECOT, "-c", str(config), "-F"]
    if as_root:  # never run a test server as root
        command = ["setpriv", f"--reuid={run_user}", f"--regid={run_group}", "--clear-groups", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while not port_open("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"dovecot did not start: {stderr} {log}")
            time.sleep(0.05)
        yield Imap("127.0.0.1", port, user, password, root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
