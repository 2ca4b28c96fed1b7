"""The console's Contacts view: one timeline per contact across channels (channel badges, linked identities,
delivery states), an agent's reply on the channel the customer last used or one the agent picks, linking and
splitting identities, and undelivered messages with a retry button.

Talks to the agent API (`/v1/agent/contacts...`, `/v1/agent/deliveries...`) like the rest of the console.
Customer text is shown as text (`st.text`), never as Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from ui.console_labels import labels
from ui.console_text import literal

# Words and colours for the API's codes: data in console_labels.yaml.
CHANNEL_COLORS = labels("channel_colors")
PROOF_LABELS = labels("proofs")
ROLE_NAMES = labels("timeline_roles")


class TimelineError(Exception):
    """The API refused or could not be reached; str() is readable."""


class TimelineApi:
    def __init__(self, api_url: str, agent_key: str, timeout: float = 30.0) -> None:
        self._client = httpx.Client(
            base_url=api_url.rstrip("/"), headers={"Authorization": f"Bearer {agent_key}"}, timeout=timeout
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TimelineError(f"the API is unreachable ({type(exc).__name__})") from exc
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise TimelineError(f"{response.status_code}: {detail}")
        return response.json()

    def contacts(self, query: str = "") -> list[dict[str, Any]]:
        return list(self._call("GET", "/v1/agent/contacts", params={"query": query[:100]}))

    def timeline(self, contact_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/agent/contacts/{contact_id}"))

    def reply(self, contact_id: str, text: str, channel: str | None) -> dict[str, Any]:
        body = {"text": text, **({"channel": channel} if channel else {})}
        return dict(self._call("POST", f"/v1/agent/contacts/{contact_id}/reply", json=body))

    def link(self, contact_id: str, identity_id: int) -> dict[str, Any]:
        return dict(
            self._call("POST", f"/v1/agent/contacts/{contact_id}/link", json={"identity_id": identity_id})
        )

    def split(self, contact_id: str, identity_id: int) -> dict[str, Any]:
        return dict(
            self._call("POST", f"/v1/agent/contacts/{contact_id}/split", json={"identity_id": identity_id})
        )

    def retry(self, delivery_id: int) -> dict[str, Any]:
        return dict(self._call("POST", f"/v1/agent/deliveries/{delivery_id}/retry"))


# --- pure formatting (tested without Streamlit) -------------------------------------------------------
@dataclass(frozen=True)
class TimelineRow:
    channel: str
    badge: str  # Streamlit badge markup of our own channel name (never customer text)
    who: str
    text: str
    when: str
    delivery: str | None  # "sent", "pending (2 attempts)", "NOT DELIVERED: ..." or None


def badge(channel: str) -> str:
    color = CHANNEL_COLORS.get(channel, "gray")
    return f":{color}-badge[{channel if channel in CHANNEL_COLORS else 'other'}]"


def delivery_label(delivery: dict[str, Any] | None) -> str | None:
    if not delivery:
        return None
    status = delivery.get("status")
    if status == "undelivered":
        return (
            f"NOT DELIVERED after {delivery.get('attempts')} attempt(s): {delivery.get('last_error') or ''}"[
                :200
            ]
        )
    if status == "pending":
        return f"sending (attempt {int(delivery.get('attempts') or 0) + 1})"
    return "delivered" if status == "sent" else str(status)


def timeline_rows(view: dict[str, Any]) -> list[TimelineRow]:
    rows = []
    for entry in view.get("entries", []):
        role = str(entry.get("role"))
        who = ROLE_NAMES.get(role, role)
        if role == "agent" and entry.get("author"):
            who = f"Agent {entry['author']}"
        rows.append(
            TimelineRow(
                channel=str(entry.get("channel")),
                badge=badge(str(entry.get("channel"))),
                who=who,
                text=str(entry.get("text") or ""),
                when=str(entry.get("created_at", ""))[:16].replace("T", " "),
                delivery=delivery_label(entry.get("delivery")),
            )
        )
    return rows


def identity_lines(contact: dict[str, Any]) -> list[str]:
    return [
        f"{i['kind']}: {i['value']} · {PROOF_LABELS.get(i['proof'], i['proof'])} (#{i['id']})"
        for i in contact.get("identities", [])
    ]


def contact_label(contact: dict[str, Any]) -> str:
    name = contact.get("display_name") or "(no name)"
    kinds = ", ".join(sorted({i["kind"] for i in contact.get("identities", [])}))
    return f"{name} · {kinds}"


# --- the page ---------------------------------------------------------------------------------------
def contacts_page(api_url: str, agent_key: str) -> None:
    import streamlit as st

    api = TimelineApi(api_url, agent_key)
    st.header("Contacts")
    query = st.text_input("Find a contact (name, email, phone, id)", key="contact-query")
    try:
        contacts = api.contacts(query)
    except TimelineError as exc:
        st.error(f"Contacts unavailable: {literal(exc, 300)}")
        return
    if not contacts:
        st.caption("No contacts yet: they appear when customers write on a channel.")
        return
    labels = {c["id"]: contact_label(c) for c in contacts}
    contact_id = st.selectbox("Contact", list(labels), format_func=lambda cid: labels[cid], key="contact-id")
    try:
        view = api.timeline(contact_id)
    except TimelineError as exc:
        st.error(f"Timeline unavailable: {literal(exc, 300)}")
        return
    contact = view["contact"]
    left, right = st.columns([3, 2], gap="large")
    with right:
        st.subheader("Identities")
        for line in identity_lines(contact):
            st.text(line)
        if contact.get("user_id"):
            st.caption(f"Shop account: {literal(contact['user_id'], 80)}")
        _link_and_split(st, api, contact)
        _undelivered(st, api, view)
        for conversation in view.get("conversations", []):
            if conversation.get("summary"):
                st.markdown(f"**Handover** {badge(conversation['channel'])}")
                st.text(conversation["summary"])
    with left:
        st.subheader("Timeline")
        with st.container(height=480):
            for row in timeline_rows(view):
                st.markdown(f"{row.badge} **{literal(row.who, 80)}** · {literal(row.when)}")
                st.text(row.text)
                if row.delivery:
                    (st.error if row.delivery.startswith("NOT") else st.caption)(literal(row.delivery, 200))
        _reply_box(st, api, contact_id, view)


def _reply_box(st: Any, api: TimelineApi, contact_id: str, view: dict[str, Any]) -> None:
    channels = list(view.get("reply_channels") or [])
    last = view.get("last_used_channel")
    if not channels:
        st.caption("No channel to reply on is configured for this contact.")
        return
    default = channels.index(last) if last in channels else 0
    channel = st.selectbox(
        "Reply on",
        channels,
        index=default,
        key=f"reply-channel-{contact_id}",
        help=literal(f"The customer last wrote on {last or 'no channel yet'}.", 120),
    )
    text = st.text_area("Your reply", key=f"reply-text-{contact_id}", height=90)
    if st.button("Send", key=f"reply-send-{contact_id}", type="primary"):
        if not text.strip():
            st.warning("Write a reply first.")
            return
        try:
            sent = api.reply(contact_id, text.strip(), channel)
        except TimelineError as exc:
            st.error(f"Not sent: {literal(exc, 300)}")
        else:
            st.success(
                literal(f"Sent on {sent['channel']} (conversation {sent['conversation_id'][:8]}).", 200)
            )


def _attempt(st: Any, action: Callable[[], object], done: str) -> None:
    """Run one contact action; say `done`, or the API's refusal."""
    try:
        action()
        st.success(done)
    except TimelineError as exc:
        st.error(str(exc))


