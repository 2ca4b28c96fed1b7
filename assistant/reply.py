"""From an agent run to the words a customer reads: the reply path shared by customer turns and the
copilot drafts a human agent sees.

A run ends either waiting for the customer's yes to a WRITE (an interrupt: the reply lists the change and
asks) or with the model's final message, whose `[n]` markers are checked against the hits of the run's
last help-centre search: a marker that points at nothing retrieved is removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage

from assistant.prompts import Replies
from assistant.records import Citation, ToolCallRecord

_CITATION_RE = re.compile(r"\s?\[(\d{1,2})\]")


def verify_citations(text: str, trace: Sequence[ToolCallRecord]) -> tuple[str, list[Citation], list[int]]:
    """Keep only [n] markers that point at a hit of the latest help-centre search of this run.

    Returns the text without invalid markers, the citations and the invalid numbers that were removed.
    """
    searches = [t for t in trace if t.name == "search_help_center" and t.ok]
    hits: list[dict[str, Any]] = (searches[-1].output or {}).get("hits", []) if searches else []
    citations: dict[int, Citation] = {}
    invalid: list[int] = []

    def check(match: re.Match[str]) -> str:
        ref = int(match.group(1))
        if 1 <= ref <= len(hits):
            citations.setdefault(ref, Citation.from_hit(ref, hits[ref - 1]))
            return match.group(0)
        invalid.append(ref)
        return ""

    cleaned = _CITATION_RE.sub(check, text)
    return cleaned, sorted(citations.values(), key=lambda c: c.ref), invalid


def pending_interrupts(agent: Any, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The WRITE calls this thread is waiting to have confirmed (LangChain human-in-the-loop requests)."""
    snapshot = agent.get_state(config)
    return [i.value for i in getattr(snapshot, "interrupts", ()) if isinstance(i.value, dict)]


@dataclass
class ComposedReply:
    text: str
    citations: list[Citation] = field(default_factory=list)
    invalid_citations: list[int] = field(default_factory=list)
    awaiting: dict[str, Any] | None = None  # {"actions": [...]} while a WRITE waits for the yes
    failed: bool = False  # the bot could not help (counted by the guard's loop detection)
    empty: bool = False  # the run ended with no final message at all
    guard_handover: bool = False  # the guard ended the run with its handover message


def compose_reply(
    agent: Any,
    config: dict[str, Any],
    run_messages: Sequence[BaseMessage],
    trace: Sequence[ToolCallRecord],
    language: str,
    replies: Replies,
) -> ComposedReply:
    interrupts = pending_interrupts(agent, config)
    if interrupts:
        actions = interrupts[0].get("action_requests", [])
        descriptions = "; ".join(a.get("description", a["name"]) for a in actions)
        return ComposedReply(
            text=replies("confirm", language, description=descriptions), awaiting={"actions": actions}
        )
    final = next((m for m in reversed(run_messages) if isinstance(m, AIMessage) and not m.tool_calls), None)
    raw = str(final.content) if final is not None else replies("clarify", language)
    meta = (final.response_metadata or {}).get("parley", {}) if final is not None else {}
    text, citations, invalid = verify_citations(raw, trace)
    searched = any(t.name == "search_help_center" for t in trace)
    failed = bool(meta.get("failed")) or final is None or (searched and not citations and not meta)
    handover = bool(meta.get("handover"))
    return ComposedReply(
        text, citations, invalid, failed=failed, empty=final is None, guard_handover=handover
    )
