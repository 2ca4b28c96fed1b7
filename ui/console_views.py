"""Pure formatting for the agent console: no Streamlit, no HTTP, so every rule here has a unit test."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ui.console_labels import label_pairs, labels

# Same scale as the guard's VADER compound score (-1 .. 1); the guard hands over at -0.6 by default.
VERY_NEGATIVE = -0.6
NEGATIVE = -0.2
POSITIVE = 0.2

# Words for the API's codes: data in console_labels.yaml.
TRIGGER_LABELS = labels("triggers")
ROLE_LABELS = label_pairs("roles")  # role -> (name shown, avatar for st.chat_message)
STATUS_LABELS = labels("statuses")


def format_wait(seconds: float | None) -> str:
    """How long a customer has waited, short enough for a table cell: 45s, 4m 05s, 1h 05m, 2d 3h."""
    if seconds is None or seconds != seconds or seconds < 0:  # None, NaN or a clock skew
        return "—"
    total = int(seconds)
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


@dataclass(frozen=True)
class Badge:
    label: str
    color: str  # a Streamlit markdown colour: red, orange, gray, green
    icon: str

    @property
    def markdown(self) -> str:
        return f":{self.color}-background[{self.icon} {self.label}]"


def sentiment_badge(score: float | None) -> Badge:
    """The customer's mood from the guard's compound score."""
    if score is None or score != score:
        return Badge("unknown", "gray", "·")
    if score <= VERY_NEGATIVE:
        return Badge(f"very negative {score:+.2f}", "red", "▼▼")
    if score < NEGATIVE:
        return Badge(f"negative {score:+.2f}", "orange", "▼")
    if score <= POSITIVE:
        return Badge(f"neutral {score:+.2f}", "gray", "●")
    return Badge(f"positive {score:+.2f}", "green", "▲")


def trigger_label(trigger: str | None) -> str:
    if not trigger:
        return "—"
    return TRIGGER_LABELS.get(trigger, trigger.replace("_", " ").capitalize())


def priority_badge(priority: float) -> Badge:
    if priority >= 0.8:
        return Badge(f"urgent {priority:.2f}", "red", "!")
    if priority >= 0.5:
        return Badge(f"high {priority:.2f}", "orange", "↑")
    return Badge(f"normal {priority:.2f}", "blue", "·")


def clip(text: str, limit: int = 140) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- queue ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueRow:
    conversation_id: str
    title: str  # customer name or "Anonymous"
    wait: str
    wait_seconds: float
    priority: float
    sentiment: Badge
    trigger: str
    reason: str
    channel: str
    summary: str
    routing: dict[str, Any] = field(default_factory=dict)


def customer_name(customer: dict[str, Any] | None, user_id: str | None = None) -> str:
    if customer:
        name = customer.get("name") or {}
        if isinstance(name, dict):
            full = f"{name.get('first_name', '')} {name.get('last_name', '')}".strip()
            if full:
                return full
        elif str(name).strip():
            return str(name).strip()
    return user_id or "Anonymous customer"


def queue_rows(items: list[Any]) -> list[QueueRow]:
    """Queue items (ui.console_client.QueueItem) as rows, in the API's order: the router's queue order
    (priority, ageing, verified customers, fair share, held ones last, then those waiting for opening)."""
    rows = []
    for item in items:
        conversation = item.conversation
        takeover = conversation.takeover or {}
        sentiment = item.sentiment if item.sentiment is not None else takeover.get("sentiment")
        rows.append(
            QueueRow(
                conversation_id=conversation.id,
                title=customer_name(item.customer, conversation.user_id),
                wait=format_wait(item.wait_seconds),
                wait_seconds=item.wait_seconds,
                priority=item.priority,
                sentiment=sentiment_badge(sentiment),
                trigger=trigger_label(item.trigger or takeover.get("trigger")),
                reason=clip(item.reason or takeover.get("reason") or "", 200),
                channel=conversation.channel,
                summary=item.summary,
                routing=dict(getattr(item, "routing", {}) or {}),
            )
        )
    return rows


# --- ownership ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ownership:
    """What this agent may do with a conversation, and the sentence that says why."""

    can_claim: bool
    can_send: bool
    can_hand_back: bool
    can_close: bool
    banner: str
    owner: str | None


def ownership(status: str, assigned_agent: str | None, me: str | None) -> Ownership:
    """`me` is None until the console knows this key's agent name; it then cannot send to anyone's."""
    mine = assigned_agent is not None and me is not None and assigned_agent == me
    if status == "closed":
        return Ownership(False, False, False, False, "This conversation is closed.", assigned_agent)
    if assigned_agent and not mine:
        return Ownership(
            False, False, False, False, f"Owned by {assigned_agent}: you cannot write here.", assigned_agent
        )
    if mine and status == "human":
        return Ownership(False, True, True, True, "You own this conversation.", assigned_agent)
    if status == "waiting_for_human":
        return Ownership(True, False, False, True, "Waiting for a human: claim it to reply.", None)
    # With the bot and unowned: an agent may still step in.
    return Ownership(True, False, False, True, "The bot is handling this conversation.", None)


# --- transcript --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolCallView:
    title: str
    arguments: str  # pretty JSON
    result: str  # pretty JSON, or the error
    ok: bool | None
    kind: str | None


@dataclass(frozen=True)
class CitationView:
    ref: int | None
    title: str
    url: str | None

    @property
    def text(self) -> str:
        """Plain text (article titles and URLs come from files anyone may have written: never Markdown,
        and an agent copies the URL rather than clicking it)."""
        label = f"[{self.ref}] {self.title}" if self.ref is not None else self.title
        return f"{label} — {self.url}" if self.url and _safe_url(self.url) else label


@dataclass(frozen=True)
class TranscriptRow:
    role: str
    name: str
    avatar: str
    text: str
    time: str
    citations: list[CitationView] = field(default_factory=list)
    tool_calls: list[ToolCallView] = field(default_factory=list)
    guard_note: str | None = None


def pretty_json(value: Any, limit: int = 6000) -> str:
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + "\n… (truncated)"


def tool_call_view(call: dict[str, Any]) -> ToolCallView:
    ok = call.get("ok")
    status = "ok" if ok else ("not run" if ok is None else "failed")
    kind = call.get("kind")
    title = f"{call.get('name', 'tool')}" + (f" ({kind})" if kind else "") + f" · {status}"
    result: Any = call.get("output") if ok else (call.get("error") or call.get("output"))
    return ToolCallView(title, pretty_json(call.get("arguments", {})), pretty_json(result), ok, kind)


def citation_views(citations: list[dict[str, Any]]) -> list[CitationView]:
    views = []
    for c in citations:
        ref = c.get("ref")
        views.append(
            CitationView(
                ref=int(ref) if isinstance(ref, int | float) else None,
                title=str(c.get("title") or c.get("article_id") or "source"),
                url=c.get("url"),
            )
        )
    return views


def transcript_rows(messages: list[Any], me: str | None = None) -> list[TranscriptRow]:
    """Messages (ui.console_client.TranscriptMessage) as chat rows; tool calls and citations attached."""
    rows = []
    for m in messages:
        name, avatar = ROLE_LABELS.get(m.role, (m.role.capitalize(), ":material/chat:"))
        if m.role == "agent" and m.author:
            name = "You" if me and m.author == me else m.author
        guard = m.guard or {}
        note = None
        if m.role == "customer" and guard.get("takeover"):
            reason = guard.get("reason") or ""
            note = f"Handed over: {trigger_label(guard.get('trigger'))}" + (f" — {reason}" if reason else "")
        rows.append(
            TranscriptRow(
                role=m.role,
                name=name,
                avatar=avatar,
                text=m.text,
                time=_clock(m.created_at),
                citations=citation_views(m.citations),
                tool_calls=[tool_call_view(t) for t in m.tool_calls],
                guard_note=note,
            )
        )
    return rows


def _clock(value: datetime | None) -> str:
    return value.strftime("%H:%M:%S") if value else ""


def _safe_url(url: str) -> bool:
    # Only web links are clickable: a javascript: URL in a help article must not become one.
    return url.startswith(("https://", "http://", "/"))


# --- suggestions ---------------------------------------------------------------------------------
def action_sentence(name: str, arguments: dict[str, Any]) -> str:
    """'cancel pending order: order_id=#W1, reason=no longer needed' for the confirmation checkbox."""
    args = ", ".join(f"{k}={v}" for k, v in arguments.items())
    verb = name.replace("_", " ")
    return f"{verb}: {args}" if args else verb


def needs_confirmation(suggestion: Any) -> bool:
    """A draft that proposes actions (always WRITE tools: copilot interrupts only those) needs a click."""
    return bool(suggestion.proposed_actions)


def latest_batch(pending: list[Any]) -> list[Any]:
    """The drafts of the latest "Suggest replies" click (a batch starts at draft_index 0, ids grow).

    Older pending drafts answered an earlier customer message; showing them would invite a stale reply.
    """
    if not pending:
        return []
    starts = [s.id for s in pending if s.draft_index == 0]
    first = max(starts) if starts else min(s.id for s in pending)
    return sorted((s for s in pending if s.id >= first), key=lambda s: s.draft_index)[:3]


def source_lines(suggestion: Any) -> list[str]:
    """Where a draft comes from: its cited articles, then the tools whose results it used."""
    lines = [c.text for c in citation_views(suggestion.citations)]
    for result in suggestion.tool_results:
        name = result.get("name", "tool")
        lines.append(f"tool {name}" + ("" if result.get("ok", True) else " (failed)"))
    return lines


# --- customer ----------------------------------------------------------------------------------
def profile_lines(customer: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not customer:
        return []
    lines: list[tuple[str, str]] = [("Name", customer_name(customer))]
    for key, label in (("user_id", "User id"), ("email", "Email")):
        if customer.get(key):
            lines.append((label, str(customer[key])))
    address = customer.get("address")
    if isinstance(address, dict):
        parts = [address.get(k) for k in ("address1", "address2", "city", "state", "zip", "country")]
        lines.append(("Address", ", ".join(str(p) for p in parts if p)))
    methods = customer.get("payment_methods")
    if isinstance(methods, dict) and methods:
        lines.append(("Payment methods", ", ".join(sorted(str(k) for k in methods))))
    return lines


def order_rows(orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for o in orders:
        items = o.get("items") or []
        paid = sum(
            float(p.get("amount", 0))
            for p in o.get("payment_history") or []
            if p.get("transaction_type") == "payment"
        )
        rows.append(
            {
                "order": o.get("order_id", ""),
                "status": o.get("status", ""),
                "items": ", ".join(str(i.get("name", "")) for i in items)[:120],
                "paid": round(paid, 2),
            }
        )
    return rows


# --- insights ----------------------------------------------------------------------------------
def percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def reason_counts(reasons: dict[str, int] | list[dict[str, Any]]) -> dict[str, int]:
    """Takeover reasons keyed by a readable label, whatever of the two shapes the API sends."""
    if isinstance(reasons, list):
        pairs = [(str(r.get("trigger") or r.get("reason")), int(r.get("count", 0))) for r in reasons]
    else:
        pairs = [(str(k), int(v)) for k, v in reasons.items()]
    counts: dict[str, int] = {}
    for key, count in pairs:
        label = trigger_label(key)
        counts[label] = counts.get(label, 0) + count
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def sentiment_series(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """[{day, mean sentiment, messages}] sorted by day; malformed points are skipped, not fatal."""
    series = []
    for p in points:
        try:
            day = str(p["day"])
            mean = float(p["mean_sentiment"] if "mean_sentiment" in p else p["sentiment"])
        except (KeyError, TypeError, ValueError):
            continue
        series.append({"day": day, "mean sentiment": round(mean, 3), "messages": int(p.get("messages", 0))})
    return sorted(series, key=lambda p: p["day"])
