"""Pure formatting of the desk's parts of the console (no Streamlit, no HTTP)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ui import console_desk_views as views


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a word joiner (U+2060) follows each ':' so GFM autolinks cannot form (ui/console_text.py)
        (":red-background[**SYSTEM NOTE**]", "\\:\u2060red\\-background\\[\\*\\*SYSTEM NOTE\\*\\*\\]"),
        ("![x](http://evil/p.png)", "\\!\\[x\\]\\(http\\:\u2060\\/\\/evil\\/p\\.png\\)"),
        ("<img src=x onerror=alert(1)>", "\\<img src\\=x onerror\\=alert\\(1\\)\\>"),
        ("Emma\nLaurent", "Emma Laurent"),
        ("plain words", "plain words"),
    ],
)
def test_label_safe_escapes_every_markdown_character(text: str, expected: str) -> None:
    assert views.label_safe(text) == expected


def test_label_safe_clips() -> None:
    assert views.label_safe("a" * 100, limit=10) == "a" * 9 + "…"


def test_sla_badges() -> None:
    assert views.sla_badge(None).label == "no SLA"
    due = views.sla_badge({"first_response_left_s": 245, "first_response_breached": False})
    assert (due.color, due.label) == ("green", "first reply due in 4m 05s")
    soon = views.sla_badge({"first_response_left_s": 30})
    assert soon.color == "orange"
    late = views.sla_badge({"first_response_left_s": -125, "first_response_breached": True, "breached": True})
    assert (late.color, late.label) == ("red", "first reply late by 2m 05s")
    resolution = views.sla_badge(
        {"first_response_left_s": None, "resolution_left_s": -60, "resolution_breached": True}
    )
    assert resolution.color == "red" and "resolution late" in resolution.label
    assert views.sla_badge({"resolution_left_s": 3600}).label == "resolve within 1h 00m"


def test_routing_line_and_badges() -> None:
    line = views.routing_line(
        {"team_id": "returns", "topic": "returns", "stage": "after_delivery", "position": 2}
    )
    assert line == "team returns · returns · after delivery · #2 in its queue"
    deferred = views.routing_line({"team_id": "fr", "deferred_until": "2025-03-10T08:00:00+00:00"})
    assert "waits for opening (2025-03-10 08:00 UTC)" in deferred
    assert "held" in views.routing_line({"held": True})
    assert views.routing_line({}) == ""
    assert views.band_badge("urgent", 1.234).markdown.startswith(":red-background[")


def test_effort_and_history() -> None:
    lines = dict(
        views.effort_lines(
            {
                "customer_turns": 4,
                "repeated_questions": 1,
                "channel_switches": 0,
                "handovers": 1,
                "time_to_resolution_s": None,
                "recontact_within_7_days": None,
            }
        )
    )
    assert lines["Customer turns"] == "4" and lines["Time to resolution"] == "open"
    assert lines["Came back within 7 days"] == "too early to tell"
    assert views.effort_lines({}) == []
    rows = views.history_rows(
        [
            {
                "created_at": "2025-03-01T12:00:00Z",
                "channel": "email",
                "status": "closed",
                "topic": "returns",
                "handed_over": True,
                "ces_score": 6,
                "first_message": "  where\nis it  ",
            }
        ]
    )
    assert rows == [
        {
            "when": "2025-03-01 12:00",
            "channel": "email",
            "status": "closed",
            "topic": "returns",
            "human": "yes",
            "CES": 6,
            "first message": "where is it",
        }
    ]


def test_insight_figures() -> None:
    overall = {
        "asa_s": 75.0,
        "handoff_rate": 0.25,
        "bot_resolution_rate": None,
        "ces_mean": 5.5,
        "sla_breaches": 2,
    }
    shown = dict(views.overall_metrics(overall))
    assert shown["ASA"] == "1m 15s" and shown["Handoff rate"] == "25%"
    assert (
        shown["Bot resolution (honest)"] == "—"
        and shown["CES (1-7)"] == "5.5"
        and shown["SLA breaches"] == "2"
    )
    table = views.group_table(
        [
            {
                "team": "returns",
                "conversations": 3,
                "handoff_rate": 0.5,
                "asa_s": 20.0,
                "bot_resolution_rate": 0.25,
                "ces_mean": None,
                "sla_breaches": 1,
            }
        ],
        "team",
    )
    assert (
        table[0]["team"] == "returns"
        and table[0]["handoff rate %"] == 50.0
        and table[0]["bot resolution %"] == 25.0
    )


def test_team_and_agent_tables() -> None:
    team = SimpleNamespace(
        id="fr",
        name="French",
        languages=["fr"],
        topics=[],
        stages=["complaint"],
        hours={"timezone": "Europe/Paris", "weekly": {"mon": ["09:00-17:00"]}},
        members=[{"agent": "ann", "role": "lead"}, {"agent": "bob", "role": "member"}],
    )
    row = views.team_rows([team])[0]
    assert row["language / topic / stage"] == "fr / any / complaint"
    assert row["hours"] == "Europe/Paris: mon 09:00-17:00" and row["members"] == "ann (lead), bob"
    agent = SimpleNamespace(name="ann", status="online", load=1, capacity=3, teams=["fr"], lead_of=["fr"])
    assert views.agent_rows([agent])[0]["load"] == "1 of 3"
