"""`parley guard-eval`: the takeover guard measured on labelled messages and conversations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to `parley`."""
    app.command("guard-eval")(guard_eval)


def guard_eval(
    messages: Path | None = typer.Option(None, "--messages", help="labelled messages (JSONL)"),
    conversations: Path | None = typer.Option(None, "--conversations", help="labelled conversations (JSONL)"),
    bitext: bool = typer.Option(False, "--bitext", help="also evaluate on Bitext (held-out, read-only)"),
    bitext_file: Path | None = typer.Option(None, "--bitext-file", help="Bitext CSV (default ../shared)"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object instead of tables"),
    show_errors: bool = typer.Option(False, "--errors", help="list misclassified messages with the reason"),
) -> None:
    """Measure the takeover guard: precision/recall/F1 on messages, turn timing on conversations."""
    from assistant.guard.guard import SentimentGuard
    from eval.guard import runner
    from knowledge.settings import get_settings

    guard = SentimentGuard(get_settings())
    result: dict[str, Any] = {}
    try:
        msg_rows = runner.load_jsonl(messages or runner.DEFAULT_MESSAGES, ("text", "label"))
        result["messages"] = runner.evaluate_messages(guard, msg_rows).as_dict()
        conv_rows = runner.load_jsonl(
            conversations or runner.DEFAULT_CONVERSATIONS, ("turns", "expected_takeover")
        )
        result["conversations"] = runner.evaluate_conversations(guard, conv_rows).as_dict()
        if bitext:
            rows = runner.bitext_rows(bitext_file or runner.DEFAULT_BITEXT)
            result["bitext"] = runner.evaluate_messages(guard, rows).as_dict()
    except runner.EvalDataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    _print_messages("messages", result["messages"], show_errors)
    _print_conversations(result["conversations"])
    if "bitext" in result:
        _print_messages("bitext (held out)", result["bitext"], show_errors)


def _row(name: str, m: dict[str, Any]) -> str:
    return (
        f"  {name:<26} n={m['n']:>4}  tp={m['tp']:>3} fp={m['fp']:>3} tn={m['tn']:>3} fn={m['fn']:>3}  "
        f"P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f} acc={m['accuracy']:.3f}"
    )


def _print_messages(title: str, report: dict[str, Any], show_errors: bool) -> None:
    typer.echo(f"== {title}: takeover")
    typer.echo(_row("overall", report["overall"]))
    typer.echo(" per language:")
    for name, m in report["by_language"].items():
        typer.echo(_row(name, m))
    typer.echo(" per category (P/R are 0 where a category has no positives or no predictions):")
    for name, m in report["by_category"].items():
        typer.echo(_row(name, m))
    if show_errors:
        for err in report["errors"]:
            typer.echo(
                f"   x {err['id']} [{err['category']}] expected {err['expected']}: {err['text']!r} "
                f"-> {err['reason']}"
            )


def _print_conversations(report: dict[str, Any]) -> None:
    t, timing = report["takeover"], report["timing"]
    typer.echo("== conversations: takeover yes/no")
    typer.echo(_row("overall", t))
    for name, m in report["by_category"].items():
        typer.echo(_row(name, m))
    typer.echo(
        f"  turn of takeover vs expected (customer turns): exact={timing['exact']} "
        f"early={timing['early']} late={timing['late']} missed={timing['missed']} "
        f"mean_delta={timing['mean_delta']}"
    )
    for d in report["details"]:
        if d["fired_turn"] != d["expected_turn"]:
            typer.echo(
                f"   ~ {d['id']} [{d['category']}] expected turn {d['expected_turn']}, "
                f"fired at {d['fired_turn']} {d['reason']}"
            )
