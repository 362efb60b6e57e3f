"""JOBS.jsonl: one job per line, options under the CLI names of its task.

    {"id": "j001", "task": "summarize", "text": "……", "method": "llm", "length": "short"}
    {"task": "restyle", "file": "speeches/05.txt", "style": "news"}
    {"id": "a7", "task": "adapt", "occasion": "全县安全生产工作会议", "points": ["压实安全生产责任"]}

A line that cannot become a job (bad JSON, unknown task, no input) is still a Job, with `error`
set, so the runner records it in OUT.jsonl and the other lines go on.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import InputError
from pipeline.tasks import TASKS, unknown_keys_message

# What each task needs as its input; everything else on the line is an option.
_NEEDS: dict[str, tuple[str, ...]] = {
    "summarize": ("text", "file"),
    "restyle": ("text", "file"),
    "check": ("text", "file"),
    "adapt": ("brief", "occasion"),
}
_PATH_KEYS = ("file", "brief", "source_file")
MAX_ID = 200

@dataclass
class Job:
    id: str
    task: str
    inputs: dict[str, Any] = field(default_factory=dict)
    line: int = 0  # 1-based line number in JOBS.jsonl
    error: str | None = None  # set when the line itself is unusable

    @property
    def ok(self) -> bool:
        return self.error is None


def line_id(raw: str) -> str:
    """The default id: a short hash of the line, so the same line keeps its id across reruns."""
    return "h" + hashlib.sha256(raw.strip().encode("utf-8")).hexdigest()[:12]


def parse_job(raw: str, line: int, base_dir: Path | None = None) -> Job:
    """One line to one Job; problems go into Job.error naming the line."""
    where = f"line {line}"
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Job(line_id(raw), "", line=line, error=f"{where}: invalid JSON: {exc.msg} at column {exc.colno}")
    if not isinstance(data, dict):
        return Job(line_id(raw), "", line=line, error=f"{where}: a job must be a JSON object")
    job_id = data.pop("id", None)
    if job_id is None:
        job_id = line_id(raw)
    elif not isinstance(job_id, str | int) or isinstance(job_id, bool) or not str(job_id).strip():
        return Job(line_id(raw), "", line=line, error=f"{where}: id must be a non-empty string")
    job_id = str(job_id).strip()
    if len(job_id) > MAX_ID:
        return Job(line_id(raw), "", line=line, error=f"{where}: id longer than {MAX_ID} characters")
    task = data.pop("task", None)
    job = Job(job_id, task if isinstance(task, str) else "", data, line=line)
    if task is None:
        job.error = f"{where}: no \"task\" (use one of {', '.join(TASKS)})"
    elif task not in TASKS:
        job.error = f"{where}: unknown task {task!r} (use one of {', '.join(TASKS)})"
    elif (unknown := unknown_keys_message(task, data)) is not None:
        job.error = f"{where}: {unknown}"
    elif not any(data.get(k) not in (None, "", []) for k in _NEEDS[task]):
        job.error = f"{where}: {task} needs " + " or ".join(f'"{k}"' for k in _NEEDS[task])
    else:
        job.error = _resolve_paths(data, base_dir, where)
    return job


def _resolve_paths(data: dict[str, Any], base_dir: Path | None, where: str) -> str | None:
    # Relative paths are relative to JOBS.jsonl, so a jobs file travels with its inputs.
    for key in _PATH_KEYS:
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            return f"{where}: \"{key}\" must be a path"
        path = Path(value).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            return f"{where}: {key} not found: {value}"
        data[key] = str(path)
    return None


def read_input_file(path: Path, what: str) -> bytes:
    """The bytes of a file the user named, or one InputError line saying why not."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{what} is a directory: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None


def read_jobs(path: str | Path) -> list[Job]:
    """All jobs of JOBS.jsonl ('-': stdin, read fully first) in order; blank lines are skipped, a
    repeated id is an error job."""
    if str(path) == "-":
        return _parse_jobs(_read_stdin(), "stdin", Path.cwd())
    path = Path(path)
    blob = read_input_file(path, "jobs file")
    # Relative paths in the lines are relative to the jobs file (to the current folder for stdin).
    return _parse_jobs(blob, str(path), path.resolve().parent)


def _read_stdin() -> bytes:
    from pipeline.text.textio import read_stdin

    if sys.stdin is not None and sys.stdin.isatty():
        raise InputError("JOBS.jsonl is '-' but nothing is piped to stdin (e.g. `cat jobs.jsonl | speechsmith batch run - -o out.jsonl`)")
    return read_stdin()


def _parse_jobs(blob: bytes, path: str, base: Path) -> list[Job]:
    if b"\x00" in blob[:8192]:
        raise InputError(f"{path} is binary, not a JSONL jobs file")
    try:
        text = blob.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 (byte {exc.start}); save JOBS.jsonl as UTF-8") from None
    jobs: list[Job] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        job = parse_job(raw, number, base)
        if job.id in first_line:
            # Two jobs with one id would fight over one result line: keep the first.
            job = Job(
                f"{job.id}@line{number}", job.task, line=number,
                error=f"line {number}: duplicate id {job.id!r} (first on line {first_line[job.id]})",
            )
        first_line.setdefault(job.id, number)
        jobs.append(job)
    if not jobs:
        raise InputError(f"{path} has no jobs (one JSON object per line)")
    return jobs
