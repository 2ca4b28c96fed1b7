"""Cross-channel evaluation: a customer starts on one channel and continues on another (email -> WhatsApp /
SMS / the API channel, back on the widget), through the real channel worker, contacts and offline agent.

A case file's records have `"kind": "cross_channel"` (format: eval/cases/README.md). Metrics:
- `crosschannel.repeated_questions_across_channels`: the bot asked on one channel for something the customer
  gave on another (an order id, an email, a name and zip, a reason...). Target 0, gated.
- `crosschannel.continuity_rate`: the first answer on the new channel names the open request's facts.
- `crosschannel.leaks`: facts of one customer in the replies to another person's probes. Target 0, gated.
Delivery (SMTP, provider APIs) is tested in tests/; here the replies are read from the conversation store and
the linking codes from the email they would have been sent in.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from eval import metrics as m

ChannelName = Literal["email", "whatsapp", "sms", "api", "widget"]
GATED_ZERO = ("crosschannel.repeated_questions_across_channels", "crosschannel.leaks")
CODE_RE = re.compile(r"\b(\d{6})\b")


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    email: str
    phone: str = "+15550100001"
    api_id: str = "app-user-1"
    user_id: str | None = None  # the shop user (for widget steps: the signed token's subject)


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: ChannelName
    text: str | None = Field(default=None, max_length=4000)
    link: bool = False  # prove this channel with a code sent to the customer's email


class Probe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: ChannelName
    sender: str
    text: str = Field(min_length=1, max_length=4000)
    code_guess: str | None = None  # typed after the probe, as if guessing a code


class CrossChannelCase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=100)
    kind: Literal["cross_channel"]
    customer: Customer
    steps: list[Step] = Field(min_length=1, max_length=30)
    continuity_facts: list[str] = Field(default_factory=list)
    probes: list[Probe] = Field(default_factory=list)
    forbidden_facts: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


def is_cross_channel_file(path: Path) -> bool:
    if path.suffix.lower() not in (".jsonl", ".ndjson") or not path.is_file():
        return False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                return bool(json.loads(line).get("kind") == "cross_channel")
            except (ValueError, AttributeError):
                return False
    return False


def split_case_paths(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(the runner's usual case files, cross-channel case files)."""
    cross = [p for p in paths if is_cross_channel_file(p)]
    return [p for p in paths if p not in cross], cross


def load_cross_channel(paths: list[Path]) -> list[CrossChannelCase]:
    from eval.casefiles import CaseFileError

    cases: list[CrossChannelCase] = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    cases.append(CrossChannelCase.model_validate_json(line))
                except ValueError as exc:
                    raise CaseFileError(f"{path.name}:{number}: {str(exc).splitlines()[0]}") from None
    return cases


