"""The job queue: the embedded model serves one job at a time, the rest wait their turn.

A job is a task run submitted from the page or the API. It gets an id at once (the link that
fetches its result again), collects the task's progress events while it runs, and keeps its
result (in memory, and as JSON under the data dir, so a closed tab or a restarted server does
not lose it). Jobs that need no model (check, extractive summaries) run beside the queue.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.atomic import write_atomic
from pipeline.errors import SpeechsmithError
from pipeline.events import ProgressEvent

__all__ = ["Job", "JobQueue", "valid_job_id"]

_ID = re.compile(r"^[0-9a-f]{32}$")
KEEP_IN_MEMORY = 200
STATES = ("queued", "running", "done", "failed")

Runner = Callable[["Job", Callable[[ProgressEvent], None]], dict[str, Any]]


def valid_job_id(value: str) -> bool:
    return bool(_ID.match(value))


@dataclass
class Job:
    id: str
    task: str
    request: dict[str, Any]  # the task's input as submitted (shown again with the result)
    uses_model: bool = True
    status: str = "queued"
    events: list[dict[str, Any]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None

    def public(self, position: int | None = None) -> dict[str, Any]:
        """What the page and the API see of a job (events are streamed separately)."""
        return {
            "id": self.id, "task": self.task, "status": self.status, "position": position,
            "result": self.result, "error": self.error, "request": self.request,
            "created": self.created, "started": self.started, "finished": self.finished,
            "events": len(self.events),
        }


class JobQueue:
    """One worker thread for model jobs (in order), short-lived threads for the others."""

    def __init__(self, runner: Runner, store: Path) -> None:
        self.runner = runner
        self.store = store
        self.store.mkdir(parents=True, exist_ok=True)
        self.jobs: dict[str, Job] = {}
        self.waiting: deque[str] = deque()
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.running: str | None = None
        self.closed = False
        self.warmups: list[Callable[[], None]] = []
        self.worker = threading.Thread(target=self._work, name="speechsmith-jobs", daemon=True)
        self.worker.start()

    def submit(self, task: str, request: dict[str, Any], *, uses_model: bool = True) -> Job:
        job = Job(id=uuid.uuid4().hex, task=task, request=request, uses_model=uses_model)
        with self.lock:
            self.jobs[job.id] = job
            self._forget_old()
            if uses_model:
                self.waiting.append(job.id)
                self._event(job, ProgressEvent("queue", label="排队中", done=len(self.waiting) - 1))
                self.wake.notify()
        if not uses_model:
            threading.Thread(target=self._run, args=(job,), name=f"job-{job.id[:6]}", daemon=True).start()
        return job

    def submit_warmup(self, fn: Callable[[], None]) -> None:
        """Run fn on the worker before any job (loading the model); a failure is left to the first job."""
        with self.lock:
            self.warmups.append(fn)
            self.wake.notify()

    def get(self, job_id: str) -> Job | None:
        if not valid_job_id(job_id):
            return None
        with self.lock:
            job = self.jobs.get(job_id)
        return job or self._load(job_id)

    def position(self, job: Job) -> int | None:
        """How many jobs are ahead of this one (0: it is next or running); None once it has run."""
        with self.lock:
            if job.id == self.running:
                return 0
            try:
                return self.waiting.index(job.id) + (1 if self.running else 0)
            except ValueError:
                return None

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.wake.notify_all()

    # ---- internals ----------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self.lock:
                while not self.waiting and not self.warmups and not self.closed:
                    self.wake.wait()
                if self.closed:
                    return
                warmup = self.warmups.pop(0) if self.warmups else None
                if warmup is None:
                    job = self.jobs[self.waiting.popleft()]
                    self.running = job.id
            if warmup is not None:
                try:
                    warmup()
                except Exception:  # noqa: BLE001 - the first job reports the same failure clearly
                    pass
                continue
            try:
                self._run(job)
            finally:
                with self.lock:
                    self.running = None

    def _run(self, job: Job) -> None:
        job.status, job.started = "running", time.time()
        self._event(job, ProgressEvent("start", label="开始"))
        try:
            job.result = self.runner(job, lambda event: self._event(job, event))
            job.status = "done"
        except Exception as exc:  # noqa: BLE001 - one job's failure is that job's message, not the server's
            from pipeline.web.tasks import error_message

            job.error, job.status = error_message(exc), "failed"
        job.finished = time.time()
        self._event(job, ProgressEvent("done" if job.status == "done" else "failed",
                                       label="完成" if job.status == "done" else "失败"))
        self._save(job)

    def _event(self, job: Job, event: ProgressEvent) -> None:
        data = asdict(event)
        data.pop("at", None)
        data["time"] = round(time.time() - job.created, 3)
        job.events.append(data)

    def _forget_old(self) -> None:
        # Finished jobs stay on disk; memory keeps the most recent ones.
        if len(self.jobs) <= KEEP_IN_MEMORY:
            return
        for job_id in [j for j, job in self.jobs.items() if job.finished][: len(self.jobs) - KEEP_IN_MEMORY]:
            del self.jobs[job_id]

    def _path(self, job_id: str) -> Path:
        return self.store / f"{job_id}.json"

    def _save(self, job: Job) -> None:
        try:
            write_atomic(self._path(job.id), json.dumps(asdict(job), ensure_ascii=False))
        except (OSError, SpeechsmithError):
            pass  # the result stays in memory; a full disk must not fail the job

    def _load(self, job_id: str) -> Job | None:
        path = self._path(job_id)
        if not path.is_file():
            return None
        try:
            return Job(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def save(self, job: Job) -> None:
        """Write a finished job again (the writer edited its result)."""
        self._save(job)
