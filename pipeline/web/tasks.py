"""The one door from the web to the tasks: request schemas, how a request becomes a task's input,
and what of the result the page shows.

The API's request bodies are the tasks' input fields a web user may set; fields that name files
on the server (`file`, `brief`, `source_file`) are not offered, so nothing outside the data dir
and the corpus is read for a page or an API caller.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.errors import SpeechsmithError
from pipeline.events import ProgressFn
from pipeline.redact import redact
from pipeline.tasks import TaskContext, TaskResult, run_task

__all__ = [
    "REQUESTS", "AdaptRequest", "CheckRequest", "RestyleRequest", "SummarizeRequest",
    "error_message", "run", "task_inputs", "uses_model",
]

MAX_TEXT = 2_000_000  # characters: a long report is ~60k 字; this bounds a pasted text


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AdaptRequest(_Request):
    """写讲话: the brief of a new speech (see `speechsmith adapt --help`)."""

    occasion: str = Field(min_length=2, max_length=200, description="场合")
    speaker: str = Field(default="", max_length=100, description="讲话人")
    audience: str = Field(default="", max_length=200, description="听众")
    points: list[str] = Field(min_length=1, max_length=12, description="要点，每点一部分")
    length: int = Field(default=1500, ge=100, le=20000, description="字数")
    tone: str = Field(default="", max_length=100, description="语气")
    date: str = Field(default="", max_length=50)
    place: str = Field(default="", max_length=100)
    facts: list[str] = Field(default_factory=list, max_length=100, description="允许出现的数字、日期、人名")
    genre: str | None = Field(default=None, max_length=50)
    salutation: str | None = Field(default=None, max_length=100)
    examples: str | None = Field(default=None, max_length=500, description="范文：数量（2），或 id1,id2；0 为不用")
    strategy: Literal["one-call", "plan-draft"] | None = None
    strict_facts: bool = False
    seed: int = 0

    @field_validator("points", "facts")
    @classmethod
    def _no_blank(cls, value: list[str]) -> list[str]:
        return [v.strip() for v in value if v and v.strip()]


class SummarizeRequest(_Request):
    """摘要: a long text to its gist, points, tasks and figures."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    length: Literal["short", "medium", "long"] = "medium"
    title: str = Field(default="", max_length=200)
    method: Literal["auto", "llm", "extractive", "hybrid"] = "auto"


class RestyleRequest(_Request):
    """改写: a text rewritten in another style."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    style: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_-]+$", description="风格名")
    length: int | None = Field(default=None, ge=50, le=20000)
    audience: str = Field(default="", max_length=200)
    title: str = Field(default="", max_length=200)
    speaker: str = Field(default="", max_length=100)
    occasion: str = Field(default="", max_length=200)
    date: str = Field(default="", max_length=50)
    unit: str = Field(default="", max_length=100)


class CheckRequest(_Request):
    """检查: lint a speech; fix applies the safe fixes."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    length: int | None = Field(default=None, gt=0)
    minutes: float | None = Field(default=None, gt=0)
    audience: str = Field(default="", max_length=200)
    source: str = Field(default="", max_length=MAX_TEXT, description="原文：不得新增其中没有的数字和人名")
    select: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)
    fix: bool = False


REQUESTS: dict[str, type[_Request]] = {
    "adapt": AdaptRequest, "summarize": SummarizeRequest, "restyle": RestyleRequest, "check": CheckRequest,
}


def task_inputs(task: str, request: BaseModel) -> dict[str, Any]:
    """The task's input dict for a validated request (empty values left to the task's defaults)."""
    data = request.model_dump()
    inputs = {k: v for k, v in data.items() if v not in (None, "", [])}
    if task == "check" and inputs.get("source") and "\n" not in inputs["source"]:
        # The check task reads a one-line source that names a file; from the web it is only text.
        inputs["source"] = inputs["source"] + "\n"
    if task == "adapt" and isinstance(inputs.get("examples"), str):
        inputs["examples"] = inputs["examples"].replace("，", ",").replace(" ", "")
    return inputs


def uses_model(task: str, request: BaseModel) -> bool:
    """Whether the job waits for the model's queue (check and extractive summaries do not)."""
    if task == "check":
        return False
    return not (task == "summarize" and getattr(request, "method", "") == "extractive")


def run(task: str, request: BaseModel, *, client: Any, corpus_dir: Path, prompts_dir: Path | None,
        progress: ProgressFn | None) -> TaskResult:
    ctx = TaskContext(client=client, corpus_dir=corpus_dir, prompts_dir=prompts_dir, progress=progress)
    return run_task(task, task_inputs(task, request), ctx)


def error_message(exc: BaseException) -> str:
    """One line for the page: the task's own message, or the kind of failure; never a secret."""
    if isinstance(exc, SpeechsmithError):
        return redact(str(exc))
    return redact(f"内部错误：{type(exc).__name__}: {str(exc)[:300]}")


def preview(request: AdaptRequest, *, corpus_dir: Path, prompts_dir: Path | None) -> dict[str, Any]:
    """adapt's dry run without a model: the examples it would choose and the outline it plans
    (token counts estimated from 字), for the page to pre-select the examples."""
    ctx = TaskContext(client=None, corpus_dir=corpus_dir, prompts_dir=prompts_dir, dry_run=True)
    meta = run_task("adapt", task_inputs("adapt", request), ctx).metadata
    return {"examples": meta.get("examples", []), "outline": meta.get("outline", {}),
            "ranking": meta.get("selection", {}).get("ranking", [])}