# --- scoring (pure) ---------------------------------------------------------------------------------
def repeats_across_channels(turns: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """[(1-based turn, slot)] where the bot asked for a slot the customer gave on another channel."""
    given: dict[str, set[str]] = {}
    repeats: list[tuple[int, str]] = []
    for number, turn in enumerate(turns, start=1):
        for slot in m.slots_given(turn["customer"]) | set(turn.get("implicit", [])):
            given.setdefault(slot, set()).add(turn["channel"])
        if turn.get("link"):
            continue  # the code exchange itself
        for slot in sorted(m.slots_asked(turn["bot"])):
            if given.get(slot, set()) - {turn["channel"]}:
                repeats.append((number, slot))
    return repeats


def continuity(turns: list[dict[str, Any]], facts: list[str]) -> bool | None:
    """Whether the first answer on a new channel names every fact of the open request (None: no switch)."""
    if not facts or not turns:
        return None
    first_channel = turns[0]["channel"]
    after = [t for t in turns if t["channel"] != first_channel and not t.get("link")]
    if not after:
        return False
    reply = (after[0]["bot"] or "").casefold()
    return all(f.casefold() in reply for f in facts)


def cross_channel_metrics(records: list[dict[str, Any]]) -> dict[str, float | None]:
    if not records:
        return {}
    scored = [r["continuity"] for r in records if r["continuity"] is not None]
    return {
        "crosschannel.count": float(len(records)),
        "crosschannel.repeated_questions_across_channels": float(sum(len(r["repeats"]) for r in records)),
        "crosschannel.continuity_rate": m.mean(scored),
        "crosschannel.leaks": float(sum(len(r["leaks"]) for r in records)),
        "crosschannel.pass_rate": m.mean(r["passed"] for r in records),
    }


# --- running --------------------------------------------------------------------------------------
def _reset(service: Any) -> None:
    """Every case starts with no contacts, conversations or channel state, and a fresh shop."""
    from sqlalchemy import text

    from assistant.db import make_engine

    with make_engine(str(service.settings.database_url)).begin() as conn:
        for table in (
            "chan_deliveries",
            "chan_thread_refs",
            "chan_inbound",
            "chan_leases",
            "identity_otp_codes",
            "conv_suggestions",
            "conv_messages",
            "conv_conversations",
            "contact_identities",
            "contacts",
        ):
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (fixed table names)


class _Runner:
    def __init__(self, service: Any) -> None:
        from assistant.channels.linking import Linker
        from assistant.channels.worker import ChannelWorker

        self.service = service
        self.worker = ChannelWorker(service, holder="eval")
        self.codes_sent: list[str] = []

        def capture(address: str, message: Any) -> None:
            self.codes_sent.append(message.text)

        self.worker.__dict__["linker"] = Linker(
            self.worker.contacts,
            self.worker.codes,
            service.contact_memory,
            service.shop,
            capture,
            service.settings.shop_name,
        )
        self.widget: dict[str, str] = {}
        self.email_refs: dict[str, list[str]] = {}
        self.count = 0

    def say(
        self, channel: str, sender_kind: str, sender: str, text: str, name: str | None = None
    ) -> str | None:
        from assistant.channels.base import InboundMessage
        from assistant.store.models import MessageRole

        if channel == "widget":
            conversation_id = self.widget.get(sender)
            if conversation_id is None:
                conversation, _ = self.service.start_conversation("widget", user_id=sender)
                conversation_id = self.widget[sender] = conversation.id
            return self.service.customer_turn(conversation_id, text).reply
        self.count += 1
        message = InboundMessage(channel, f"eval-{self.count}", sender_kind, sender, text, display_name=name)
        if channel == "email":  # a mail client's reply: In-Reply-To and References of the thread so far
            thread = self.email_refs.setdefault(sender, [])
            message.message_ref = f"<eval-{self.count}@{sender.partition('@')[2] or 'mail'}>"
            message.in_reply_to = thread[-1] if thread else None
            message.references = list(thread)
            thread.append(message.message_ref)
        stored = self.worker.inbox.store(message)
        self.worker.process_inbound()
        record = self.worker.inbox.get(stored.id)
        if record.conversation_id is None:
            return None
        messages = self.service.conversations.messages(record.conversation_id)
        customer_seq = max((x.seq for x in messages if x.role == MessageRole.CUSTOMER), default=0)
        replies = [x.text for x in messages if x.role == MessageRole.BOT and x.seq > customer_seq]
        return replies[-1] if replies else None


SENDER_KIND = {"email": "email", "whatsapp": "whatsapp", "sms": "phone", "api": "api", "widget": "widget"}


def _sender(customer: Customer, channel: str) -> str:
    return {
        "email": customer.email,
        "whatsapp": customer.phone,
        "sms": customer.phone,
        "api": customer.api_id,
        "widget": customer.user_id or customer.api_id,
    }[channel]


def run_case(service: Any, shop_data: Any, case: CrossChannelCase) -> dict[str, Any]:
    _reset(service)
    service.shop.import_data(shop_data, replace=True)
    runner = _Runner(service)
    customer = case.customer
    turns: list[dict[str, Any]] = []
    for step in case.steps:
        sender = _sender(customer, step.channel)
        kind = SENDER_KIND[step.channel]
        implicit = ["email"] if step.channel == "email" else []
        if step.link:
            text = f"Hi, it's {customer.name}, {customer.email}"
            turns.append(
                {
                    "channel": step.channel,
                    "customer": text,
                    "link": True,
                    "implicit": implicit,
                    "bot": runner.say(step.channel, kind, sender, text, customer.name),
                }
            )
            found = CODE_RE.search(runner.codes_sent[-1]) if runner.codes_sent else None
            code = found.group(1) if found else "000000"
            turns.append(
                {
                    "channel": step.channel,
                    "customer": code,
                    "link": True,
                    "bot": runner.say(step.channel, kind, sender, code, customer.name),
                }
            )
        if step.text:
            sent_before = len(runner.codes_sent)
            reply = runner.say(step.channel, kind, sender, step.text, customer.name)
            turns.append({"channel": step.channel, "customer": step.text, "implicit": implicit, "bot": reply})
            found = CODE_RE.search(runner.codes_sent[-1]) if len(runner.codes_sent) > sent_before else None
            if found:  # the bot sent a code to prove who writes (email pre-fill): the customer types it
                code = found.group(1)
                turns.append(
                    {
                        "channel": step.channel,
                        "customer": code,
                        "link": True,
                        "bot": runner.say(step.channel, kind, sender, code, customer.name),
                    }
                )
    probe_replies: list[dict[str, Any]] = []
    for probe in case.probes:
        kind = SENDER_KIND[probe.channel]
        reply = runner.say(probe.channel, kind, probe.sender, probe.text)
        probe_replies.append({"channel": probe.channel, "customer": probe.text, "bot": reply})
        if probe.code_guess:
            reply = runner.say(probe.channel, kind, probe.sender, probe.code_guess)
            probe_replies.append({"channel": probe.channel, "customer": probe.code_guess, "bot": reply})
    said = "\n".join(p["bot"] or "" for p in probe_replies).casefold()
    leaks = [f for f in case.forbidden_facts if f.casefold() in said]
    repeats = repeats_across_channels(turns)
    carried = continuity(turns, case.continuity_facts)
    return {
        "id": case.id,
        "tags": case.tags,
        "turns": turns,
        "probes": probe_replies,
        "repeats": repeats,
        "continuity": carried,
        "leaks": leaks,
        "passed": not repeats and not leaks and carried is not False,
    }


def run_cross_channel(
    paths: list[Path], settings: Any, service: Any = None, progress: bool = False
) -> list[dict[str, Any]]:
    """Run every cross-channel case of `paths` on `settings`' data dir (shop + help-centre index)."""
    if not paths:
        return []
    from eval.runner import prepare_environment, sample_shop_data

    cases = load_cross_channel(paths)
    if service is None:
        from assistant.service import SupportService

        prepare_environment(settings, progress)
        service = SupportService(settings)
    shop = sample_shop_data()
    return [run_case(service, shop, case) for case in cases]


REPORT = """<h2>Cross-channel conversations ({{ records | length }})</h2>
<table><tr><th>Case</th><th>Result</th><th>Transcript</th></tr>
{% for r in records %}<tr><td>{{ r.id }}<br><small>{{ r.tags | join(", ") }}</small></td>
<td class="t">{{ "pass" if r.passed else "FAIL" }}; continuity {{ r.continuity }};
repeats {{ r.repeats }}; leaks {{ r.leaks }}</td>
<td class="t">{% for t in r.turns %}<b>[{{ t.channel }}] customer:</b> {{ t.customer }}
<b>bot:</b> {{ t.bot }}
{% endfor %}{% for p in r.probes %}<b>[{{ p.channel }}] someone else:</b> {{ p.customer }}
<b>bot:</b> {{ p.bot }}
{% endfor %}</td></tr>{% endfor %}</table>
"""


def report_section(results: dict[str, Any]) -> str:
    records = results.get("cross_channel") or []
    if not records:
        return ""
    from jinja2 import Environment, select_autoescape

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(REPORT).render(records=records)
