"""report.html: aggregate tables (ours vs the naive-RAG baseline), matplotlib plots embedded as base64 PNGs,
and a failures table with each failing case's transcript. Self-contained: one file, no network."""

from __future__ import annotations

import base64
import io
from typing import Any

from jinja2 import Environment, select_autoescape

SIDE_BY_SIDE = (
    ("retrieval_hit@1", "Retrieval hit@1"),
    ("retrieval_hit@5", "Retrieval hit@5"),
    ("retrieval_mrr", "Retrieval MRR"),
    ("fact_recall", "Answer fact recall"),
    ("cites_gold", "Cites a gold article"),
    ("correct_refusal_rate", "Correct refusals (unanswerable)"),
    ("false_refusal_rate", "False refusals (answerable, lower is better)"),
)

TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Parley evaluation report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.num{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#b00}
.t{font-size:.85rem;white-space:pre-wrap}img{max-width:100%;border:1px solid #eee}
</style></head><body>
<h1>Parley evaluation report</h1>
<p>Provider: <b>{{ info.provider }}</b> &middot; retriever: {{ info.retriever }} &middot; {{ info.seconds }} s
&middot; case files: {{ info.case_files | join(", ") }}</p>
{% if side %}<h2>Assistant vs naive LangChain RAG baseline (single questions)</h2>
<table><tr><th>Metric</th><th>Parley</th><th>Baseline</th></tr>
{% for label, ours, base in side %}<tr><td>{{ label }}</td>
<td class="num">{{ ours }}</td><td class="num">{{ base }}</td></tr>{% endfor %}
</table>{% endif %}
{% if groups %}<h2>Single questions by language and by split</h2>
<p>Thresholds of the answerability check are fitted on <b>dev</b>; <b>test</b> was not used to tune them.</p>
<table><tr><th>Group</th><th>Questions</th><th>Fact recall</th><th>Correct refusals</th>
<th>False refusals</th><th>Pass rate</th></tr>
{% for name, row in groups %}<tr><td>{{ name }}</td>
{% for value in row %}<td class="num">{{ value }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
{% if conversation_groups %}<h2>Conversations by language (the takeover guard per language)</h2>
<table><tr><th>Language</th><th>Conversations</th><th>Pass rate</th><th>Takeover precision</th>
<th>Takeover recall</th></tr>
{% for name, row in conversation_groups %}<tr><td>{{ name }}</td>
{% for value in row %}<td class="num">{{ value }}</td>{% endfor %}</tr>
{% endfor %}</table>{% endif %}
{% for png in plots %}<p><img alt="plot" src="data:image/png;base64,{{ png }}"></p>{% endfor %}
<h2>All metrics</h2>
<table><tr><th>Metric</th><th>Value</th></tr>
{% for name, value in metrics %}<tr><td>{{ name }}</td><td class="num">{{ value }}</td></tr>{% endfor %}
</table>
<h2>Failing conversations ({{ failing_conversations | length }})</h2>
<table><tr><th>Case</th><th>What failed</th><th>Transcript</th></tr>
{% for c in failing_conversations %}<tr><td>{{ c.id }}<br><small>{{ c.tags | join(", ") }}</small></td>
<td class="t">{{ c.why }}</td><td class="t">{% for t in c.transcript %}<b>customer:</b> {{ t.customer }}
<b>bot</b> [{{ t.status }}{% if t.guard %}, guard: {{ t.guard }}{% endif %}]: {{ t.bot }}
{% for tool in t.tools %}  &rarr; {{ tool.name }}({{ tool.arguments }}) ok={{ tool.ok }}
{%- if tool.error %} {{ tool.error }}{% endif %}
{% endfor %}{% endfor %}</td></tr>{% endfor %}
</table>
<h2>Failing questions ({{ failing_questions | length }})</h2>
<table><tr><th>Case</th><th>Question</th><th>Outcome</th><th>Reply</th></tr>
{% for q in failing_questions %}<tr><td>{{ q.id }}<br><small>gold: {{ q.gold | join(", ") }}</small></td>
<td class="t">{{ q.question }}</td>
<td class="t">{{ q.refusal }}; facts {{ q.fact_recall }}; retrieved {{ q.retrieved[:3] | join(", ") }}</td>
<td class="t">{{ q.reply }}</td></tr>{% endfor %}
</table>
{% if banking %}<h2>τ² banking retrieval: worst tasks</h2>
<table><tr><th>Task</th><th>recall@10</th><th>Query</th></tr>
{% for b in banking %}<tr><td>{{ b.id }}</td><td class="num">{{ b["recall@10"] | round(2) }}</td>
<td class="t">{{ b.query }}</td></tr>{% endfor %}</table>{% endif %}
</body></html>
"""


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plots(results: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = results["metrics"]
    pngs = []
    rates = [
        (name, value)
        for name, value in metrics.items()
        if isinstance(value, float)
        and 0.0 <= value <= 1.0
        and not name.endswith(("_ms", ".count"))
        and not name.startswith("baseline.")
    ]
    if rates:
        fig, ax = plt.subplots(figsize=(10, 0.3 * len(rates) + 1))
        ax.barh([n for n, _ in rates], [v for _, v in rates], color="#4c78a8")
        ax.set_xlim(0, 1)
        ax.invert_yaxis()
        ax.set_title("Metric values in 0..1 (false_refusal, failed, leak, repeated: lower is better)")
        pngs.append(_png(fig))
        plt.close(fig)
    pairs = [
        (label, metrics.get(f"questions.{key}"), metrics.get(f"baseline.{key}"))
        for key, label in SIDE_BY_SIDE
    ]
    pairs = [(label, a, b) for label, a, b in pairs if a is not None and b is not None]
    if pairs:
        fig, ax = plt.subplots(figsize=(10, 4))
        xs = range(len(pairs))
        ax.bar([x - 0.2 for x in xs], [a for _, a, _ in pairs], width=0.4, label="Parley")
        ax.bar([x + 0.2 for x in xs], [b for _, _, b in pairs], width=0.4, label="naive RAG baseline")
        ax.set_xticks(list(xs), [label.split(" (")[0] for label, _, _ in pairs], rotation=20, ha="right")
        ax.set_ylim(0, 1)
        ax.legend()
        ax.set_title("Single questions: Parley vs baseline")
        pngs.append(_png(fig))
        plt.close(fig)
    latencies = [q["latency_ms"] for q in results.get("questions", [])] + [
        t["latency_ms"] for c in results.get("conversations", []) for t in c["transcript"]
    ]
    if latencies:
        fig, ax = plt.subplots(figsize=(10, 3))
        ax.hist(latencies, bins=40, color="#f58518")
        ax.set_xlabel("reply latency (ms), questions and conversation turns")
        ax.set_ylabel("turns")
        ax.set_title("Latency histogram")
        pngs.append(_png(fig))
        plt.close(fig)
    return pngs


def _why(c: dict[str, Any]) -> str:
    reasons = []
    if c["tool_exact"] != 1.0:
        reasons.append(
            f"tool calls: precision {_fmt(c['tool_precision'])}, recall {_fmt(c['tool_recall'])}; expected "
            + ", ".join(f"{e['name']}({e['arguments']})" for e in c["expected_tool_calls"])
        )
    if c["final_state_problems"]:
        reasons.append("final state: " + "; ".join(c["final_state_problems"]))
    if c["fact_recall"] < 1.0:
        reasons.append(f"facts: recall {_fmt(c['fact_recall'])}")
    if c["leaks"]:
        reasons.append("leaked: " + ", ".join(c["leaks"]))
    if c["takeover"] != c["expected_takeover"]:
        reasons.append(f"takeover: expected {c['expected_takeover']}, got {c['takeover']}")
    elif c["takeover_turn_delta"] is not None and c["takeover_turn_delta"] > 0:
        reasons.append(f"takeover late by {c['takeover_turn_delta']} turn(s)")
    return "\n".join(reasons)


def render_report(results: dict[str, Any]) -> str:
    metrics = results["metrics"]
    side = [
        (label, _fmt(metrics.get(f"questions.{key}")), _fmt(metrics.get(f"baseline.{key}")))
        for key, label in SIDE_BY_SIDE
        if f"baseline.{key}" in metrics
    ]
    failing_conversations = [
        c | {"why": _why(c)} for c in results.get("conversations", []) if not c["passed"]
    ]
    failing_questions = [q for q in results.get("questions", []) if not q["passed"]]
    question_columns = ("count", "fact_recall", "correct_refusal_rate", "false_refusal_rate", "pass_rate")
    groups = [
        (group, [_fmt(metrics.get(f"questions.{group}.{c}")) for c in question_columns])
        for group in ("en", "fr", "nl", "dev", "test")
        if f"questions.{group}.count" in metrics
    ]
    conversation_columns = ("count", "pass_rate", "takeover_precision", "takeover_recall")
    conversation_groups = [
        (group, [_fmt(metrics.get(f"conversations.{group}.{c}")) for c in conversation_columns])
        for group in ("en", "fr", "nl")
        if f"conversations.{group}.count" in metrics
    ]
    banking = sorted(results.get("banking", []), key=lambda b: b["recall@10"])[:15]
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    from eval.crosschannel import report_section

    page = env.from_string(TEMPLATE).render(
        info=results.get("info", {}),
        side=side,
        groups=groups,
        conversation_groups=conversation_groups,
        plots=_plots(results),
        metrics=[(k, _fmt(v)) for k, v in metrics.items()],
        failing_conversations=failing_conversations,
        failing_questions=failing_questions,
        banking=banking,
    )
    return page.replace("</body>", report_section(results) + "</body>")  # cross-channel cases, if any
