"""Parley agent console (Streamlit): sign in, then the Desk (queue, conversation, and in the sidebar the
suggested replies, canned responses and the customer), Contacts (one timeline per person across channels),
Insights, and Team.

Run with `parley console` (or `streamlit run ui/console.py`); it reads PARLEY_API_URL and asks for the agent
key in the browser (kept in the session only). Everything goes through the agent HTTP API
(ui.console_client, ui.console_desk_client); formatting lives in ui.console_views and ui.console_desk_views.
Actions are button callbacks: they run before the page is drawn, so the page always shows their effect.
"""

from __future__ import annotations

import os

import streamlit as st

from ui import console_auth, console_desk, console_insights, console_sidebar, console_team, console_timeline
from ui.console_desk_views import label_safe
from ui.console_state import client, me, show_flashes

DEFAULT_REFRESH_S = 5.0
PAGES = ["Desk", "Contacts", "Insights", "Team"]


def api_url() -> str:
    from knowledge.settings import Settings

    return Settings().api_url


def refresh_seconds() -> float:
    raw = os.environ.get("PARLEY_CONSOLE_REFRESH_S", "")
    try:
        return max(1.0, float(raw)) if raw else DEFAULT_REFRESH_S
    except ValueError:
        return DEFAULT_REFRESH_S


def main() -> None:
    # An int sidebar state is its width: the drafts and their three buttons need room.
    st.set_page_config(
        page_title="Parley console", page_icon=":material/forum:", layout="wide", initial_sidebar_state=460
    )
    url = api_url()
    console_auth.require_sign_in(url)
    desk = client()
    with st.sidebar:
        st.title(":material/forum: Parley console")
        top = st.columns([3, 1], vertical_alignment="center")
        top[0].caption(f"Signed in as **{label_safe(me() or 'unknown agent')}**")
        top[1].button("Sign out", key="sign-out", on_click=console_auth.sign_out)
        page = st.radio("View", PAGES, key="page", horizontal=True)
        console_team.status_control(desk)
    show_flashes()
    if page == "Insights":
        console_insights.page(desk)
        return
    if page == "Team":
        console_team.page(desk)
        return
    if page == "Contacts":  # one timeline per contact across channels
        console_timeline.contacts_page(desk.base_url, desk.agent_key)
        return
    result = console_desk.page(desk, refresh_seconds())
    detail, owner = result if result else (None, None)
    with st.sidebar:
        console_sidebar.sidebar(desk, detail, bool(owner and owner.can_send))


main()
