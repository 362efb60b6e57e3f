"""`speechsmith batch`: many jobs in one resumable run, or through the OpenAI Batch format."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.atomic import same_file
from pipeline.cli.common import (
    CorpusOpt,
    PromptsOpt,
    check_output,
    info,
    with_model_options,
    with_options,
    write_atomic,
)
from pipeline.config import ModelOptions

batch_app = typer.Typer(
    name="batch",
    help=(
        "Run many jobs in one resumable run, or send them through the OpenAI Batch format.\n\n"
        "JOBS.jsonl has one job per line, with the task's options under their CLI names:\n\n"
        '  {"id": "j001", "task": "summarize", "text": "……", "method": "llm", "length": "short"}\n\n'
        '  {"id": "j002", "task": "restyle", "file": "speeches/05.txt", "style": "news"}\n\n'
        '  {"id": "j003", "task": "adapt", "occasion": "全县安全生产工作会议", "points": ["压实安全生产责任"]}\n\n'
        "Relative paths are relative to JOBS.jsonl; a missing id defaults to a hash of the line. "
        "OUT.jsonl gets one line per job: id, task, status (ok, invalid, error), result, errors, "
        "usage (invalid lines also carry the model's last raw output).\n\n"
        "Examples:\n\n"
        "  speechsmith batch run jobs.jsonl -o out.jsonl --base-url http://127.0.0.1:8000/v1 --concurrency 16\n\n"
        "  speechsmith batch export jobs.jsonl -o requests.jsonl --model gpt-4o-mini\n\n"
        "  speechsmith batch import results.jsonl --jobs jobs.jsonl -o out.jsonl --retry-file followup.jsonl"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)

ExportContextOpt = Annotated[
    int | None,
    typer.Option("--context", min=512, help="The target model's context window in tokens (for prompt packing). Default: known per model."),
]
PrefillOpt = Annotated[
    str | None,
    typer.Option(
        "--prefill",
        help="How a reply prefix is sent: fold (into the user message; OpenAI) or assistant "
        "(continue_final_message; vLLM). Default: the configured prefill (fold).",
    ),
]
OfflineContext = Callable[[str | None], tuple[Any, str, str]]  # model -> (TaskContext, model, prefill)
JobsArg = Annotated[
    Path, typer.Argument(help="One JSON job per line ('-' reads them from stdin).", metavar="JOBS.jsonl", show_default=False)
]


@batch_app.command("run")
@with_model_options()
def run_cmd(
    jobs_file: JobsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="OUT.jsonl: results are appended here, one line per job.")],
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-j", min=1, max=256, help="Jobs in flight at once (remote backends; local runs one at a time).")
    ] = 4,
    rpm: Annotated[float | None, typer.Option("--rpm", min=0.1, help="At most this many model requests per minute.")] = None,
    tpm: Annotated[float | None, typer.Option("--tpm", min=1, help="At most this many tokens (prompt + max output) per minute.")] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            "--processes", min=1, max=16,
            help="Worker processes for a remote backend (each with its share of --concurrency/--rpm/--tpm). "
            "Default: one per 16 jobs in flight, at most one per core.",
        ),
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run again the jobs recorded as invalid or error (their old lines are replaced).")
    ] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 when any job ends invalid or error.")] = False,
    no_progress: Annotated[bool, typer.Option("--no-progress", help="No progress line on stderr.")] = False,
    corpus: CorpusOpt = None,
    prompts: PromptsOpt = None,
    *,
    model_opts: ModelOptions,
) -> None:
    """Run every job of JOBS.jsonl not yet in OUT.jsonl; a rerun continues where the last stopped.

    Each result is appended to OUT.jsonl as one complete line the moment its job ends, so Ctrl-C,
    kill -9 or a dead laptop lose nothing already written. Ctrl-C once: the jobs in flight finish;
    twice: they are abandoned. A job whose output never validates is recorded as invalid with the
    model's raw output, and the batch goes on.

    Remote backends run --concurrency jobs at once within --rpm/--tpm, halving the concurrency when
    the endpoint answers 429 and growing it back as calls succeed. The local model runs jobs one
    after another in this process (one model load).

    Examples:

      speechsmith batch run jobs.jsonl -o out.jsonl

      speechsmith batch run jobs.jsonl -o out.jsonl --base-url https://api.deepseek.com/v1 -m deepseek-chat -j 32 --rpm 500 --tpm 200000

      speechsmith batch run jobs.jsonl -o out.jsonl --retry-failed

      make_jobs.py | speechsmith batch run - -o out.jsonl    # a rerun with the same lines resumes
    """
    import signal
    import sys

    from pipeline.batch.jobs import read_jobs
    from pipeline.batch.progress import Progress
    from pipeline.batch.results import ResultWriter
    from pipeline.batch.runner import Interrupts
    from pipeline.config import resolve
    from pipeline.errors import SpeechsmithError

    _check_outputs((output,), (jobs_file,))  # before stdin is read or any job runs
    jobs = read_jobs(jobs_file)
    # Ctrl-C and SIGTERM are counted, not raised, so that they never land in the middle of
    # writing a result: the runner finishes the jobs in flight on the first, abandons on the second.
    interrupts = Interrupts()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    with ResultWriter(output, retry_failed=retry_failed) as writer:
        if writer.torn_bytes:
            info(f"batch: dropped a torn last line ({writer.torn_bytes} bytes) from {output}")
        pending = [j for j in jobs if not writer.is_done(j.id)]
        settings = resolve(model_opts) if any(j.ok and j.task != "check" for j in pending) else None
        progress = Progress(len(jobs), already=len(jobs) - len(pending), enabled=not no_progress)
        for sig in previous:
            signal.signal(sig, interrupts.bump)
        try:
            summary, usage = _run(
                jobs, writer, settings, model_opts, corpus, prompts, progress, interrupts,
                concurrency=concurrency, processes=processes, rpm=rpm, tpm=tpm,
            )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    c = summary.counts
    info(
        f"batch: {summary.total} jobs: {c['ok']} ok, {c['invalid']} invalid, {c['error']} error"
        f", {summary.skipped} done earlier, {summary.not_run + summary.abandoned} left"
        f" in {summary.seconds:.1f} s ({summary.tokens} tokens) -> {output}"
    )
    if usage is not None and settings is not None and settings.verbose:
        info(
            f"speechsmith: usage: {usage['calls']} call(s), {usage['prompt_tokens']} prompt + "
            f"{usage['completion_tokens']} completion tokens, {usage['retries']} transport retries, "
            f"{usage['reasks']} re-ask(s), cost {usage['cost']:.4f}"
        )
    if summary.interrupted:
        info("batch: interrupted; run the same command again to continue")
        sys.exit(130)
    if summary.stopped_by:
        why = summary.stopped_by.removeprefix("stopping: ")
        raise SpeechsmithError(f"batch stopped: {why}; {summary.not_run} job(s) left, rerun to continue")
    if summary.not_run:
        raise SpeechsmithError(
            f"batch: {summary.not_run} job(s) were not run (endpoint unreachable or a worker failed); "
            "rerun to continue"
        )
    if strict and (c["invalid"] or c["error"]):
        sys.exit(1)


def _run(
    jobs: list[Any],
    writer: Any,
    settings: Any,
    options: Any,
    corpus: Path | None,
    prompts: Path | None,
    progress: Any,
    interrupts: Any,
    *,
    concurrency: int,
    processes: int | None,
    rpm: float | None,
    tpm: float | None,
) -> tuple[Any, dict[str, Any] | None]:
    """Run in this process (local model, or few jobs in flight) or in forked worker processes."""
    from pipeline.batch.limits import Pacer
    from pipeline.batch.processes import can_fork, run_processes
    from pipeline.batch.runner import run_batch
    from pipeline.model.connect import open_client
    from pipeline.tasks import TaskContext

    remote = settings is not None and settings.backend != "local"
    if settings is not None and not remote:
        concurrency = 1  # one model in one process: parallel jobs would only fight over the cores
    if processes is None:
        # One process handles about 100-150 jobs/s of CPU work; beyond ~16 in flight it is the limit.
        processes = max(1, min(os.cpu_count() or 1, 4, concurrency // 16)) if remote else 1
    capped = settings is not None and (settings.max_cost is not None or settings.max_tokens is not None)
    if remote and processes > 1 and can_fork() and not capped:
        def make_ctx() -> Any:
            return TaskContext(client=open_client(options, "batch", settings=settings), corpus_dir=corpus, prompts_dir=prompts)

        summary, usages = run_processes(
            jobs, writer, make_ctx, processes=processes, concurrency=concurrency, rpm=rpm, tpm=tpm,
            progress=progress, interrupts=interrupts, prompts_dir=prompts,
        )
        total: dict[str, Any] = {}
        for usage in usages:
            for key, value in usage.items():
                if isinstance(value, int | float) and "budget" not in key:
                    total[key] = total.get(key, 0) + value
        return summary, total or None
    client = open_client(options, "batch", settings=settings) if settings is not None else None
    ctx = TaskContext(client=client, corpus_dir=corpus, prompts_dir=prompts)
    pacer = Pacer(concurrency, rpm=rpm, tpm=tpm) if remote else None
    summary = run_batch(
        jobs, writer, ctx, concurrency=concurrency, pacer=pacer, progress=progress, interrupts=interrupts
    )
    if client is None:
        return summary, None
    client.finish()
    client.usage_reported = True  # the batch prints its own usage line (-v); not a second one at exit
    return summary, client.usage.to_dict()


# export and import build requests without calling a model; the command gets `offline(model)`
_with_offline_context = with_options(
    (("context", ExportContextOpt, None), ("prefill", PrefillOpt, None), ("corpus", CorpusOpt, None),
     ("prompts", PromptsOpt, None)),
    lambda **given: functools.partial(_offline_ctx, **given), "offline",
)


@batch_app.command("export")
@_with_offline_context
def export_cmd(
    jobs_file: JobsArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="requests.jsonl to upload (OpenAI Batch API) or give to vllm run-batch.")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model id written into every request body. Default: the configured model.")
    ] = None,
    *,
    offline: OfflineContext,
) -> None:
    """Write one OpenAI Batch API request line per job (custom_id = job id), calling no model.

    Only one-call tasks can go this way; jobs of other tasks are listed on stderr and left out
    (`batch run` does them). Bad lines (invalid JSON, unknown task or key, missing file) get one
    error line each on stderr; the good ones are still exported, and the exit code is 2 at the
    end. The same file works for the OpenAI Batch API and for `vllm run-batch`.

    Examples:

      speechsmith batch export jobs.jsonl -o requests.jsonl -m gpt-4o-mini

      make_jobs.py | speechsmith batch export - -o requests.jsonl -m gpt-4o-mini

      vllm run-batch -i requests.jsonl -o results.jsonl --model Qwen/Qwen2.5-7B-Instruct
    """
    from pipeline.batch.jobs import read_jobs
    from pipeline.batch.openai_batch import encode_lines, export_requests
    from pipeline.errors import InputError

    _check_outputs((output,), (jobs_file,))
    jobs = read_jobs(jobs_file)
    ctx, model, prefill = offline(model)
    lines, report = export_requests(jobs, ctx, model, prefill=prefill)
    source = "stdin" if str(jobs_file) == "-" else str(jobs_file)
    for problem in report.errors:
        info(f"speechsmith: error: {source} {problem}")
    for note in report.left_out:
        info(f"batch export: left out {note}")
    if not lines:
        raise InputError(f"no job in {source} could be exported")
    write_atomic(output, encode_lines(lines))
    info(
        f"batch export: {report.written} request(s) for {model} -> {output} "
        f"({len(report.errors)} bad line(s), {len(report.left_out)} left for batch run)"
    )
    if report.errors:
        raise typer.Exit(2)  # like `corpus add`: the good lines are exported, the exit code tells


@batch_app.command("import")
@_with_offline_context
def import_cmd(
    results_files: Annotated[
        list[Path],
        typer.Argument(
            help="Result files from the OpenAI Batch API (output and error files) or vllm run-batch.",
            metavar="RESULTS.jsonl...", show_default=False,
        ),
    ],
    jobs_file: Annotated[Path, typer.Option("--jobs", help="The JOBS.jsonl the requests were exported from.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="OUT.jsonl: results are appended, one line per job.")],
    retry_file: Annotated[
        Path | None, typer.Option("--retry-file", help="Write request lines for the jobs that failed or have no result.")
    ] = None,
    requests_file: Annotated[
        Path | None, typer.Option("--requests", help="The exported requests.jsonl: follow-up lines are copied from it exactly.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model id for rebuilt follow-up requests. Default: the one in the results.")
    ] = None,
    *,
    offline: OfflineContext,
) -> None:
    """Validate downloaded batch results and append them to OUT.jsonl in the `batch run` format.

    Result lines may come in any order and the file may be partial. Each reply goes through the
    task's own schema validation; invalid ones are recorded with their raw output. Jobs that
    failed or have no result yet are listed in --retry-file as new request lines: send that file
    as a new batch and import its results into the same OUT.jsonl (failed lines are replaced,
    every id stays once).

    Examples:

      speechsmith batch import results.jsonl --jobs jobs.jsonl -o out.jsonl --retry-file followup.jsonl

      speechsmith batch import output.jsonl errors.jsonl --jobs jobs.jsonl -o out.jsonl

      speechsmith batch import followup-results.jsonl --jobs jobs.jsonl -o out.jsonl
    """
    from pipeline.batch.jobs import read_jobs
    from pipeline.batch.openai_batch import (
        encode_lines,
        followup_lines,
        import_replies,
        merge_replies,
        read_replies,
        read_requests,
    )
    from pipeline.batch.results import ResultWriter

    _check_outputs((output, retry_file), (jobs_file, *results_files, requests_file))
    jobs = read_jobs(jobs_file)
    replies: dict = {}
    for results_file in results_files:
        found, problems = read_replies(results_file)
        for problem in problems:
            info(f"batch import: {results_file} {problem}")
        merge_replies(replies, found)
    model = model or next((r.model for r in replies.values() if r.model), None)
    ctx, model, prefill = offline(model)
    with ResultWriter(output, replace=set(replies)) as writer:
        report = import_replies(jobs, replies, writer, ctx)
    c = report.counts
    if report.unknown:
        info(f"batch import: {len(report.unknown)} result line(s) match no job in {jobs_file}, e.g. {report.unknown[0]!r}")
    info(
        f"batch import: {c['ok']} ok, {c['invalid']} invalid, {c['error']} error, "
        f"{len(report.missing)} missing, {report.already} done earlier -> {output}"
    )
    if report.not_batchable:
        info(
            f"batch import: {len(report.not_batchable)} job(s) without a one-call route (task or method) are not in "
            f"the results; run them with `speechsmith batch run {jobs_file} -o {output}`"
        )
    if retry_file is not None:
        original = read_requests(requests_file) if requests_file is not None else None
        lines, trouble = followup_lines(report.retry, jobs, ctx, model=model, original=original, prefill=prefill)
        for problem in trouble:
            info(f"batch import: cannot write a follow-up request for {problem}")
        write_atomic(retry_file, encode_lines(lines))
        info(f"batch import: {len(lines)} follow-up request(s) -> {retry_file}")
    elif report.retry:
        info(f"batch import: {len(report.retry)} job(s) failed or are missing; add --retry-file FILE to write their requests")


def _check_outputs(outputs: tuple[Path | None, ...], inputs: tuple[Path | None, ...]) -> None:
    """Fail in one line before any work when an output cannot be written or would overwrite an
    input (`-o jobs.jsonl` would destroy the jobs): see pipeline.atomic.check_output."""
    from pipeline.errors import InputError

    given = [o for o in outputs if o is not None]
    for output in given:
        check_output(output, inputs)
    if len(given) == 2 and same_file(given[0], given[1]):
        raise InputError(f"-o and --retry-file are the same file: {given[0]}")


def _offline_ctx(
    model: str | None, *, context: int | None, prefill: str | None, corpus: Path | None, prompts: Path | None
) -> tuple[Any, str, str]:
    """A TaskContext whose client builds requests for `model` but never calls it."""
    from pipeline.config import ModelOptions, resolve
    from pipeline.model.backends.export import ExportBackend
    from pipeline.model.client import Client
    from pipeline.tasks import TaskContext

    if prefill not in (None, "fold", "assistant"):
        raise typer.BadParameter(f"use fold or assistant, not {prefill!r}", param_hint="--prefill")
    settings = resolve(ModelOptions(backend="openai", model=model, context=context))
    model = settings.model or ""
    client = Client(ExportBackend(model, settings.context_window(model)), command="batch")
    ctx = TaskContext(client=client, corpus_dir=corpus, prompts_dir=prompts)
    return ctx, model, prefill or settings.prefill


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(batch_app, name="batch")
