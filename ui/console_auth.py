"""Signing in: the console shows nothing until an agent types a key the API accepts. The key lives in this
browser session only (st.session_state): not in the environment, not on a command line, not in the URL, not
in Streamlit's process-wide caches, and it is gone when the tab closes or the agent signs out."""

from __future__ import annotations

import streamlit as st

from ui.console_client import AuthError, ConsoleError
from ui.console_desk_client import DeskClient
from ui.console_text import literal

KEY_INPUT = "sign-in-key"


def sign_in(api_url: str) -> None:
    key = st.session_state.get(KEY_INPUT, "") or ""
    st.session_state[KEY_INPUT] = ""  # not kept in the widget's state either
    try:
        candidate = DeskClient(api_url, key, timeout=60.0)
        who = candidate.me()
    except AuthError as exc:
        st.session_state["sign-in-error"] = f"Sign-in refused: {exc}"
        return
    except ConsoleError as exc:
        st.session_state["sign-in-error"] = f"Cannot sign in: {exc}"
        return
    st.session_state.pop("sign-in-error", None)
    st.session_state.update(client=candidate, me=who.agent, manager=who.manager)


def sign_out() -> None:
    found = st.session_state.pop("client", None)
    if found is not None:
        found.close()
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def require_sign_in(api_url: str) -> None:
    """Return when signed in; otherwise draw the sign-in form and stop the page there."""
    if "client" in st.session_state:
        return
    st.title(":material/forum: Parley console")
    st.caption("Sign in with your agent key. It stays in this browser tab's session only.")
    st.text_input("Agent key", type="password", key=KEY_INPUT, autocomplete="off")
    st.button("Sign in", key="sign-in", type="primary", on_click=sign_in, args=(api_url,))
    if st.session_state.get("sign-in-error"):
        st.error(literal(st.session_state["sign-in-error"], 300))
    st.caption(literal(f"API: {api_url}", 200))
    st.stop()
