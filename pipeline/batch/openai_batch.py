"""The OpenAI Batch route: jobs -> request lines, result lines -> validated OUT.jsonl records.

Request line (OpenAI Batch API input, also what `vllm run-batch -i` reads):

    {"custom_id": "j001", "method": "POST", "url": "/v1/chat/completions", "body": {…}}

Result line (what both write back, in any order, possibly only some of them):

    {"id": "…", "custom_id": "j001", "response": {"status_code": 200, "body": {chat.completion}},
     "error": null}

Only tasks with a one-call strategy (`batch_request` / `batch_finish` in pipeline.tasks.<task>)
can take this route. Import validates every reply with the task's own `batch_finish`, exactly as
a live call would be, and lists what failed or is missing in a follow-up request file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline.batch.jobs import Job, read_input_file
from pipeline.batch.results import ResultWriter, make_record
from pipeline.errors import InputError, SpeechsmithError, ValidationFailed
from pipeline.model.backends.export import request_body
from pipeline.tasks import OneCall, TaskContext, get_task

URL = "/v1/chat/completions"


def has_one_call(task: str) -> bool:
    return get_task(task).has_one_call


def other_route(job: Job) -> str | None:
    """Why this job does not go as one model call (None: it does). A job whose options choose a
    method with no model, or several calls (extractive, hybrid, sectioned, plan-draft), must not
    be turned into one big request: `batch run` does it the way it asks."""
    spec = get_task(job.task)
    if not spec.has_one_call:
        return f"task {job.task} has no one-call strategy"
    if spec.batch_skip is None:
        return None
    try:
        return spec.batch_skip(spec.parse(job.inputs))
    except SpeechsmithError:
        return None  # an unusable input: batch_request reports it as the line's error


def one_call(job: Job, ctx: TaskContext) -> OneCall:
    """The task's single request for this job; InputError when the job has none."""
    spec = get_task(job.task)
    why = other_route(job)
    if why is not None or spec.batch_request is None:
        raise InputError(f"{why or 'no one-call strategy'}; run it with `speechsmith batch run`")
    return spec.batch_request(spec.parse(job.inputs), ctx)


def request_line(custom_id: str, call: OneCall, model: str, *, prefill: str = "fold") -> dict[str, Any]:
    return {"custom_id": custom_id, "method": "POST", "url": URL, "body": chat_body(call, model, prefill=prefill)}


def chat_body(call: OneCall, model: str, *, prefill: str = "fold") -> dict[str, Any]:
    """The /v1/chat/completions body of a task's one call, exactly as a live call would send it."""
    request = call.request
    if request.json_schema is None:  # as Client.structured does for a live call
        request = replace(request, json_schema=call.schema.model_json_schema(), schema_name=call.schema.__name__)
    return request_body(request, model, prefill=prefill)


@dataclass
class ExportReport:
    written: int = 0
    errors: list[str] = field(default_factory=list)  # "line N: why": bad lines, inputs that fail
    left_out: list[str] = field(default_factory=list)  # "line N (id): why": jobs for `batch run`

    @property
    def skipped(self) -> list[str]:
        return self.errors + self.left_out


def export_requests(
    jobs: Iterable[Job], ctx: TaskContext, model: str, *, prefill: str = "fold"
) -> tuple[list[dict[str, Any]], ExportReport]:
    lines: list[dict[str, Any]] = []
    report = ExportReport()
    for job in jobs:
        if job.error:
            report.errors.append(job.error)
            continue
        why = other_route(job)
        if why is not None:
            # Not a bad line: a mixed jobs file is normal, `batch run` does these with the same OUT.jsonl.
            report.left_out.append(f"line {job.line} ({job.id}): {why}; run it with `speechsmith batch run`")
            continue
        try:
            call = one_call(job, ctx)
        except SpeechsmithError as exc:
            report.errors.append(f"line {job.line} ({job.id}): {exc}")
            continue
        lines.append(request_line(job.id, call, model, prefill=prefill))
    report.written = len(lines)
    return lines, report


