"""A guard on the console's source (issue 11, finding 8): every value put into an f-string that Streamlit
parses as Markdown goes through `literal` / `label_safe`, or is one of the few values we compute ourselves
(counts, badges built from our own words). A new `st.error(f"... {exc}")` fails here, before a browser."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[2] / "ui"
MARKDOWN_CALLS = {
    "markdown", "caption", "error", "warning", "success", "info", "subheader", "header", "title",
    "button", "expander", "toast", "checkbox", "radio", "selectbox", "text_input", "text_area", "tabs",
}  # fmt: skip
ESCAPERS = {"literal", "label_safe"}
# Values of our own making: numbers, and badges whose words come from our tables (console_views.Badge).
OURS = {
    "len(rows)", "len(mine)", "len(decided)", "len(history)", "breached", "refresh_s",
    "suggestion.draft_index + 1",
    "band.markdown", "sla.markdown", "row.sentiment.markdown", "row.badge", "trigger",
    "views.sentiment_badge(takeover.get('sentiment')).markdown", "desk_views.sla_badge(detail.sla).markdown",
    "views.STATUS_LABELS.get(conversation.status, conversation.status)", "badge(conversation['channel'])",
    "who.desk.load", "who.desk.capacity", "views.percent(data.suggestion_acceptance_rate)",
    "conversation.id", "row.conversation_id", "sid", "i", "macro.id", "contact_id", "contact['id']",
    "delivery['id']", "self.conversation_id", "cid", "kind", "name", "row.wait",
    # counts the insights API computes (numbers, not text anybody typed)
    "overall.get('conversations', 0)", "overall.get('handoffs', 0)", "overall.get('bot_resolved', 0)",
    "overall.get('bot_unresolved', 0)", "overall.get('bot_pending', 0)", "overall.get('ces_responses', 0)",
}  # fmt: skip


def markdown_fstrings(path: Path) -> list[tuple[int, str]]:
    """(line, expression) of each f-string value given to a Markdown call (positionally, help= or label=)."""
    found = []
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in MARKDOWN_CALLS:
            continue
        args = list(node.args) + [k.value for k in node.keywords if k.arg in ("help", "label", "body")]
        for arg in args:
            if not isinstance(arg, ast.JoinedStr):
                continue
            for value in arg.values:
                if not isinstance(value, ast.FormattedValue):
                    continue
                expr = value.value
                if (
                    isinstance(expr, ast.Call)
                    and getattr(expr.func, "id", getattr(expr.func, "attr", "")) in ESCAPERS
                ):
                    continue
                found.append((node.lineno, ast.unparse(expr)))
    return found


@pytest.mark.parametrize("path", sorted(UI.glob("console*.py")), ids=lambda p: p.name)
def test_every_markdown_fstring_value_is_escaped_or_ours(path: Path) -> None:
    unescaped = [(line, expr) for line, expr in markdown_fstrings(path) if expr not in OURS]
    assert not unescaped, f"{path.name}: wrap these in ui.console_text.literal: {unescaped}"


def test_the_guard_finds_an_unescaped_error() -> None:
    sample = UI.parent / "tests" / "ui" / "_sample_console_bad.py"
    sample.write_text('import streamlit as st\nexc = "x"\nst.error(f"Queue unavailable: {exc}")\n')
    try:
        assert markdown_fstrings(sample) == [(3, "exc")]
    finally:
        sample.unlink()
