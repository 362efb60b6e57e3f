"""Run the jobs of a batch through pipeline.tasks, a pool of worker threads and one shared Client.

Remote backends: N worker threads share one Client (one HTTP connection pool); every model call
passes the Pacer (requests/tokens per minute, concurrency that halves on 429 and grows back).
The local backend: the caller passes concurrency 1, so jobs run one after another on one loaded
model.

Interrupts: the first Ctrl-C (or SIGTERM, see the CLI) starts no new job and lets the ones in
flight finish and be written; a second one abandons them (nothing of theirs is written). What is
already in OUT.jsonl is never touched, so a rerun continues where this one stopped.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.batch.jobs import Job
from pipeline.batch.limits import Pacer
from pipeline.batch.progress import Progress, say
from pipeline.batch.results import ResultWriter, make_record
from pipeline.errors import BackendError, BudgetExceeded, SpeechsmithError, ValidationFailed
from pipeline.model.backends.metered import CallStopped, MeteredBackend
from pipeline.model.types import ChatResponse
from pipeline.tasks import TaskContext, TaskResult, run_task

# After this many jobs in a row could not reach the endpoint at all, the batch stops: recording
# thousands of "connection refused" errors would only make every job need --retry-failed.
UNREACHABLE_STOP = 3


class StopBatch(Exception):
    """The whole batch must stop (a run cap, a rejected key, an unknown model); the job that
    met it is not recorded, so a rerun does it."""


class Unreachable(Exception):
    """The endpoint could not be reached for this job; it is not recorded (a rerun does it)."""


@dataclass
class _JobUsage:
    calls: int = 0  # model calls made, answered or failed (a failed one after its retries)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0

    def to_dict(self, seconds: float) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "retries": self.retries,
            "seconds": round(seconds, 3),
        }


_current = threading.local()  # .usage: the _JobUsage of the job this thread is running


def _count_usage(response: ChatResponse) -> None:
    usage: _JobUsage | None = getattr(_current, "usage", None)
    if usage is not None:
        usage.calls += 1
        usage.prompt_tokens += response.usage.prompt_tokens
        usage.completion_tokens += response.usage.completion_tokens
        usage.retries += response.retries


def _count_failure(exc: BaseException) -> None:
    # A call that failed after its retries was still made: the job's error line says so.
    usage: _JobUsage | None = getattr(_current, "usage", None)
    if usage is not None:
        usage.calls += 1
        usage.retries += int(getattr(exc, "retries", 0))


def meter(client: Any, pacer: Pacer | None) -> None:
    """Route the client's model calls through MeteredBackend (once)."""
    if client is None:
        return
    if isinstance(client.backend, MeteredBackend):
        client.backend.pacer = pacer
    else:
        client.backend = MeteredBackend(client.backend, pacer, on_response=_count_usage, on_failure=_count_failure)


class Interrupts:
    """How many times the user asked to stop: 1 = finish the jobs in flight, 2 = abandon them.

    Counted by KeyboardInterrupt in run_batch's loop, or by a signal handler (`bump`) where an
    exception could land in the middle of other work (the worker processes)."""

    def __init__(self) -> None:
        self.count = 0

    def bump(self, *_: object) -> None:
        self.count += 1


@dataclass
class BatchSummary:
    total: int = 0
    skipped: int = 0  # already in OUT.jsonl from an earlier run
    counts: dict[str, int] = field(default_factory=lambda: {"ok": 0, "invalid": 0, "error": 0})
    not_run: int = 0  # left for a rerun (interrupted, stopped, endpoint unreachable)
    abandoned: int = 0  # in flight when the second interrupt came
    interrupted: bool = False
    stopped_by: str = ""  # why the run stopped early (cap, rejected key, endpoint down), if it did
    seconds: float = 0.0
    tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total, "skipped": self.skipped, **self.counts, "not_run": self.not_run,
            "abandoned": self.abandoned, "interrupted": self.interrupted, "stopped_by": self.stopped_by,
            "seconds": round(self.seconds, 3), "tokens": self.tokens,
        }


