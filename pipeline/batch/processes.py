"""Several worker processes for remote batches: one Python process tops out near one core.

Per job the task, the Client and the openai SDK spend a few milliseconds of CPU under the GIL;
at 32 jobs in flight against a fast endpoint that, not the network, is the limit. With
`processes` > 1 the pending jobs are dealt round-robin to forked children, each with its own
Client (its own HTTP pool and run-log connection) and its share of the concurrency and rate
limits. They append to the same OUT.jsonl through the descriptor inherited from the parent (one
O_APPEND write per line keeps lines whole across processes) and report each result over a pipe
for the progress line.

Children run in their own process group so a terminal Ctrl-C reaches only the parent, which
forwards it (first: finish in-flight jobs; second: abandon them); they die with the parent
(PR_SET_PDEATHSIG), so a kill -9 of the parent cannot leave orphans writing to OUT.jsonl.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from pipeline.batch.jobs import Job
from pipeline.batch.limits import Pacer
from pipeline.batch.progress import Progress, say
from pipeline.batch.results import ResultWriter
from pipeline.batch.runner import BatchSummary, Interrupts, run_batch
from pipeline.tasks import TaskContext


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def run_processes(
    jobs: list[Job],
    writer: ResultWriter,
    make_ctx: Callable[[], TaskContext],
    *,
    processes: int,
    concurrency: int,
    rpm: float | None = None,
    tpm: float | None = None,
    progress: Progress | None = None,
    interrupts: Interrupts | None = None,
    prompts_dir: Any = None,
) -> tuple[BatchSummary, list[dict[str, Any]]]:
    """Run the pending jobs in `processes` children; returns the summary and each child's usage."""
    started = time.monotonic()
    summary = BatchSummary(total=len(jobs))
    pending = [j for j in jobs if not writer.is_done(j.id)]
    summary.skipped = len(jobs) - len(pending)
    processes = max(1, min(processes, len(pending)))
    _warm({j.task for j in pending if j.ok}, prompts_dir)
    shares = [pending[i::processes] for i in range(processes)]
    each = max(1, -(-concurrency // processes))
    children: dict[int, int] = {}  # pid -> read end of its pipe
    sys.stdout.flush()
    sys.stderr.flush()
    for share in shares:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child never returns from here
            os.close(read_end)
            _child(share, writer, make_ctx, write_end, each, rpm and rpm / processes, tpm and tpm / processes)
        os.close(write_end)
        children[pid] = read_end

    usages: list[dict[str, Any]] = []
    interrupts = interrupts or Interrupts()
    handled = 0
    selector = selectors.DefaultSelector()
    buffers: dict[int, bytes] = {}
    for pid, fd in children.items():
        selector.register(fd, selectors.EVENT_READ, pid)
        buffers[fd] = b""
    open_fds = set(children.values())
    while open_fds:
        if interrupts.count > handled:
            # Each Ctrl-C goes on to every child: the first finishes, the second abandons.
            for _ in range(interrupts.count - handled):
                for pid in children:
                    _signal(pid, signal.SIGINT)
            if handled == 0:
                summary.interrupted = True
                say(progress, "interrupted: finishing the jobs in flight; Ctrl-C again to abandon them")
            handled = interrupts.count
        try:
            events = selector.select(timeout=0.1)
        except KeyboardInterrupt:
            interrupts.bump()
            continue
        if not events and progress is not None:
            progress.tick()
        for key, _ in events:
            fd = key.fd
            chunk = os.read(fd, 65536)
            if not chunk:
                selector.unregister(fd)
                os.close(fd)
                open_fds.discard(fd)
                continue
            buffers[fd] += chunk
            *lines, buffers[fd] = buffers[fd].split(b"\n")
            for line in lines:
                _message(json.loads(line), summary, progress, usages)
    for pid in children:
        _reap(pid)
    summary.not_run = max(len(pending) - sum(summary.counts.values()) - summary.abandoned, 0)
    summary.seconds = time.monotonic() - started
    if progress is not None:
        progress.finish()
    return summary, usages


def _warm(tasks: set[str], prompts_root: Any = None) -> None:
    # Import and load before forking what every child needs (the SDK and its chat resource, the
    # tokenizer, the fact patterns, the task modules and their prompt templates), so the
    # children share it copy-on-write instead of each paying ~0.2 s of CPU in its first jobs.
    import importlib

    import openai.resources.chat.chat  # noqa: F401 - the SDK imports it on first use

    from pipeline.errors import SpeechsmithError
    from pipeline.model import tokens
    from pipeline.prompts import list_prompts, load_prompt
    from pipeline.text import facts

    tokens.count_tokens("预热")
    facts.extract_facts("2024年增长5%")
    try:
        names = list_prompts(prompts_root)
    except (OSError, SpeechsmithError):
        names = []
    for task in tasks:
        importlib.import_module(f"pipeline.tasks.{task}")
        for name in names:
            if name == task or name.startswith(f"{task}/"):
                try:
                    load_prompt(name, prompts_root)
                except SpeechsmithError:
                    pass  # the job that needs it reports it


def _message(msg: dict[str, Any], summary: BatchSummary, progress: Progress | None, usages: list[dict[str, Any]]) -> None:
    if msg["kind"] == "record":
        summary.counts[msg["status"]] += 1
        summary.tokens += msg["tokens"]
        if progress is not None:
            progress.add(msg["status"], msg["tokens"])
    elif msg["kind"] == "end":
        summary.abandoned += msg["abandoned"]
        summary.stopped_by = summary.stopped_by or msg["stopped_by"]
        if msg.get("usage"):
            usages.append(msg["usage"])
    elif msg["kind"] == "crash":
        say(progress, f"a worker process failed: {msg['error']}")


def _child(
    share: list[Job],
    writer: ResultWriter,
    make_ctx: Callable[[], TaskContext],
    pipe: int,
    concurrency: int,
    rpm: float | None,
    tpm: float | None,
) -> None:
    code = 0
    try:
        os.setpgrp()
        _die_with_parent()
        # The parent speaks for everyone (progress, "interrupted", "stopping"): a child's own
        # notices would repeat them once per process. Failures still reach it through the pipe.
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the child
        # Counted, never raised: a KeyboardInterrupt landing in start-up code would kill the
        # child with requests in flight; run_batch acts on the count once it is running.
        interrupts = Interrupts()
        signal.signal(signal.SIGINT, interrupts.bump)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        writer.after_fork()

        def send(msg: dict[str, Any]) -> None:
            os.write(pipe, (json.dumps(msg, ensure_ascii=False) + "\n").encode("utf-8"))

        def on_record(record: dict[str, Any]) -> None:
            usage = record.get("usage") or {}
            tokens = int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
            send({"kind": "record", "status": record["status"], "tokens": tokens})

        ctx = make_ctx()
        pacer = Pacer(concurrency, rpm=rpm, tpm=tpm)
        result = run_batch(
            share, writer, ctx, concurrency=concurrency, pacer=pacer, on_record=on_record, interrupts=interrupts
        )
        usage = None
        if ctx.client is not None:
            ctx.client.finish()
            ctx.client.usage_reported = True  # the parent prints the batch's usage line
            usage = ctx.client.usage.to_dict()
        send({"kind": "end", "abandoned": result.abandoned, "stopped_by": result.stopped_by, "usage": usage})
        writer.close()
    except BaseException as exc:  # noqa: BLE001 - a child must always reach os._exit
        code = 2
        try:
            os.write(pipe, (json.dumps({"kind": "crash", "error": f"{type(exc).__name__}: {exc}"[:300]}) + "\n").encode())
        except OSError:
            pass
    finally:
        os._exit(code)


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG = 1: the kernel kills this child when the parent dies (even by kill -9).
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    while True:
        try:
            os.waitpid(pid, 0)
            return
        except ChildProcessError:
            return
        except KeyboardInterrupt:
            _signal(pid, signal.SIGINT)
