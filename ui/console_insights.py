"""The Insights page: the desk's figures (ASA, first response, resolution, handoff rate, honest bot
resolution rate, CES, SLA breaches) overall and by day, team, channel or agent, as charts and tables, with
CSV downloads. The numbers are the API's (GET /insights): the console computes nothing itself."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from ui import console_desk_views as desk_views
from ui import console_views as views
from ui.console_client import ConsoleError
from ui.console_desk_client import DeskClient
from ui.console_labels import labels
from ui.console_text import literal

GROUP_LABELS = labels("groups")  # data in console_labels.yaml
# The charts of a grouping, two a row: (title, the table's column(s), bar_chart options).
CHARTS: tuple[tuple[str, str | list[str], dict[str, Any]], ...] = (
    ("Average speed of answer (s)", "ASA s", {}),
    ("Handoff and bot resolution (%)", ["handoff rate %", "bot resolution %"], {"stack": False}),
    ("Customer effort score (1-7)", "CES", {}),
    ("SLA breaches", "SLA breaches", {}),
)


def page(client: DeskClient) -> None:
    st.header("Insights")
    try:
        data = client.insights()
    except ConsoleError as exc:
        st.error(f"Insights unavailable: {literal(exc, 300)}")
        return
    overall = data.overall or {}
    metrics = desk_views.overall_metrics(overall)
    for row_start in range(0, len(metrics), 4):
        cols = st.columns(4)
        for col, (label, value) in zip(cols, metrics[row_start : row_start + 4], strict=False):
            col.metric(label, value)
    st.caption(
        f"{overall.get('conversations', 0)} conversations, {overall.get('handoffs', 0)} handed to a person; "
        f"bot-only: {overall.get('bot_resolved', 0)} resolved, {overall.get('bot_unresolved', 0)} not, "
        f"{overall.get('bot_pending', 0)} too recent or anonymous to judge; "
        f"{overall.get('ces_responses', 0)} CES answers. Resolved by the bot means: no human, the last "
        "answer helped, and the customer did not come back on the same issue within 7 days."
    )
    by = st.radio("By", list(GROUP_LABELS), key="insights-by", horizontal=True, format_func=GROUP_LABELS.get)
    table = desk_views.group_table(data.by.get(by, []), by)
    if not table:
        st.caption("No conversations yet.")
    else:
        frame = pd.DataFrame(table)
        numbers = [c for c in frame.columns if c != by]
        frame[numbers] = frame[numbers].apply(pd.to_numeric, errors="coerce")  # None: no bar, not "null"
        for row_start in range(0, len(CHARTS), 2):
            for column, (title, series, options) in zip(
                st.columns(2), CHARTS[row_start : row_start + 2], strict=True
            ):
                with column:
                    st.subheader(title)
                    st.bar_chart(frame, x=by, y=series, **options)
        st.dataframe(frame, hide_index=True, width="stretch")
    downloads = st.columns(2)
    try:
        downloads[0].download_button(
            f"Download CSV by {by}",
            client.insights_csv(by),
            file_name=f"parley-insights-{by}.csv",
            mime="text/csv",
            key="csv-group",
        )
        downloads[1].download_button(
            "Download CSV per conversation",
            client.insights_csv(None),
            file_name="parley-insights-conversations.csv",
            mime="text/csv",
            key="csv-conversations",
        )
    except ConsoleError as exc:
        st.error(f"CSV export unavailable: {literal(exc, 300)}")
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
        st.subheader("Customer sentiment over time")
        points = views.sentiment_series(data.sentiment_over_time)
        if points:
            st.line_chart(pd.DataFrame(points), x="day", y="mean sentiment")
        else:
            st.caption("No customer messages yet.")
    st.caption(f"Suggested replies used: {views.percent(data.suggestion_acceptance_rate)} of decided drafts.")