def run_job(job: Job, ctx: TaskContext, *, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run one job to its result record; every expected failure of the job becomes a record.

    Raises StopBatch (run cap, rejected key, unknown model) and Unreachable (endpoint down):
    those say nothing about the job, so it is left for a rerun rather than recorded."""
    if job.error:
        return make_record(job.id, job.task, "error", errors=[job.error], line=job.line)
    usage = _JobUsage()
    _current.usage = usage
    start = time.perf_counter()
    try:
        result: TaskResult = run_task(job.task, dict(job.inputs), ctx)
        status, errors, raw, data = "ok", [], None, result.model_dump(mode="json")
    except ValidationFailed as exc:
        status, errors, raw, data = "invalid", list(exc.errors) or [str(exc)], exc.raw, None
    except BudgetExceeded as exc:
        if _is_run_cap(exc):
            raise StopBatch(str(exc)) from None
        status, errors, raw, data = "error", [str(exc)], None, None
    except BackendError as exc:
        status_code = getattr(exc, "status", None)
        if status_code in (401, 403, 404):
            raise StopBatch(_redact(str(exc), secrets)) from None
        if status_code is None and str(exc).startswith("cannot reach"):
            raise Unreachable(_redact(str(exc), secrets)) from None
        status, errors, raw, data = "error", [str(exc)], None, None
    except SpeechsmithError as exc:
        status, errors, raw, data = "error", [str(exc)], None, None
    except Exception as exc:  # a bug in one task must not sink 5,000 jobs
        status, errors, raw, data = "error", [f"internal error: {type(exc).__name__}: {exc}"], None, None
    finally:
        _current.usage = None
    errors = [_redact(e, secrets) for e in errors]
    return make_record(
        job.id, job.task, status, result=data, errors=errors,
        usage=usage.to_dict(time.perf_counter() - start), raw=raw, line=job.line if status != "ok" else None,
    )


def _is_run_cap(exc: BudgetExceeded) -> bool:
    # --max-cost / --max-tokens cap the whole run (the Client says "stopping: …"): stop and leave
    # the rest for a rerun. A single job too long for the context window is that job's error.
    return str(exc).startswith("stopping")


def _redact(message: str, secrets: tuple[str, ...]) -> str:
    from pipeline.redact import redact

    for secret in secrets:
        if secret and len(secret) >= 4:
            message = message.replace(secret, "***")
    return redact(message)


def run_batch(
    jobs: list[Job],
    writer: ResultWriter,
    ctx: TaskContext,
    *,
    concurrency: int = 1,
    pacer: Pacer | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    interrupts: Interrupts | None = None,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> BatchSummary:
    """Run every job not yet in `writer`'s file; returns counts for this run.

    KeyboardInterrupt in the calling thread (or `interrupts` bumped by a signal handler): the
    first stops new jobs and waits for those in flight, the second abandons them. Either way the
    function returns (summary.interrupted).
    """
    started = time.monotonic()
    interrupts = interrupts or Interrupts()
    stop = stop or (pacer.stop if pacer is not None and pacer.stop is not None else threading.Event())
    if pacer is not None:
        pacer.stop = stop
    if ctx.client is not None:
        meter(ctx.client, pacer)
    secrets = _secrets(ctx)
    summary = BatchSummary(total=len(jobs))
    todo: queue.SimpleQueue[Job] = queue.SimpleQueue()
    for job in jobs:
        if writer.is_done(job.id):
            summary.skipped += 1
        elif job.error:
            # Unusable lines are recorded right away; they need no worker.
            record = run_job(job, ctx)
            if writer.write(record):
                _count(summary, record, progress, on_record)
        else:
            todo.put(job)
    pending = todo.qsize()
    before = sum(writer.written.values())
    finished: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
    workers = [
        threading.Thread(
            target=_worker, args=(todo, writer, ctx, stop, finished, secrets), name=f"batch-{i}", daemon=True
        )
        for i in range(max(1, min(concurrency, pending)))
    ] if pending else []
    for worker in workers:
        worker.start()
    alive = len(workers)
    run_done = 0
    unreachable = 0  # jobs in a row that could not reach the endpoint
    handled = 0  # interrupts acted on
    while alive:
        try:
            if interrupts.count > handled:
                handled = interrupts.count
                if handled == 1:
                    summary.interrupted = True
                    stop.set()
                    in_flight = sum(1 for w in workers if w.is_alive())
                    say(progress, f"interrupted: finishing {in_flight} job(s) in flight; Ctrl-C again to abandon them")
                else:
                    writer.close()  # waits for a write in progress; later results are dropped
                    summary.abandoned = sum(1 for w in workers if w.is_alive())
                    break
            kind, value = finished.get(timeout=0.1)
            if kind == "record":
                run_done += 1
                unreachable = 0
                _count(summary, value, progress, on_record)
            elif kind == "exit":
                alive -= 1
            elif kind == "unreachable":
                unreachable += 1
                if unreachable >= UNREACHABLE_STOP and not summary.stopped_by:
                    summary.stopped_by = value
                    stop.set()
                    say(progress, f"stopping: {value}")
            elif kind == "stop" and not summary.stopped_by:
                summary.stopped_by = value
                stop.set()
                say(progress, f"stopping: {value}")
        except queue.Empty:
            if progress is not None:
                progress.tick()
        except KeyboardInterrupt:
            interrupts.bump()
    run_done = sum(writer.written.values()) - before  # includes results not yet counted above
    summary.not_run = max(pending - run_done - summary.abandoned, 0)
    summary.seconds = time.monotonic() - started
    if progress is not None:
        progress.finish()
    return summary


def _worker(
    todo: queue.SimpleQueue[Job],
    writer: ResultWriter,
    ctx: TaskContext,
    stop: threading.Event,
    finished: queue.SimpleQueue[tuple[str, Any]],
    secrets: tuple[str, ...],
) -> None:
    try:
        while not stop.is_set():
            try:
                job = todo.get_nowait()
            except queue.Empty:
                return
            job_ctx = dataclasses.replace(ctx)
            try:
                record = run_job(job, job_ctx, secrets=secrets)
            except CallStopped:
                return
            except StopBatch as exc:
                finished.put(("stop", str(exc)))
                return
            except Unreachable as exc:
                finished.put(("unreachable", str(exc)))
                continue
            if writer.write(record):
                finished.put(("record", record))
    finally:
        finished.put(("exit", None))


def _count(
    summary: BatchSummary,
    record: dict[str, Any],
    progress: Progress | None,
    on_record: Callable[[dict[str, Any]], None] | None,
) -> None:
    summary.counts[record["status"]] += 1
    usage = record.get("usage") or {}
    tokens = int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
    summary.tokens += tokens
    if progress is not None:
        progress.add(record["status"], tokens)
    if on_record is not None:
        on_record(record)


def _secrets(ctx: TaskContext) -> tuple[str, ...]:
    found = [os.environ.get(v, "") for v in ("OPENAI_API_KEY", "SPEECHSMITH_API_KEY")]
    backend = getattr(ctx.client, "backend", None) if ctx.client is not None else None
    for holder in (backend, getattr(backend, "inner", None)):
        key = getattr(holder, "api_key", None)
        if isinstance(key, str):
            found.append(key)
    return tuple(s for s in found if s)
