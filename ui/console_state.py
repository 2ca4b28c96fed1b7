"""What every console page shares: the signed-in client and agent in the session, flash messages, and
calling the API without ever showing a traceback."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.console_client import ConsoleError, OwnershipConflict
from ui.console_desk_client import DeskClient
from ui.console_text import literal


def client() -> DeskClient:
    found: DeskClient = st.session_state["client"]
    return found


def me() -> str | None:
    return st.session_state.get("me")


def is_manager() -> bool:
    return bool(st.session_state.get("manager"))


def flash(kind: str, text: str) -> None:
    st.session_state.setdefault("flash", []).append((kind, text))


def show_flashes() -> None:
    # Our own sentences, which may quote an API error (and so an id somebody typed): shown as text.
    for kind, text in st.session_state.pop("flash", []):
        box = {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.info)
        box(literal(text, 500), icon={"error": "🚫", "warning": "⚠️", "success": "✅"}.get(kind, "ℹ️"))


def run_action(label: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call the API; turn its errors into a message on the page instead of a traceback."""
    try:
        result = fn(*args, **kwargs)
    except OwnershipConflict as exc:
        flash("warning", f"{label}: someone else has this conversation, or it changed ({exc}).")
    except (ConsoleError, ValueError) as exc:
        flash("error", f"{label} failed: {exc}")
    else:
        flash("success", f"{label}: done.")
        return result if result is not None else True
    return None
