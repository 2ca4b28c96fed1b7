"""Per-language and per-split views of the single questions, loops in the conversations, and the demo's
own suggested questions: what the regression gate and the report's tables read.

`questions.{en,fr,nl}.*` and `questions.{dev,test}.*` are the same rates as `questions.*` on a part of the
cases; `conversations.{en,fr,nl}.*` split the conversations by their language tag (untagged = en), so the
takeover guard is measured per language too; `conversations.bot_loops` counts conversations where the bot
sent a (near-)identical reply twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from assistant.planner.words import near_identical
from eval import metrics as m

LANGUAGES = ("en", "fr", "nl")
SPLITS = ("dev", "test")


def _rates(records: list[dict[str, Any]]) -> dict[str, float | None]:
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    return {
        "count": float(len(records)),
        "fact_recall": m.mean(r.get("fact_recall") for r in answerable),
        "correct_refusal_rate": m.mean(r["refusal"] == "correct_refusal" for r in unanswerable),
        "false_refusal_rate": m.mean(r["refusal"] == "false_refusal" for r in answerable),
        "pass_rate": m.mean(r["passed"] for r in records),
    }


def _by(
    records: list[dict[str, Any]], prefix: str, groups: Iterable[str], key: Callable[[Any], Any]
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for group in groups:
        members = [r for r in records if key(r) == group]
        if members:
            out |= {f"{prefix}.{group}.{name}": value for name, value in _rates(members).items()}
    return out


def question_breakdown(questions: list[dict[str, Any]]) -> dict[str, float | None]:
    out = _by(questions, "questions", LANGUAGES, lambda r: r.get("locale", "en"))
    out |= _by(questions, "questions", SPLITS, lambda r: r.get("split"))
    demo = [q for q in questions if "demo" in q.get("tags", [])]
    if demo:
        out["questions.demo_pass_rate"] = m.mean(q["passed"] for q in demo)
    return out


def conversation_language(record: dict[str, Any]) -> str:
    return next((t for t in record.get("tags", []) if t in LANGUAGES), "en")


def _confirmation_prefixes() -> tuple[str, ...]:
    from assistant.prompts import Replies

    replies = Replies("")
    return tuple(replies("confirm", lang, description="\x00").split("\x00")[0] for lang in LANGUAGES)


def bot_loops(transcript: list[dict[str, Any]]) -> int:
    """Bot replies that repeat (near-identically) an earlier bot reply of the same conversation. A change
    waiting for the customer's yes, asked again, is not counted: the decision is still theirs to make."""
    prefixes = _confirmation_prefixes()
    replies = [str(t.get("bot") or "") for t in transcript]
    replies = ["" if r.startswith(prefixes) else r for r in replies]
    return sum(
        1 for i, reply in enumerate(replies) if reply and any(near_identical(reply, e) for e in replies[:i])
    )


def conversation_breakdown(conversations: list[dict[str, Any]]) -> dict[str, float | None]:
    if not conversations:
        return {}
    out: dict[str, float | None] = {
        "conversations.bot_loops": float(sum(1 for c in conversations if bot_loops(c.get("transcript", [])))),
    }
    for language in LANGUAGES:
        members = [c for c in conversations if conversation_language(c) == language]
        if not members:
            continue
        takeover = m.takeover_counts((c["expected_takeover"], c["takeover"]) for c in members)
        out |= {
            f"conversations.{language}.count": float(len(members)),
            f"conversations.{language}.pass_rate": m.mean(c["passed"] for c in members),
            f"conversations.{language}.takeover_precision": takeover["precision"],
            f"conversations.{language}.takeover_recall": takeover["recall"],
        }
    return out