def encode_lines(lines: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n" for line in lines)


@dataclass
class Reply:
    """One result line, reduced to what import needs."""

    custom_id: str
    content: str | None = None
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str = ""
    model: str = ""


def read_replies(path: str | Path) -> tuple[dict[str, Reply], list[str]]:
    """Result lines by custom_id, and the problems found (line numbers). Tolerates a torn last
    line and junk lines; when an id appears twice, a successful reply wins over a failed one.

    A file in which no line is a result line (a speech, a requests file, binary data) is an
    InputError: reporting each of its lines as "torn" would hide that the wrong file was given.
    An empty file is fine (an error file of a batch without errors)."""
    path = Path(path)
    blob = read_input_file(path, "results file")
    if b"\x00" in blob[:8192]:
        raise InputError(f"{path} is not a batch results file (binary data)")
    text = blob.decode("utf-8-sig", errors="replace")
    replies: dict[str, Reply] = {}
    problems: list[str] = []
    requests = 0  # lines that look like exported requests (custom_id + body, no response)
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            problems.append(f"line {number}: not JSON (torn or truncated?), ignored")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("custom_id"), str):
            problems.append(f"line {number}: no custom_id, ignored")
            continue
        if "response" not in data and "error" not in data:
            requests += "body" in data
            problems.append(f"line {number}: neither response nor error, ignored")
            continue
        merge_replies(replies, {data["custom_id"]: parse_reply(data)})
    if problems and not replies:
        hint = " (it holds request lines: give the file the Batch API or vllm run-batch wrote back)" if requests else ""
        raise InputError(f"{path} is not a batch results file: none of its lines is a result line{hint}")
    return replies, problems


def merge_replies(into: dict[str, Reply], new: dict[str, Reply]) -> None:
    """Add replies; for an id seen twice, a successful reply wins over a failed one."""
    for custom_id, reply in new.items():
        old = into.get(custom_id)
        if old is None or (old.content is None and reply.content is not None):
            into[custom_id] = reply


def parse_reply(data: dict[str, Any]) -> Reply:
    reply = Reply(data["custom_id"])
    error = data.get("error")
    response = data.get("response") or {}
    if error:
        reply.error = _error_text(error)
        return reply
    if not isinstance(response, dict):
        reply.error = "response is not an object"
        return reply
    status = response.get("status_code")
    body = response.get("body") or {}
    if not isinstance(body, dict):
        reply.error = f"HTTP {status}: response body is not an object"
        return reply
    if status != 200:
        reply.error = f"HTTP {status}: {_error_text(body.get('error') or body)}"
        return reply
    try:
        choice = body["choices"][0]
        content = choice["message"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError):
        reply.error = "response has no choices[0].message"
        return reply
    if not isinstance(content, str):
        refusal = (choice.get("message") or {}).get("refusal")
        reply.error = f"model refused: {refusal}" if refusal else "response has no content"
        return reply
    reply.content = content
    reply.finish_reason = str(choice.get("finish_reason") or "")
    reply.model = str(body.get("model") or "")
    usage = body.get("usage") or {}
    reply.usage = {
        "calls": 1,
        "prompt_tokens": int(usage.get("prompt_tokens") or 0),
        "completion_tokens": int(usage.get("completion_tokens") or 0),
    }
    return reply


def _error_text(error: Any) -> str:
    from pipeline.redact import redact  # a provider may echo the key in an error body

    if isinstance(error, dict):
        code = error.get("code") or error.get("type") or ""
        message = error.get("message") or json.dumps(error, ensure_ascii=False)[:300]
        return redact(f"{code}: {message}" if code else str(message))
    return redact(str(error)[:300])


@dataclass
class ImportReport:
    counts: dict[str, int] = field(default_factory=lambda: {"ok": 0, "invalid": 0, "error": 0})
    already: int = 0  # ok in OUT.jsonl from an earlier import
    missing: list[str] = field(default_factory=list)  # job ids with no result line
    retry: list[str] = field(default_factory=list)  # job ids to send again (failed + missing)
    unknown: list[str] = field(default_factory=list)  # custom_ids that match no job
    not_batchable: list[str] = field(default_factory=list)  # jobs with no one-call path (see other_route)
    problems: list[str] = field(default_factory=list)


