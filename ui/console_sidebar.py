"""The agent's sidebar beside the open conversation: suggested replies (accept / edit / reject), canned
responses (searchable, variables filled for this customer, inserted into the reply box), and the customer's
profile, orders, history and effort."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui import console_desk_views as desk_views
from ui import console_views as views
from ui.console_client import ConsoleError, ConversationDetail, SuggestedReply
from ui.console_desk_client import DeskClient
from ui.console_state import flash, run_action
from ui.console_text import literal


# --- callbacks -------------------------------------------------------------------------------------
def do_suggest(client: DeskClient, conversation_id: str) -> None:
    drafts = run_action("Suggestions", client.generate_suggestions, conversation_id)
    if isinstance(drafts, list) and not drafts:
        flash("info", "No draft for this conversation (no customer message to answer).")


def do_decide(client: DeskClient, conversation_id: str, suggestion_id: int, choice: str) -> None:
    text = st.session_state.get(f"edit-text-{suggestion_id}") if choice == "edited" else None
    label = {"accepted": "Draft sent", "edited": "Edited draft sent", "rejected": "Draft rejected"}[choice]
    if run_action(label, client.decide_suggestion, conversation_id, suggestion_id, choice, text):
        st.session_state.pop(f"editing-{suggestion_id}", None)


def do_insert_macro(client: DeskClient, conversation_id: str, macro_id: int) -> None:
    rendered = run_action("Canned response inserted", client.render_macro, macro_id, conversation_id)
    if rendered and rendered is not True:
        key = f"reply-{conversation_id}"
        current = str(st.session_state.get(key) or "").rstrip()
        st.session_state[key] = f"{current}\n\n{rendered.text}".strip() if current else rendered.text
        if rendered.missing:
            flash("warning", "Fill in by hand: " + ", ".join(rendered.missing))


# --- suggested replies -------------------------------------------------------------------------------
def suggestion_card(
    client: DeskClient, conversation_id: str, suggestion: SuggestedReply, can_send: bool
) -> None:
    sid = suggestion.id
    with st.container(border=True):
        st.markdown(f"**Draft {suggestion.draft_index + 1}**")
        st.text(suggestion.draft_text)
        sources = views.source_lines(suggestion)
        if sources:
            st.text("Sources: " + " · ".join(sources))
        confirmed = True
        if views.needs_confirmation(suggestion):
            st.warning(
                "This draft proposes changes. The console does not run them: sending it asks the "
                "customer to confirm, then the bot acts."
            )
            for i, action in enumerate(suggestion.proposed_actions):
                st.text(views.action_sentence(action.name, action.arguments))
                ticked = st.checkbox("I checked this change", key=f"confirm-{sid}-{i}", disabled=not can_send)
                confirmed = confirmed and ticked
        usable = can_send and confirmed

        def decide(column: DeltaGenerator, label: str, key: str, choice: str, **options: Any) -> None:
            """A button that sends (accepted, edited) or rejects this draft."""
            args = (client, conversation_id, sid, choice)
            column.button(label, key=key, on_click=do_decide, args=args, **options)

        def editing(on: bool) -> Callable[[], None]:
            return lambda: st.session_state.update({f"editing-{sid}": on})

        if st.session_state.get(f"editing-{sid}", False):
            st.text_area("Edit the draft", value=suggestion.draft_text, key=f"edit-text-{sid}", height=140)
            edit_cols = st.columns(2)
            decide(
                edit_cols[0],
                "Send edited",
                f"send-edited-{sid}",
                "edited",
                type="primary",
                disabled=not usable,
            )
            edit_cols[1].button("Cancel", key=f"cancel-edit-{sid}", on_click=editing(False))
        else:
            cols = st.columns(3)
            decide(
                cols[0],
                "Send",
                f"accept-{sid}",
                "accepted",
                type="primary",
                disabled=not usable,
                help="Send as is",
            )
            cols[1].button("Edit", key=f"edit-{sid}", disabled=not usable, on_click=editing(True))
            decide(cols[2], "Reject", f"reject-{sid}", "rejected")


def suggestions_tab(client: DeskClient, detail: ConversationDetail, can_send: bool) -> None:
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
                st.caption(s.choice)
                st.text(views.clip(s.final_text or s.draft_text, 120))


# --- canned responses --------------------------------------------------------------------------------
def macros_tab(client: DeskClient, detail: ConversationDetail, can_send: bool) -> None:
    cid = detail.conversation.id
    query = st.text_input("Search canned responses", key="macro-query", placeholder="refund, delivery…")
    try:
        found = client.macros(query, detail.conversation.language)
    except ConsoleError as exc:
        st.error(f"Canned responses unavailable: {literal(exc, 300)}")
        return
    if not found:
        st.caption("No canned response matches." if query else "No canned responses yet.")
    for macro in found[:8]:
        with st.container(border=True):
            st.markdown(f"**{desk_views.label_safe(macro.title)}**")
            st.text(views.clip(macro.body, 240))
            st.button(
                "Insert into reply",
                key=f"macro-{macro.id}",
                disabled=not can_send,
                on_click=do_insert_macro,
                args=(client, cid, macro.id),
            )
    with st.expander("New canned response"):
        st.text_input("Title", key="macro-title", max_chars=120)
        st.text_area(
            "Text ({{first_name}}, {{order_id}}, {{order_status}}, {{agent_name}}…)", key="macro-body"
        )
        st.text_input("Tags (comma separated)", key="macro-tags")

        def create() -> None:
            tags = [t.strip() for t in str(st.session_state.get("macro-tags") or "").split(",") if t.strip()]
            if run_action(
                "Canned response saved",
                client.create_macro,
                str(st.session_state.get("macro-title") or ""),
                str(st.session_state.get("macro-body") or ""),
                tags,
            ):
                for key in ("macro-title", "macro-body", "macro-tags"):
                    st.session_state[key] = ""

        st.button("Save", key="macro-save", on_click=create)


# --- the customer ------------------------------------------------------------------------------------
def customer_tab(detail: ConversationDetail) -> None:
    lines = views.profile_lines(detail.customer)
    if not lines:
        st.caption("Not authenticated: no customer profile.")
    else:
        st.caption("Profile")
        st.dataframe(pd.DataFrame(lines, columns=["field", "value"]), hide_index=True, width="stretch")
    orders = views.order_rows(detail.orders)
    if orders:
        st.caption("Orders")
        st.dataframe(pd.DataFrame(orders), hide_index=True, width="stretch")
    history = desk_views.history_rows(detail.history)
    st.caption(f"Earlier conversations ({len(history)})")
    if history:
        st.dataframe(pd.DataFrame(history), hide_index=True, width="stretch")
    effort = desk_views.effort_lines(detail.effort)
    if effort:
        st.caption("Effort in this conversation")
        st.dataframe(pd.DataFrame(effort, columns=["measure", "value"]), hide_index=True, width="stretch")


def sidebar(client: DeskClient, detail: ConversationDetail | None, can_send: bool) -> None:
    if detail is None:
        st.caption("Open a conversation to see suggested replies, canned responses and the customer.")
        return
    drafts, canned, customer = st.tabs(["Suggested replies", "Canned responses", "Customer"])
    with drafts:
        suggestions_tab(client, detail, can_send)
    with canned:
        macros_tab(client, detail, can_send)
    with customer:
        customer_tab(detail)
