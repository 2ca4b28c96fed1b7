"""The Desk page: the queue (left, refreshing itself) and the open conversation (right) with its
transcript, ownership buttons, transfer and the reply box. Everything a customer, an article or a shop
record wrote is drawn with st.text (no Markdown, no HTML, no links, nothing fetched); only our own words
go through Markdown."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import console_desk_views as desk_views
from ui import console_views as views
from ui.console_client import ConsoleError, ConversationDetail
from ui.console_desk_client import DeskClient
from ui.console_state import flash, me, run_action
from ui.console_text import literal


# --- callbacks (run before the next page draw) -------------------------------------------------------
def open_conversation(conversation_id: str) -> None:
    st.session_state["conversation_id"] = conversation_id


def do_claim(client: DeskClient, conversation_id: str) -> None:
    run_action("Claim", client.claim, conversation_id)


def do_hand_back(client: DeskClient, conversation_id: str) -> None:
    run_action("Hand back", client.hand_back, conversation_id)


def do_close(client: DeskClient, conversation_id: str) -> None:
    run_action("Close", client.close_conversation, conversation_id)


def do_send(client: DeskClient, conversation_id: str) -> None:
    key = f"reply-{conversation_id}"
    if run_action("Message sent", client.send_message, conversation_id, st.session_state.get(key, "")):
        st.session_state[key] = ""


def do_transfer(client: DeskClient, conversation_id: str) -> None:
    target = str(st.session_state.get("transfer-target") or "")
    note = str(st.session_state.get("transfer-note") or "")
    kind, _, name = target.partition(":")
    if not name:
        flash("error", "Transfer failed: choose an agent or a team.")
        return
    to = {"to_agent": name} if kind == "agent" else {"to_team": name}
    if run_action(f"Transferred to {kind} {name}", client.transfer, conversation_id, note=note, **to):
        st.session_state["transfer-note"] = ""


# --- queue ---------------------------------------------------------------------------------------------
def queue_card(row: views.QueueRow, selected: str | None) -> None:
    routing = row.routing
    with st.container(border=True):
        head = st.columns([5, 2, 2], vertical_alignment="center")
        head[0].text(f"{row.title} · {row.channel}")
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
        sla = desk_views.sla_badge(routing.get("sla"))
        band = desk_views.band_badge(routing.get("band"), row.priority)
        trigger = literal(row.trigger, 60)
        st.markdown(f"{band.markdown} {sla.markdown} {row.sentiment.markdown} :violet-background[{trigger}]")
        line = desk_views.routing_line(routing)
        if line:
            st.caption(desk_views.label_safe(line, 200))
        if row.reason:
            st.text(views.clip(row.reason, 160))


def queue_panel(client: DeskClient, refresh_s: float) -> None:
    @st.fragment(run_every=refresh_s)
    def live_queue() -> None:
        team = st.session_state.get("queue-team") or None
        try:
            items = client.queue_for(team)
            mine = [c for c in client.conversations(status="human") if me() and c.assigned_agent == me()]
        except ConsoleError as exc:
            st.error(f"Queue unavailable: {literal(exc, 300)}")
            return
        rows = views.queue_rows(items)
        breached = sum(1 for r in rows if (r.routing.get("sla") or {}).get("breached"))
        st.subheader(f"Waiting for a human ({len(rows)})")
        if breached:
            st.error(f"{breached} conversation(s) past their SLA target", icon="⚠️")
        if not rows:
            st.caption("Nobody is waiting. The queue refreshes by itself.")
        selected = st.session_state.get("conversation_id")
        for row in rows:
            queue_card(row, selected)
        if mine:
            st.subheader(f"Yours ({len(mine)})")
            for conversation in mine:
                label = desk_views.label_safe(
                    f"{conversation.user_id or 'Anonymous'} · {conversation.channel}"
                )
                if st.button(label, key=f"mine-{conversation.id}", width="stretch"):
                    open_conversation(conversation.id)
                    st.rerun()
        st.caption(f"Refreshes every {refresh_s:g} s.")

    live_queue()


# --- conversation --------------------------------------------------------------------------------------
def render_transcript(detail: ConversationDetail) -> None:
    rows = views.transcript_rows(detail.messages, me())
    if not rows:
        st.caption("No messages yet.")
    for row in rows:
        if row.role == "system":
            st.caption(f":material/info: {literal(row.text, 300)} · {literal(row.time)}")
            continue
        with st.chat_message(row.name, avatar=row.avatar):
            st.markdown(f"**{literal(row.name, 80)}** · {literal(row.time)}")
            st.text(row.text or "(empty)")
            if row.guard_note:
                st.caption(":material/flag: Guard note")
                st.text(row.guard_note)
            if row.citations:
                st.text("Sources: " + " · ".join(c.text for c in row.citations))
            for call in row.tool_calls:
                with st.expander(f"Tool call: {desk_views.label_safe(call.title)}", icon=":material/build:"):
                    st.caption("Arguments")
                    st.code(call.arguments, language="json")
                    st.caption("Result")
                    st.code(call.result, language="json")


def ownership_buttons(client: DeskClient, conversation_id: str, owner: views.Ownership) -> None:
    actions = (
        ("Claim", "claim", owner.can_claim, do_claim),
        ("Hand back to bot", "handback", owner.can_hand_back, do_hand_back),
        ("Close", "close", owner.can_close, do_close),
    )
    for column, (label, key, enabled, action) in zip(st.columns(len(actions)), actions, strict=True):
        column.button(
            label,
            key=key,
            type="primary" if key == "claim" else "secondary",
            disabled=not enabled,
            width="stretch",
            on_click=action,
            args=(client, conversation_id),
        )


def transfer_box(client: DeskClient, conversation_id: str) -> None:
    with st.expander("Transfer to an agent or a team", icon=":material/swap_horiz:"):
        try:
            agents = [a.name for a in client.agents() if a.name != me()]
            teams = [t.id for t in client.teams()]
        except ConsoleError as exc:
            st.error(f"Agents and teams unavailable: {literal(exc, 300)}")
            return
        options = [f"agent:{a}" for a in agents] + [f"team:{t}" for t in teams]
        if not options:
            st.caption("No other agent or team on the desk yet (see the Team page).")
            return
        st.selectbox("To", options, key="transfer-target", format_func=lambda o: o.replace(":", " "))
        st.text_input("Note for them", key="transfer-note", max_chars=1000)
        st.button("Transfer", key="transfer", on_click=do_transfer, args=(client, conversation_id))


def conversation_panel(client: DeskClient, conversation_id: str, refresh_s: float) -> Any:
    try:
        detail = client.conversation(conversation_id)
    except ConsoleError as exc:
        st.error(f"Cannot open the conversation: {literal(exc, 300)}")
        return None
    conversation = detail.conversation
    owner = views.ownership(conversation.status, conversation.assigned_agent, me())
    name = views.customer_name(detail.customer, conversation.user_id)
    st.subheader(
        f"{desk_views.label_safe(name)} · {views.STATUS_LABELS.get(conversation.status, conversation.status)}"
    )
    takeover = conversation.takeover or {}
    if takeover:
        st.markdown(
            f"{views.sentiment_badge(takeover.get('sentiment')).markdown} "
            f":violet-background[{literal(views.trigger_label(takeover.get('trigger')), 60)}] "
            f"{desk_views.sla_badge(detail.sla).markdown}"
        )
        if takeover.get("reason"):
            st.text(views.clip(str(takeover.get("reason") or ""), 200))
    banner = st.success if owner.can_send else (st.warning if owner.owner else st.info)
    banner(owner.banner)  # our sentence; agent names come from the operator's settings
    extra = conversation.model_extra or {}
    st.caption(
        desk_views.label_safe(
            f"Channel {conversation.channel} · language {conversation.language or '?'} · "
            + (desk_views.routing_line(extra) + " · " if desk_views.routing_line(extra) else "")
            + f"id {conversation.id}",
            300,
        )
    )
    ownership_buttons(client, conversation.id, owner)

    @st.fragment(run_every=refresh_s)
    def live_transcript() -> None:
        try:
            fresh = client.conversation(conversation.id)
        except ConsoleError as exc:
            st.error(f"Transcript unavailable: {literal(exc, 300)}")
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
    cols = st.columns([1, 3])
    cols[0].button(
        "Send",
        key="send",
        type="primary",
        disabled=not owner.can_send,
        on_click=do_send,
        args=(client, conversation.id),
    )
    if owner.can_send:
        with cols[1]:
            transfer_box(client, conversation.id)
    return detail, owner


def page(client: DeskClient, refresh_s: float) -> Any:
    left, right = st.columns([2, 3], gap="large")
    with left:
        queue_panel(client, refresh_s)
    with right:
        conversation_id = st.session_state.get("conversation_id")
        if conversation_id:
            return conversation_panel(client, conversation_id, refresh_s)
        st.subheader("No conversation open")
        st.caption("Pick one from the queue.")
    return None