def import_replies(
    jobs: list[Job], replies: dict[str, Reply], writer: ResultWriter, ctx: TaskContext
) -> ImportReport:
    """Validate each job's reply through its task's batch_finish and append the records."""
    report = ImportReport()
    ids = {job.id for job in jobs}
    report.unknown = sorted(set(replies) - ids)
    for job in jobs:
        if writer.is_done(job.id):
            report.already += 1
            continue
        reply = replies.get(job.id)
        if not job.error and other_route(job) is not None:
            # Left out of OUT.jsonl so that `batch run` with the same OUT.jsonl runs just these.
            report.not_batchable.append(job.id)
            continue
        if job.error:
            record = make_record(job.id, job.task, "error", errors=[job.error], line=job.line)
        elif reply is None:
            report.missing.append(job.id)
            report.retry.append(job.id)
            continue
        else:
            record = finish(job, reply, ctx)
            if record["status"] != "ok":
                report.retry.append(job.id)
        if writer.write(record):
            report.counts[record["status"]] += 1
    return report


def finish(job: Job, reply: Reply, ctx: TaskContext) -> dict[str, Any]:
    """One job's record from one reply."""
    if reply.error is not None:
        return make_record(job.id, job.task, "error", errors=[reply.error], line=job.line)
    spec = get_task(job.task)
    raw = reply.content or ""
    note = ["finish_reason=length: the reply was cut off"] if reply.finish_reason == "length" else []
    try:
        if spec.batch_finish is None:
            raise InputError(f"task {job.task} has no one-call strategy")
        result = spec.batch_finish(spec.parse(job.inputs), raw, ctx)
    except ValidationFailed as exc:
        errors = (list(exc.errors) or [str(exc)]) + note
        return make_record(job.id, job.task, "invalid", errors=errors, usage=reply.usage, raw=exc.raw or raw, line=job.line)
    except (ValueError, ValidationError) as exc:
        return make_record(job.id, job.task, "invalid", errors=[str(exc)[:1000]] + note, usage=reply.usage, raw=raw, line=job.line)
    except SpeechsmithError as exc:
        return make_record(job.id, job.task, "error", errors=[str(exc)], usage=reply.usage, line=job.line)
    except Exception as exc:  # a bug in one task's finish must not stop the import
        return make_record(
            job.id, job.task, "error", errors=[f"internal error: {type(exc).__name__}: {exc}"],
            usage=reply.usage, line=job.line,
        )
    return make_record(job.id, job.task, "ok", result=result.model_dump(mode="json"), usage=reply.usage)


def followup_lines(
    retry_ids: list[str],
    jobs: list[Job],
    ctx: TaskContext,
    *,
    model: str | None,
    original: dict[str, dict[str, Any]] | None = None,
    prefill: str = "fold",
) -> tuple[list[dict[str, Any]], list[str]]:
    """Request lines for the jobs to send again: copied from the original requests file when
    given (byte-for-byte the same request), else rebuilt with the task's batch_request."""
    by_id = {job.id: job for job in jobs}
    lines: list[dict[str, Any]] = []
    problems: list[str] = []
    for job_id in retry_ids:
        if original is not None and job_id in original:
            lines.append(original[job_id])
            continue
        job = by_id[job_id]
        if not model:
            problems.append(f"{job_id}: no original request and no --model to rebuild it")
            continue
        try:
            lines.append(request_line(job_id, one_call(job, ctx), model, prefill=prefill))
        except SpeechsmithError as exc:
            problems.append(f"{job_id}: {exc}")
    return lines, problems


def read_requests(path: str | Path) -> dict[str, dict[str, Any]]:
    """An exported requests.jsonl by custom_id (for exact follow-up lines)."""
    out: dict[str, dict[str, Any]] = {}
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"requests file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read requests file {path}: {exc}") from None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise InputError(f"{path} line {number}: not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("custom_id"), str):
            raise InputError(f"{path} line {number}: not a batch request line (no custom_id)")
        out[data["custom_id"]] = data
    return out
