"""Pure formatting for the desk's parts of the console: SLA time left, routing, effort, history, insights
tables and charts, and escaping for the few places Streamlit parses Markdown (widget labels). No Streamlit,
no HTTP: every rule has a unit test.

Text the customer (or a help article, or a shop record) wrote is shown with `st.text`, which parses
nothing: no Markdown, no HTML, no links, no `:red-background[...]` directives, no images fetched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ui.console_labels import labels
from ui.console_text import literal
from ui.console_views import Badge, format_wait

# Words and colours for the API's codes: data in console_labels.yaml.
STAGE_LABELS = labels("stages")
BAND_COLORS = labels("band_colors")

INSIGHT_METRICS: tuple[tuple[str, str, str], ...] = (
    # (key in overall, label, kind)
    ("asa_s", "ASA", "seconds"),
    ("first_response_s", "First response", "seconds"),
    ("first_human_response_s", "First human reply", "seconds"),
    ("resolution_s", "Resolution time", "seconds"),
    ("handoff_rate", "Handoff rate", "percent"),
    ("bot_resolution_rate", "Bot resolution (honest)", "percent"),
    ("ces_mean", "CES (1-7)", "score"),
    ("sla_breaches", "SLA breaches", "count"),
)


def label_safe(text: str, limit: int = 80) -> str:
    """Untrusted text for a widget label (labels parse Markdown): one line, every punctuation mark escaped
    (ui.console_text.literal, the console's one escaping helper)."""
    return literal(text, limit)


def sla_badge(sla: dict[str, Any] | None) -> Badge:
    """The first SLA target not met yet: time left, or how late (red)."""
    if not sla:
        return Badge("no SLA", "gray", "·")
    first, resolution = sla.get("first_response_left_s"), sla.get("resolution_left_s")
    if sla.get("first_response_breached"):
        return Badge(f"first reply late by {format_wait(-(first or 0))}", "red", ":material/warning:")
    if sla.get("resolution_breached"):
        return Badge(f"resolution late by {format_wait(-(resolution or 0))}", "red", ":material/warning:")
    if first is not None and first >= 0:
        color = "orange" if first < 60 else "green"
        return Badge(f"first reply due in {format_wait(first)}", color, ":material/timer:")
    if resolution is not None:
        return Badge(f"resolve within {format_wait(resolution)}", "green", ":material/timer:")
    return Badge("no SLA", "gray", "·")


def band_badge(band: str | None, score: float) -> Badge:
    name = band or "normal"
    return Badge(f"{name} · score {score:.2f}", BAND_COLORS.get(name, "gray"), "●")


def routing_line(routing: dict[str, Any]) -> str:
    """'team support · returns · after delivery · #2 in its queue' (plain text)."""
    parts = []
    if routing.get("team_id"):
        parts.append(f"team {routing['team_id']}")
    if routing.get("topic"):
        parts.append(str(routing["topic"]))
    if routing.get("stage"):
        parts.append(STAGE_LABELS.get(str(routing["stage"]), str(routing["stage"])))
    if routing.get("deferred_until"):
        parts.append(f"waits for opening ({routing['deferred_until'][:16].replace('T', ' ')} UTC)")
    elif routing.get("position"):
        parts.append(f"#{routing['position']} in its queue")
    if routing.get("held"):
        parts.append("held: over the per-IP / per-customer cap")
    return " · ".join(parts)


def effort_lines(effort: dict[str, Any]) -> list[tuple[str, str]]:
    if not effort:
        return []
    recontact = effort.get("recontact_within_7_days")
    resolution = effort.get("time_to_resolution_s")
    return [
        ("Customer turns", str(effort.get("customer_turns", 0))),
        ("Repeated questions", str(effort.get("repeated_questions", 0))),
        ("Channel switches (7 days)", str(effort.get("channel_switches", 0))),
        ("Handovers", str(effort.get("handovers", 0))),
        ("Time to resolution", format_wait(resolution) if resolution is not None else "open"),
        (
            "Came back within 7 days",
            "too early to tell" if recontact is None else "yes" if recontact else "no",
        ),
    ]


def history_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for item in history:
        created = str(item.get("created_at") or "")[:16].replace("T", " ")
        rows.append(
            {
                "when": created,
                "channel": item.get("channel", ""),
                "status": item.get("status", ""),
                "topic": item.get("topic") or "",
                "human": "yes" if item.get("handed_over") else "no",
                "CES": item.get("ces_score") if item.get("ces_score") is not None else "",
                "first message": " ".join(str(item.get("first_message", "")).split())[:120],
            }
        )
    return rows


def metric_value(value: Any, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "seconds":
        return format_wait(float(value))
    if kind == "percent":
        return f"{100 * float(value):.0f}%"
    if kind == "score":
        return f"{float(value):.1f}"
    return str(int(value))


def overall_metrics(overall: dict[str, Any]) -> list[tuple[str, str]]:
    return [(label, metric_value(overall.get(key), kind)) for key, label, kind in INSIGHT_METRICS]


def group_table(groups: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """One row per group with readable columns (for st.dataframe and the charts)."""
    rows = []
    for g in groups:
        rows.append(
            {
                by: "(none)" if str(g.get(by, "")) in ("", "-") else str(g.get(by)),
                "conversations": int(g.get("conversations", 0)),
                "handoff rate %": None
                if g.get("handoff_rate") is None
                else round(100 * g["handoff_rate"], 1),
                "ASA s": g.get("asa_s"),
                "first response s": g.get("first_response_s"),
                "resolution s": g.get("resolution_s"),
                "bot resolution %": None
                if g.get("bot_resolution_rate") is None
                else round(100 * g["bot_resolution_rate"], 1),
                "CES": g.get("ces_mean"),
                "SLA breaches": int(g.get("sla_breaches", 0)),
            }
        )
    return rows


@dataclass(frozen=True)
class TeamRow:
    id: str
    name: str
    skills: str
    hours: str
    members: str


def team_rows(teams: list[Any]) -> list[dict[str, str]]:
    rows = []
    for t in teams:
        skills = " / ".join(
            ", ".join(values) or "any"
            for values in (t.languages, t.topics, [STAGE_LABELS.get(s, s) for s in t.stages])
        )
        hours = (
            "always open"
            if not t.hours
            else f"{t.hours.get('timezone', 'UTC')}: "
            + "; ".join(f"{day} {' '.join(ranges)}" for day, ranges in (t.hours.get("weekly") or {}).items())
        )
        members = ", ".join(f"{m['agent']}{' (lead)' if m.get('role') == 'lead' else ''}" for m in t.members)
        rows.append(
            {
                "team": t.id,
                "name": t.name,
                "language / topic / stage": skills,
                "hours": hours,
                "members": members or "nobody",
            }
        )
    return rows


def agent_rows(agents: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "agent": a.name,
            "status": a.status,
            "load": f"{a.load} of {a.capacity}",
            "teams": ", ".join(a.teams),
            "leads": ", ".join(a.lead_of),
        }
        for a in agents
    ]
