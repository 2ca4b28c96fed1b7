"""CLI commands of this package, registered on the `parley` app by assistant.cli."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

eval_app = typer.Typer(
    help="Offline evaluation: run case files, compare results (regression gate).", no_args_is_help=True
)


@eval_app.command("run")
def run_command(
    cases: Annotated[
        list[Path], typer.Argument(help="Case files (.jsonl/.yaml): questions and conversations.")
    ],
    provider: Annotated[str | None, typer.Option(help="offline | openai (default: as configured).")] = None,
    out: Annotated[Path, typer.Option(help="Where results.json and report.html go.")] = Path("eval-results"),
    limit: Annotated[int | None, typer.Option(min=1, help="At most N questions and N conversations.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Reuse this data dir (shop + index) instead of a temporary one.")
    ] = None,
    banking: Annotated[
        int, typer.Option(min=-1, help="τ² banking retrieval tasks: 0 none, -1 all 97 (default 0).")
    ] = 0,
    banking_full_corpus: Annotated[
        bool, typer.Option(help="Index all 698 banking documents (slow).")
    ] = False,
    tau2_replay: Annotated[bool, typer.Option(help="Replay the 114 τ² retail tasks' gold actions.")] = False,
    simulate: Annotated[
        int, typer.Option(min=0, help="Simulated τ² conversations: trials per task (openai provider only).")
    ] = 0,
    simulate_tasks: Annotated[int, typer.Option(min=1, help="τ² tasks to simulate.")] = 5,
    baseline: Annotated[bool, typer.Option(help="Also run the naive LangChain RAG baseline.")] = True,
    judge: Annotated[
        bool | None,
        typer.Option(help="LLM judge of answer correctness and tone (default: on with provider openai)."),
    ] = None,
    retriever: Annotated[
        str, typer.Option(help="normal | broken (a deliberately broken retriever, to test the gate).")
    ] = "normal",
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Run the evaluation; write results.json and report.html into --out."""
    from rich.console import Console

    from eval.casefiles import CaseFileError
    from eval.judge import JudgeUnavailable
    from eval.runner import RunOptions, ShuffledRetriever, run_evaluation, write_results

    if provider not in (None, "offline", "openai"):
        raise typer.BadParameter("--provider must be offline or openai")
    if retriever not in ("normal", "broken"):
        raise typer.BadParameter("--retriever must be normal or broken")
    options = RunOptions(
        out_dir=out,
        provider=provider,
        limit=limit,
        data_dir=data_dir,
        banking_tasks=None if banking == -1 else banking,
        banking_full_corpus=banking_full_corpus,
        tau2_replay=tau2_replay,
        simulate_trials=simulate,
        simulate_tasks=simulate_tasks,
        baseline=baseline,
        judge=judge,
        wrap_retriever=ShuffledRetriever if retriever == "broken" else None,
        progress=progress,
    )
    console = Console()
    try:
        results = run_evaluation(cases, options)
    except (CaseFileError, JudgeUnavailable) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    results_path, report_path = write_results(results, out)
    for name, value in results.metrics.items():
        console.print(f"{name:48s} {'n/a' if value is None else f'{value:.3f}'}")
    console.print(f"wrote {results_path} and {report_path}")


@eval_app.command("compare")
def compare_command(
    baseline: Annotated[
        Path, typer.Argument(help="The reference results.json (e.g. eval/baselines/offline.json).")
    ],
    current: Annotated[Path, typer.Argument(help="The new results.json.")],
    thresholds: Annotated[
        Path | None, typer.Option(help="YAML/JSON {metric or suffix: allowed drop}; null = report only.")
    ] = None,
) -> None:
    """Print a delta table; exit 1 when a metric got worse by more than its threshold."""
    from rich.console import Console

    from eval.compare import CompareError, compare_metrics, load_metrics, load_thresholds, render_table

    console = Console(width=140)
    try:
        deltas = compare_metrics(load_metrics(baseline), load_metrics(current), load_thresholds(thresholds))
    except CompareError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(render_table(deltas))
    failed = [d for d in deltas if d.failed]
    if failed:
        console.print(f"[red]{len(failed)} metric(s) regressed:[/red] " + ", ".join(d.name for d in failed))
        raise typer.Exit(1)
    console.print("no regression beyond the thresholds")


@eval_app.command("calibrate")
def calibrate_command(
    cases: Annotated[list[Path], typer.Argument(help="Case files with single questions (split dev/test).")],
    split: Annotated[str, typer.Option(help="The split the thresholds are fitted on.")] = "dev",
    max_false_refusal: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Most false refusals allowed on the fitted split.")
    ] = 0.04,
    data_dir: Annotated[
        Path | None, typer.Option(help="Reuse this data dir (shop + index) instead of a temporary one.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Where the model goes (default: the planner's).")] = None,
) -> None:
    """Fit the answerability check on one split; write assistant/planner/answerability.yaml."""
    import tempfile

    from rich.console import Console

    from eval.calibrate import MODEL_PATH, calibrate, collect, write_model
    from eval.casefiles import CaseFileError, QuestionCase, load_cases
    from eval.environment import make_settings, prepare_environment

    console = Console()
    try:
        questions = [c for c in load_cases(cases) if isinstance(c, QuestionCase)]
    except CaseFileError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    with tempfile.TemporaryDirectory(prefix="parley-calibrate-") as tmp:
        settings = make_settings(data_dir or Path(tmp) / "data", "offline")
        prepare_environment(settings, progress=False)
        samples = collect(settings, questions)
    try:
        model = calibrate(samples, split, max_false_refusal, ", ".join(str(p) for p in cases))
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    write_model(model, out or MODEL_PATH)
    console.print(model)


def register(app: typer.Typer) -> None:
    """Add this package's commands to `parley`."""
    app.add_typer(eval_app, name="eval")