def _link_and_split(st: Any, api: TimelineApi, contact: dict[str, Any]) -> None:
    with st.expander("Link or split identities"):
        st.caption("Linking shares history between identities; it never signs anyone in to a shop account.")
        identity_id = st.number_input(
            "Identity # to link into this contact", min_value=1, step=1, key=f"link-{contact['id']}"
        )
        if st.button("Link", key=f"link-btn-{contact['id']}"):
            _attempt(st, partial(api.link, contact["id"], int(identity_id)), "Linked.")
        own = [i["id"] for i in contact.get("identities", [])]
        if len(own) > 1:
            chosen = st.selectbox("Identity # to split out", own, key=f"split-{contact['id']}")
            if st.button("Split", key=f"split-btn-{contact['id']}"):
                _attempt(
                    st, partial(api.split, contact["id"], int(chosen)), "Split into a contact of its own."
                )


def _undelivered(st: Any, api: TimelineApi, view: dict[str, Any]) -> None:
    for delivery in view.get("undelivered", []):
        st.error(literal(f"Undelivered on {delivery['channel']}: {delivery.get('last_error') or ''}", 200))
        if st.button("Retry", key=f"retry-{delivery['id']}"):
            _attempt(st, partial(api.retry, int(delivery["id"])), "Queued again.")
