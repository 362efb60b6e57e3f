"""`speechsmith eval`: prompt regression suites with record/replay, baselines and a CI gate."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.cli.common import CorpusOpt, PromptsOpt, info, with_model_options
from pipeline.config import ModelOptions

EXIT_HELP = "Exit codes: 0 all well, 1 failed assertions, 3 regression against the baseline, 2 replay miss, a case that errored, or bad suite."


class Mode(StrEnum):
    replay = "replay"
    record = "record"
    update = "update"
    live = "live"


class Report(StrEnum):
    md = "md"
    junit = "junit"
    json = "json"


class CompareFormat(StrEnum):
    table = "table"
    md = "md"
    json = "json"


ReportOpt = Annotated[
    list[Report] | None,
    typer.Option("--report", help="Also write report.md / junit.xml / report.json into the run folder (repeatable)."),
]
BaselineOpt = Annotated[
    Path | None,
    typer.Option("--baseline", help="Compare with this baseline folder (e.g. evals/baselines/) or run folder."),
]
ToleranceOpt = Annotated[
    float, typer.Option("--tolerance", help="A score drop larger than this is a regression.", min=0.0, max=1.0)
]

eval_app = typer.Typer(
    name="eval",
    help=(
        "Offline prompt regression evals: run YAML suites through the tasks with every model call "
        "recorded to / replayed from cassettes, compare with a blessed baseline.\n\n"
        "Examples:\n\n"
        "  speechsmith eval run evals/suites/ --baseline evals/baselines/\n\n"
        "  speechsmith eval run evals/suites/ --mode record && speechsmith eval bless evals/runs/<run>\n\n"
        "  speechsmith eval compare evals/baselines/ evals/runs/<run>\n\n" + EXIT_HELP
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _run_dir(output: Path | None, suites_paths: list[Path]) -> Path:
    if output is not None:
        return output
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    first = suites_paths[0]
    base = (first if first.is_dir() else first.parent).resolve().parent
    run = base / "runs" / stamp
    n = 1
    while run.exists():
        n += 1
        run = base / "runs" / f"{stamp}-{n}"
    return run


def _finish(run_dir: Path, outcome_samples, summary, reports: list[Report] | None, baseline: Path | None,
            tolerance: float, quiet: bool) -> int:
    from pipeline.evals import report as rep
    from pipeline.evals.compare import compare, exit_code
    from pipeline.evals.results import read_samples, write_run

    comparison = None
    if baseline is not None:
        comparison = compare(read_samples(baseline), outcome_samples, tolerance)
        summary["baseline"] = {"path": str(baseline), **comparison.to_dict()}
    code = exit_code(summary, comparison)
    summary["exit_code"] = code
    write_run(run_dir, outcome_samples, summary)
    for r in reports or []:
        render, name = rep.RENDERERS[r.value]
        (run_dir / name).write_text(render(outcome_samples, summary, comparison), encoding="utf-8")
    if not quiet:
        typer.echo(rep.terminal(outcome_samples, summary, comparison), nl=False)
    info(f"speechsmith: eval: results in {run_dir}")
    if code == 2:
        misses = summary.get("misses", [])
        cases = sorted({f"{m['suite']}/{m['case']}" for m in misses})
        if cases:
            info(
                f"speechsmith: error: replay miss in {len(cases)} case(s): {', '.join(cases)} "
                "(a prompt or input changed: re-record with --mode record)"
            )
        failed = [s for s in outcome_samples if s.status == "error"]
        if failed:
            # Say what went wrong, once per distinct error (a dead endpoint fails every case alike).
            errors = sorted({" ".join(str(s.error or s.error_type or "").split())[:300] for s in failed})
            where = sorted({f"{s.suite}/{s.case}" for s in failed})
            info(
                f"speechsmith: error: {len(where)} case(s) could not run ({', '.join(where[:5])}"
                f"{', …' if len(where) > 5 else ''}): {errors[0]}"
                + (f" (and {len(errors) - 1} other error(s), see {run_dir})" if len(errors) > 1 else "")
            )
    return code


@eval_app.command("run")
@with_model_options(full=False)
def run_cmd(
    suites: Annotated[
        list[Path] | None, typer.Argument(help="Suite files or folders (default: evals/suites/).", show_default=False)
    ] = None,
    mode: Annotated[
        Mode, typer.Option("--mode", help="replay: cassettes only, no model (default); record: call the model and "
                           "(re)write every cassette; update: record only the calls that have no cassette "
                           "(after a prompt change); live: call the model, write nothing.")
    ] = Mode.replay,
    baseline: BaselineOpt = None,
    tolerance: ToleranceOpt = 0.05,
    report: ReportOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Run folder (default: evals/runs/<UTC time>/).")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-j", min=1, help="Cases in flight (calls into the local model are one at a time anyway).")
    ] = None,
    case: Annotated[
        list[str] | None, typer.Option("--case", help="Only cases matching this glob (id or suite/id); repeatable.")
    ] = None,
    cassettes: Annotated[
        Path | None, typer.Option("--cassettes", help="Cassette root (default: evals/cassettes/ beside the suites folder).")
    ] = None,
    corpus: CorpusOpt = None,
    prompts: PromptsOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table on stdout.")] = False,
    judge_model: Annotated[
        str | None, typer.Option("--judge-model", help="An endpoint model (openai backend, --base-url or the "
                                 "config's) for rubric assertions; without it or a suite's judge: on an "
                                 "endpoint, rubrics are reported as not judged.")
    ] = None,
    *,
    model_opts: ModelOptions,
) -> None:
    """Run suites: every case through its task, every model call through cassettes.

    Examples:

      speechsmith eval run     # replay evals/suites/, no model needed

      speechsmith eval run evals/suites/adapt.yaml --case 'county-*' --report md

      speechsmith eval run evals/suites --mode record && speechsmith eval bless evals/runs/<run>

    --backend, --model and --base-url choose the model for record/update/live, and --threads,
    --context, --timeout and --structured how it runs (they beat the suite's `backend:`);
    replay uses the backend recorded in the cassettes.

    Exit codes: 0 all well, 1 failed assertions, 3 regression against --baseline,
    2 replay miss (the affected cases are listed), a case that errored, or bad suite.
    """
    from pipeline.evals.report import ProgressBar
    from pipeline.evals.runner import RunOptions, run_suites
    from pipeline.evals.suite import load_suites

    paths = suites or [Path("evals/suites")]
    loaded = load_suites(paths)
    options = RunOptions(
        mode=mode.value, cassettes_dir=cassettes, concurrency=concurrency, corpus_dir=corpus,
        prompts_dir=prompts, cases=list(case or []),
        overrides={name: getattr(model_opts, name)
                   for name in ("backend", "model", "base_url", "context", "threads", "timeout", "structured")},
        on_progress=ProgressBar(), runlog=_runlog(mode.value), judge_model=judge_model,
    )
    run_dir = _run_dir(output, paths)
    outcome = run_suites(loaded, options)
    code = _finish(run_dir, outcome.samples, outcome.summary, report, baseline, tolerance, quiet)
    raise typer.Exit(code)


def _runlog(mode: str) -> Any:
    """The run log for the calls that reach a model (`speechsmith log list --command eval`);
    replay reaches none. Off with log = false in the config, like every other command."""
    if mode == "replay":
        return None
    from pipeline.config import resolve
    from pipeline.model.runlog import open_runlog

    return open_runlog(resolve().log)


@eval_app.command("score")
def score_cmd(
    run: Annotated[Path, typer.Argument(help="A run folder (evals/runs/<run>/).")],
    suites: Annotated[
        list[Path] | None,
        typer.Option("--suite", help="Score with these suite files/folders instead of the ones the run used."),
    ] = None,
    baseline: BaselineOpt = None,
    tolerance: ToleranceOpt = 0.05,
    report: ReportOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of updating RUN.")] = None,
    cassettes: Annotated[
        Path | None, typer.Option("--cassettes", help="Cassette root for rubric judges (default: the run's).")
    ] = None,
    corpus: CorpusOpt = None,
    prompts: PromptsOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table on stdout.")] = False,
) -> None:
    """Re-score a run's stored outputs with the suites' current assertions; calls no model.

    Edit thresholds or add assertions in a suite, then:

      speechsmith eval score evals/runs/<run> --baseline evals/baselines/

    Rubric judges replay from cassettes.
    """
    from pipeline.errors import InputError
    from pipeline.evals.results import read_samples, read_summary
    from pipeline.evals.runner import RunOptions, rescore
    from pipeline.evals.suite import load_suites

    samples = read_samples(run)
    summary = read_summary(run)
    if suites:
        paths = list(suites)
    else:
        files = [p for p in (summary.get("suite_files") or {}).values() if p]
        if not files:
            raise InputError(f"{run}: summary.json does not name its suite files; pass --suite")
        paths = [Path(p) for p in files]
    if cassettes is None:
        # the run's cassette folders are <root>/<suite>: recover the root
        used = [Path(p).parent for p in (summary.get("cassettes") or {}).values()]
        cassettes = used[0] if used and all(u == used[0] for u in used) else None
    outcome = rescore(
        load_suites(paths), samples, RunOptions(corpus_dir=corpus, prompts_dir=prompts, cassettes_dir=cassettes)
    )
    code = _finish(output or run, outcome.samples, outcome.summary, report, baseline, tolerance, quiet)
    raise typer.Exit(code)


@eval_app.command("compare")
def compare_cmd(
    base: Annotated[Path, typer.Argument(help="Baseline folder or run folder.")],
    run: Annotated[Path, typer.Argument(help="Run folder to compare with it.")],
    tolerance: ToleranceOpt = 0.05,
    fmt: Annotated[CompareFormat, typer.Option("--format", "-f", help="table, md or json.")] = CompareFormat.table,
    all_rows: Annotated[bool, typer.Option("--all", help="List unchanged samples too.")] = False,
) -> None:
    """Per-case deltas between two runs, aligned by suite, case id and sample index.

      speechsmith eval compare evals/baselines/ evals/runs/<run>

    Exit code 3 when there is a regression (pass→fail or a score drop beyond --tolerance).
    """
    import json

    from pipeline.evals import report as rep
    from pipeline.evals.compare import compare
    from pipeline.evals.results import read_samples

    samples = read_samples(run)
    comparison = compare(read_samples(base), samples, tolerance)
    if fmt is CompareFormat.json:
        typer.echo(json.dumps(comparison.to_dict(), ensure_ascii=False, indent=2))
    elif fmt is CompareFormat.md:
        from pipeline.evals.results import summarize

        typer.echo(rep.markdown(samples, summarize(samples), comparison), nl=False)
    else:
        typer.echo(rep.compare_table(comparison, all_rows=all_rows), nl=False)
    raise typer.Exit(3 if comparison.regressions else 0)


@eval_app.command("bless")
def bless_cmd(
    run: Annotated[Path, typer.Argument(help="The run folder that becomes the baseline.")],
    baselines: Annotated[
        Path | None,
        typer.Option("--baselines", help="Baseline folder (default: evals/baselines/ beside the runs folder)."),
    ] = None,
) -> None:
    """Make a run the baseline: one <suite>.jsonl per suite in evals/baselines/.

    A run of some cases only (--case) updates just those samples. A run with replay misses
    cannot be blessed.

      speechsmith eval bless evals/runs/20260101-080000
    """
    from pipeline.evals.baseline import bless

    target = baselines or default_baselines(run)
    written = bless(run, target)
    for path, n in written:
        info(f"speechsmith: eval: blessed {n} sample(s) into {path}")


def default_baselines(run: Path) -> Path:
    run = run.resolve()
    if run.parent.name == "runs":
        return run.parent.parent / "baselines"
    return Path("evals/baselines")


def register(app: typer.Typer) -> None:
    """Add `speechsmith eval …` to the main app."""
    app.add_typer(eval_app, name="eval")
