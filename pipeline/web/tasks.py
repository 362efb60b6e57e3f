"""The one door from the web to the tasks: the request schemas (the tasks' typed inputs, less
what names a file on the server), how a request reaches the task registry, and one-line errors.

The API's request bodies are `AdaptInput`, `SummarizeInput`, `RestyleInput` and `CheckInput`
(pipeline.tasks.inputs) with the fields that name files on the server (`file`, `brief`,
`source_file`, a style given as a path) taken out, so nothing outside the data dir and the corpus
is read for a page or an API caller. Everything else is checked by the task itself, with the same
messages as on the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from pipeline.errors import SpeechsmithError
from pipeline.events import ProgressFn
from pipeline.redact import redact
from pipeline.tasks import (
    AdaptInput,
    CheckInput,
    RestyleInput,
    SummarizeInput,
    TaskContext,
    TaskInput,
    TaskResult,
    get_task,
)

__all__ = [
    "REQUESTS", "AdaptRequest", "CheckRequest", "RestyleRequest", "SummarizeRequest",
    "error_message", "precheck", "preview", "run", "uses_model",
]

_NOT_FROM_THE_WEB = "not accepted from the web: give the text itself"


class AdaptRequest(AdaptInput):
    """写讲话: the brief of a new speech (as `speechsmith adapt`; no brief file)."""

    brief: SkipJsonSchema[None] = Field(None, description=_NOT_FROM_THE_WEB)


class SummarizeRequest(SummarizeInput):
    """摘要: a long text to its gist, points, tasks and figures, each with its source paragraphs."""

    file: SkipJsonSchema[None] = Field(None, description=_NOT_FROM_THE_WEB)


class RestyleRequest(RestyleInput):
    """改写: a text rewritten in another style (a style name from the list, not a file)."""

    file: SkipJsonSchema[None] = Field(None, description=_NOT_FROM_THE_WEB)
    style: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$",
                              description="A style name from the style list (GET /restyle shows them). Default: plain.")


class CheckRequest(CheckInput):
    """检查: lint a speech; `fix` applies the safe fixes."""

    file: SkipJsonSchema[None] = Field(None, description=_NOT_FROM_THE_WEB)
    source_file: SkipJsonSchema[None] = Field(None, description=_NOT_FROM_THE_WEB)


REQUESTS: dict[str, type[TaskInput]] = {
    "adapt": AdaptRequest, "summarize": SummarizeRequest, "restyle": RestyleRequest, "check": CheckRequest,
}


def task_input(task: str, request: BaseModel) -> TaskInput:
    """The task's own input model for a web request."""
    data = {k: v for k, v in request.model_dump(exclude_none=True).items() if v not in ("", [])}
    if task == "check" and data.get("source") and "\n" not in data["source"]:
        # The check task reads a one-line `source` that names a file; from the web it is only text.
        data["source"] += "\n"
    return get_task(task).parse(data)


def uses_model(task: str, request: BaseModel) -> bool:
    """Whether the job waits for the model's queue (check and extractive summaries do not)."""
    if task == "check":
        return False
    return not (task == "summarize" and getattr(request, "method", None) == "extractive")


def precheck(task: str, request: BaseModel) -> None:
    """Refuse at once what the task would refuse first (a brief without points), so a writer
    does not wait in the queue for a one-line error."""
    if task == "adapt":
        from pipeline.tasks.adapt.brief import brief_from_inputs

        brief_from_inputs(task_input(task, request).options())


def run(task: str, request: BaseModel, *, client: Any, corpus_dir: Path, prompts_dir: Path | None,
        progress: ProgressFn | None) -> TaskResult:
    ctx = TaskContext(client=client, corpus_dir=corpus_dir, prompts_dir=prompts_dir, progress=progress)
    return get_task(task).run(task_input(task, request), ctx)


def preview(request: AdaptRequest, *, corpus_dir: Path, prompts_dir: Path | None) -> dict[str, Any]:
    """adapt's dry run without a model: the examples it would choose and the outline it plans
    (token counts estimated from 字), for the page to pre-select the examples."""
    ctx = TaskContext(client=None, corpus_dir=corpus_dir, prompts_dir=prompts_dir, dry_run=True)
    meta = get_task("adapt").run(task_input("adapt", request), ctx).metadata
    return {"examples": meta.get("examples", []), "outline": meta.get("outline", {}),
            "ranking": meta.get("selection", {}).get("ranking", [])}


def error_message(exc: BaseException) -> str:
    """One line for the page: the task's own message, or the kind of failure; never a secret."""
    if isinstance(exc, SpeechsmithError):
        return redact(str(exc))
    return redact(f"内部错误：{type(exc).__name__}: {str(exc)[:300]}")
