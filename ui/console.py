"""Parley agent console (Streamlit): the queue, one conversation, suggested replies, insights.

Run with `parley console` (or `streamlit run ui/console.py`); it reads PARLEY_API_URL and PARLEY_AGENT_KEY.
Everything goes through the agent HTTP API (ui.console_client); formatting lives in ui.console_views.
Actions are button callbacks: they run before the page is drawn, so the page always shows their effect.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from ui import console_views as views
from ui.console_client import (
    AgentApiClient,
    ConsoleError,
    ConversationDetail,
    OwnershipConflict,
    SuggestedReply,
)

DEFAULT_REFRESH_S = 5.0


@dataclass(frozen=True)
class ConsoleConfig:
    api_url: str
    agent_key: str
    refresh_s: float


def load_config() -> ConsoleConfig:
    from knowledge.settings import Settings

    settings = Settings()
    refresh = os.environ.get("PARLEY_CONSOLE_REFRESH_S", "")
    try:
        refresh_s = max(1.0, float(refresh)) if refresh else DEFAULT_REFRESH_S
    except ValueError:
        refresh_s = DEFAULT_REFRESH_S
    return ConsoleConfig(settings.api_url, settings.agent_key or "", refresh_s)


@st.cache_resource(show_spinner=False)
def api_client(api_url: str, agent_key: str) -> AgentApiClient:
    return AgentApiClient(api_url, agent_key, timeout=60.0)


@st.cache_data(show_spinner=False, ttl=600)
def agent_name(api_url: str, agent_key: str) -> str | None:
    """Who this key is: the API's /v1/agent/me when it has one, else this machine's settings.agent_keys."""
    try:
        name = api_client(api_url, agent_key).whoami()
    except ConsoleError:
        name = None
    if name:
        return name
    from knowledge.settings import Settings

    return next((n for n, k in Settings().agent_keys.items() if k == agent_key), None)


# --- state helpers ---------------------------------------------------------------------------------
def flash(kind: str, text: str) -> None:
    st.session_state.setdefault("flash", []).append((kind, text))


def show_flashes() -> None:
    for kind, text in st.session_state.pop("flash", []):
        {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.info)(text)


def me() -> str | None:
    return st.session_state.get("me")


def run_action(label: str, fn: Any, *args: Any) -> Any:
    """Call the API; turn its errors into a message on the page instead of a traceback."""
    try:
        result = fn(*args)
    except OwnershipConflict as exc:
        flash("warning", f"{label}: someone else has this conversation ({exc}).")
    except (ConsoleError, ValueError) as exc:
        flash("error", f"{label} failed: {exc}")
    else:
        flash("success", f"{label}: done.")
        return result
    return None


# --- callbacks (run before the next page draw) -------------------------------------------------------
def open_conversation(conversation_id: str) -> None:
    st.session_state["conversation_id"] = conversation_id


def do_claim(client: AgentApiClient, conversation_id: str) -> None:
    conversation = run_action("Claim", client.claim, conversation_id)
    if conversation is not None and conversation.assigned_agent:
        st.session_state["me"] = conversation.assigned_agent  # the API names us in its answer


def do_hand_back(client: AgentApiClient, conversation_id: str) -> None:
    run_action("Hand back", client.hand_back, conversation_id)


def do_close(client: AgentApiClient, conversation_id: str) -> None:
    run_action("Close", client.close_conversation, conversation_id)


def do_send(client: AgentApiClient, conversation_id: str) -> None:
    key = f"reply-{conversation_id}"
    if run_action("Message sent", client.send_message, conversation_id, st.session_state.get(key, "")):
        st.session_state[key] = ""


def do_suggest(client: AgentApiClient, conversation_id: str) -> None:
    drafts = run_action("Suggestions", client.generate_suggestions, conversation_id)
    if drafts is not None and not drafts:
        flash("info", "No draft for this conversation (no customer message to answer).")


def do_decide(client: AgentApiClient, conversation_id: str, suggestion_id: int, choice: str) -> None:
    text = st.session_state.get(f"edit-text-{suggestion_id}") if choice == "edited" else None
    label = {"accepted": "Draft sent", "edited": "Edited draft sent", "rejected": "Draft rejected"}[choice]
    if run_action(label, client.decide_suggestion, conversation_id, suggestion_id, choice, text):
        st.session_state.pop(f"editing-{suggestion_id}", None)


# --- queue ---------------------------------------------------------------------------------------
def queue_panel(client: AgentApiClient, refresh_s: float) -> None:
    @st.fragment(run_every=refresh_s)
    def live_queue() -> None:
        try:
            items = client.queue()
            mine = [c for c in client.conversations(status="human") if me() and c.assigned_agent == me()]
        except ConsoleError as exc:
            st.error(f"Queue unavailable: {exc}")
            return
        rows = views.queue_rows(items)
        st.subheader(f"Waiting for a human ({len(rows)})")
        if not rows:
            st.caption("Nobody is waiting. The queue refreshes by itself.")
        selected = st.session_state.get("conversation_id")
        for row in rows:
            with st.container(border=True):
                head = st.columns([5, 2, 2], vertical_alignment="center")
                head[0].markdown(f"**{row.title}** · {row.channel}")
                head[1].markdown(f":material/schedule: **{row.wait}**")
                current = row.conversation_id == selected
                if head[2].button(
                    "Open",
                    key=f"open-{row.conversation_id}",
                    type="primary" if not current else "secondary",
                    disabled=current,
                    width="stretch",
                ):
                    open_conversation(row.conversation_id)
                    st.rerun()
                st.markdown(
                    f"{views.priority_badge(row.priority).markdown} {row.sentiment.markdown} "
                    f":violet-background[{row.trigger}]"
                )
                if row.reason:
                    st.caption(views.clip(row.reason, 160))
        if mine:
            st.subheader(f"Yours ({len(mine)})")
            for conversation in mine:
                label = f"{conversation.user_id or 'Anonymous'} · {conversation.channel}"
                if st.button(label, key=f"mine-{conversation.id}", width="stretch"):
                    open_conversation(conversation.id)
                    st.rerun()
        st.caption(f"Refreshes every {refresh_s:g} s.")

    live_queue()


# --- conversation ----------------------------------------------------------------------------------
def render_transcript(detail: ConversationDetail) -> None:
    rows = views.transcript_rows(detail.messages, me())
    if not rows:
        st.caption("No messages yet.")
    for row in rows:
        if row.role == "system":
            st.caption(f":material/info: {row.text} · {row.time}")
            continue
        with st.chat_message(row.name, avatar=row.avatar):
            st.markdown(f"**{row.name}** · {row.time}")
            st.markdown(row.text or "_(empty)_")
            if row.guard_note:
                st.caption(f":material/flag: {row.guard_note}")
            if row.citations:
                st.markdown("Sources: " + " · ".join(c.markdown for c in row.citations))
            for call in row.tool_calls:
                with st.expander(f"Tool call: {call.title}", icon=":material/build:"):
                    st.markdown("Arguments")
                    st.code(call.arguments, language="json")
                    st.markdown("Result")
                    st.code(call.result, language="json")


def conversation_panel(client: AgentApiClient, conversation_id: str, refresh_s: float) -> Any:
    try:
        detail = client.conversation(conversation_id)
    except ConsoleError as exc:
        st.error(f"Cannot open the conversation: {exc}")
        return None
    conversation = detail.conversation
    owner = views.ownership(conversation.status, conversation.assigned_agent, me())
    name = views.customer_name(detail.customer, conversation.user_id)
    st.subheader(f"{name} · {views.STATUS_LABELS.get(conversation.status, conversation.status)}")
    takeover = conversation.takeover or {}
    if takeover:
        st.markdown(
            f"{views.sentiment_badge(takeover.get('sentiment')).markdown} "
            f":violet-background[{views.trigger_label(takeover.get('trigger'))}] "
            f"{views.clip(str(takeover.get('reason') or ''), 160)}"
        )
    banner = st.success if owner.can_send else (st.warning if owner.owner else st.info)
    banner(owner.banner)
    st.caption(
        f"Channel {conversation.channel} · language {conversation.language or '?'} · id {conversation.id}"
    )

    buttons = st.columns(3)
    buttons[0].button(
        "Claim",
        key="claim",
        type="primary",
        disabled=not owner.can_claim,
        width="stretch",
        on_click=do_claim,
        args=(client, conversation.id),
    )
    buttons[1].button(
        "Hand back to bot",
        key="handback",
        disabled=not owner.can_hand_back,
        width="stretch",
        on_click=do_hand_back,
        args=(client, conversation.id),
    )
    buttons[2].button(
        "Close",
        key="close",
        disabled=not owner.can_close,
        width="stretch",
        on_click=do_close,
        args=(client, conversation.id),
    )

    transcript_tab, customer_tab = st.tabs(["Transcript", "Customer & orders"])
    with transcript_tab:

        @st.fragment(run_every=refresh_s)
        def live_transcript() -> None:
            try:
                fresh = client.conversation(conversation.id)
            except ConsoleError as exc:
                st.error(f"Transcript unavailable: {exc}")
                return
            with st.container(height=460):
                render_transcript(fresh)

        live_transcript()
        key = f"reply-{conversation.id}"
        st.text_area(
            "Your reply",
            key=key,
            height=90,
            disabled=not owner.can_send,
            placeholder="Write to the customer…" if owner.can_send else owner.banner,
        )
        st.button(
            "Send",
            key="send",
            type="primary",
            disabled=not owner.can_send,
            on_click=do_send,
            args=(client, conversation.id),
        )
    with customer_tab:
        lines = views.profile_lines(detail.customer)
        if not lines:
            st.caption("Not authenticated: no customer profile.")
        for label, value in lines:
            st.markdown(f"**{label}:** {value}")
        orders = views.order_rows(detail.orders)
        if orders:
            st.dataframe(pd.DataFrame(orders), hide_index=True, width="stretch")
    return detail, owner


# --- suggestions (sidebar) ----------------------------------------------------------------------------
def suggestion_card(
    client: AgentApiClient, conversation_id: str, suggestion: SuggestedReply, can_send: bool
) -> None:
    sid = suggestion.id
    with st.container(border=True):
        st.markdown(f"**Draft {suggestion.draft_index + 1}**")
        st.markdown(suggestion.draft_text)
        sources = views.source_lines(suggestion)
        if sources:
            st.caption("Sources: " + " · ".join(sources))
        confirmed = True
        if views.needs_confirmation(suggestion):
            st.warning(
                "This draft proposes changes. The console does not run them: sending it asks the "
                "customer to confirm, then the bot acts."
            )
            confirmed = True
            for i, action in enumerate(suggestion.proposed_actions):
                ticked = st.checkbox(
                    f"I checked: {views.action_sentence(action.name, action.arguments)}",
                    key=f"confirm-{sid}-{i}",
                    disabled=not can_send,
                )
                confirmed = confirmed and ticked
        usable = can_send and confirmed
        editing = st.session_state.get(f"editing-{sid}", False)
        if editing:
            st.text_area("Edit the draft", value=suggestion.draft_text, key=f"edit-text-{sid}", height=140)
            edit_cols = st.columns(2)
            edit_cols[0].button(
                "Send edited",
                key=f"send-edited-{sid}",
                type="primary",
                disabled=not usable,
                on_click=do_decide,
                args=(client, conversation_id, sid, "edited"),
            )
            edit_cols[1].button(
                "Cancel",
                key=f"cancel-edit-{sid}",
                on_click=lambda: st.session_state.update({f"editing-{sid}": False}),
            )
        else:
            cols = st.columns(3)
            cols[0].button(
                "Send",
                key=f"accept-{sid}",
                type="primary",
                disabled=not usable,
                on_click=do_decide,
                args=(client, conversation_id, sid, "accepted"),
                help="Send as is",
            )
            cols[1].button(
                "Edit",
                key=f"edit-{sid}",
                disabled=not usable,
                on_click=lambda: st.session_state.update({f"editing-{sid}": True}),
            )
            cols[2].button(
                "Reject",
                key=f"reject-{sid}",
                on_click=do_decide,
                args=(client, conversation_id, sid, "rejected"),
            )


def suggestions_sidebar(client: AgentApiClient, detail: ConversationDetail | None, can_send: bool) -> None:
    st.header("Suggested replies")
    if detail is None:
        st.caption("Open a conversation to see suggested replies.")
        return
    cid = detail.conversation.id
    pending = [s for s in detail.suggestions if s.choice == "pending"]
    decided = [s for s in detail.suggestions if s.choice != "pending"]
    st.button(
        "Suggest replies" if not pending else "Suggest again",
        key="suggest",
        width="stretch",
        disabled=detail.conversation.status == "closed",
        on_click=do_suggest,
        args=(client, cid),
    )
    if not can_send:
        st.caption("Claim the conversation to send a draft.")
    for suggestion in views.latest_batch(pending):
        suggestion_card(client, cid, suggestion, can_send)
    if decided:
        with st.expander(f"Decided drafts ({len(decided)})"):
            for s in decided[-10:]:
                st.markdown(f"**{s.choice}** · {views.clip(s.final_text or s.draft_text, 120)}")


# --- insights --------------------------------------------------------------------------------------
def insights_page(client: AgentApiClient) -> None:
    st.header("Insights")
    try:
        data = client.insights()
    except ConsoleError as exc:
        st.error(f"Insights unavailable: {exc}")
        return
    cols = st.columns(5)
    cols[0].metric("Conversations", data.conversations if data.conversations is not None else "—")
    cols[1].metric("Resolution rate", views.percent(data.resolution_rate))
    cols[2].metric("Takeover rate", views.percent(data.takeover_rate))
    cols[3].metric("Median first response", views.format_wait(data.median_first_response_s))
    cols[4].metric("Suggestion acceptance", views.percent(data.suggestion_acceptance_rate))
    if data.median_human_response_s is not None:
        st.caption(
            f"Median time to a human's first reply after takeover: "
            f"{views.format_wait(data.median_human_response_s)}"
        )
    left, right = st.columns(2)
    with left:
        st.subheader("Takeover reasons")
        reasons = views.reason_counts(data.takeover_reasons)
        if reasons:
            st.bar_chart(
                pd.DataFrame({"reason": list(reasons), "takeovers": list(reasons.values())}),
                x="reason",
                y="takeovers",
                horizontal=True,
            )
        else:
            st.caption("No takeovers yet.")
    with right:
        st.subheader("Suggested replies")
        choices = {k: v for k, v in data.suggestions.items() if k != "acceptance_rate"}
        if any(choices.values()):
            st.bar_chart(
                pd.DataFrame({"choice": list(choices), "drafts": list(choices.values())}),
                x="choice",
                y="drafts",
            )
        else:
            st.caption("No suggestions yet.")
    st.subheader("Customer sentiment over time")
    points = views.sentiment_series(data.sentiment_over_time)
    if points:
        st.line_chart(pd.DataFrame(points), x="day", y="mean sentiment")
    else:
        st.caption("No customer messages yet.")


# --- page ------------------------------------------------------------------------------------------
def main() -> None:
    # An int sidebar state is its width: the drafts and their three buttons need room.
    st.set_page_config(
        page_title="Parley console", page_icon=":material/forum:", layout="wide", initial_sidebar_state=440
    )
    config = load_config()
    with st.sidebar:
        st.title(":material/forum: Parley console")
        page = st.radio("View", ["Desk", "Contacts", "Insights"], key="page", horizontal=True)
    try:
        client = api_client(config.api_url, config.agent_key)
    except ConsoleError as exc:
        st.error(f"{exc}. Start the console with `parley console --api-url URL --agent-key KEY`.")
        st.stop()
        return
    if "me" not in st.session_state:
        st.session_state["me"] = agent_name(config.api_url, config.agent_key)
    st.sidebar.caption(f"Signed in as **{me() or 'unknown agent'}** · {config.api_url}")
    show_flashes()

    if page == "Insights":
        insights_page(client)
        return
    if page == "Contacts":  # one timeline per contact across channels (ui/console_timeline.py)
        from ui.console_timeline import contacts_page

        contacts_page(config.api_url, config.agent_key)
        return
    left, right = st.columns([2, 3], gap="large")
    with left:
        queue_panel(client, config.refresh_s)
    result = None
    with right:
        conversation_id = st.session_state.get("conversation_id")
        if conversation_id:
            result = conversation_panel(client, conversation_id, config.refresh_s)
        else:
            st.subheader("No conversation open")
            st.caption("Pick one from the queue.")
    with st.sidebar:
        detail, owner = result if result else (None, None)
        suggestions_sidebar(client, detail, bool(owner and owner.can_send))


main()
