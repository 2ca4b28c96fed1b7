"""The Team page: my status, the teams (skills, business hours, lead webhook) and the agents (capacity,
teams, working hours). Changes need a desk manager (the API says so when not)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from ui import console_desk_views as desk_views
from ui.console_client import ConsoleError
from ui.console_desk_client import DeskClient
from ui.console_state import flash, is_manager, run_action
from ui.console_text import literal

HOURS_EXAMPLE = (
    '{"timezone": "Europe/Paris", "weekly": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"]}, "holidays": []}'
)


def _text(key: str) -> str:
    return str(st.session_state.get(key) or "").strip()


def _picked(key: str) -> list[Any]:
    return list(st.session_state.get(key) or [])


def _hours(key: str) -> dict[str, Any] | None | str:
    raw = _text(key)
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return f"business hours are not JSON: {exc}"
    return value if isinstance(value, dict) else "business hours must be a JSON object"


def _save(
    kind: str,
    hours_key: str,
    build: Callable[[dict[str, Any] | None], dict[str, Any]],
    name_field: str,
    send: Callable[[dict[str, Any]], object],
) -> None:
    """Read the form's business hours (refusing bad JSON with a notice), build the record, send it."""
    hours = _hours(hours_key)
    if isinstance(hours, str):
        flash("error", f"{kind} not saved: {hours}")
        return
    record = build(hours)
    run_action(f"{kind} {record[name_field]} saved", send, record)


def save_team(client: DeskClient) -> None:
    def build(hours: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "id": _text("team-id"),
            "name": _text("team-name") or str(st.session_state.get("team-id") or ""),
            "languages": _picked("team-languages"),
            "topics": _picked("team-topics"),
            "stages": _picked("team-stages"),
            "hours": hours,
            "lead_webhook_url": _text("team-webhook") or None,
        }

    _save("Team", "team-hours", build, "id", client.save_team)


def save_agent(client: DeskClient) -> None:
    def build(hours: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "name": _text("agent-name"),
            "capacity": int(st.session_state.get("agent-capacity") or 0),
            "teams": _picked("agent-teams"),
            "lead_of": _picked("agent-leads"),
            "hours": hours,
        }

    _save("Agent", "agent-hours", build, "name", client.save_agent)


def set_my_status(client: DeskClient) -> None:
    run_action("Status changed", client.set_status, st.session_state.get("my-status"))


def page(client: DeskClient) -> None:
    st.header("Team")
    try:
        teams, agents, config = client.teams(), client.agents(), client.config()
    except ConsoleError as exc:
        st.error(f"The desk is unavailable: {literal(exc, 300)}")
        return
    st.subheader("Teams")
    if teams:
        st.dataframe(pd.DataFrame(desk_views.team_rows(teams)), hide_index=True, width="stretch")
    else:
        st.caption("No teams yet: every handover goes to one shared queue.")
    st.subheader("Agents")
    if agents:
        st.dataframe(pd.DataFrame(desk_views.agent_rows(agents)), hide_index=True, width="stretch")
    else:
        st.caption("No agents on the desk yet: agents can still claim conversations by hand.")
    if not is_manager():
        st.info("Only desk managers change teams and agents.")
        return
    team_ids = [t.id for t in teams]
    left, right = st.columns(2)
    with left, st.expander("Add or change a team", expanded=not teams):
        st.text_input("Team id (a-z, 0-9, - and _)", key="team-id")
        st.text_input("Name", key="team-name")
        st.multiselect("Languages (none: any)", config.languages, key="team-languages")
        st.multiselect("Topics (none: any)", config.topics, key="team-topics")
        st.multiselect(
            "Journey stages (none: any)",
            config.stages,
            key="team-stages",
            format_func=lambda s: desk_views.STAGE_LABELS.get(s, s),
        )
        st.text_area(
            "Business hours as JSON (empty: always open)", key="team-hours", placeholder=HOURS_EXAMPLE
        )
        st.text_input("Team lead webhook (SLA breaches are posted here)", key="team-webhook")
        st.button("Save team", key="team-save", type="primary", on_click=save_team, args=(client,))
    with right, st.expander("Add or change an agent", expanded=not agents):
        st.text_input("Agent name (the name of their key)", key="agent-name")
        st.number_input(
            "Capacity (conversations at once)", min_value=0, max_value=50, value=3, key="agent-capacity"
        )
        st.multiselect("Teams", team_ids, key="agent-teams")
        st.multiselect("Leads", team_ids, key="agent-leads")
        st.text_area("Working hours as JSON (empty: whenever online)", key="agent-hours")
        st.button("Save agent", key="agent-save", type="primary", on_click=save_agent, args=(client,))


def status_control(client: DeskClient) -> None:
    """In the sidebar: online / away / offline, for agents on the desk."""
    try:
        who = client.me()
    except ConsoleError:
        return
    if who.desk is None:
        st.caption("Not on the desk: you take conversations by hand.")
        return
    options = ["online", "away", "offline"]
    if st.session_state.get("my-status") not in options:
        st.session_state["my-status"] = who.desk.status
    st.radio("My status", options, key="my-status", horizontal=True, on_change=set_my_status, args=(client,))
    st.caption(f"Holding {who.desk.load} of {who.desk.capacity} conversations.")
