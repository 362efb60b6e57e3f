"""Tasks are thin compositions of the pipeline steps. The CLI, evals and batch call only these.

Every task module (adapt, summarize, restyle, check) provides:

    run(inputs: dict, ctx: TaskContext) -> TaskResult
        inputs use the CLI option names ("text", "file", "method", "style", "length",
        "occasion", "speaker", "audience", "points", …) so that a batch line or an eval case
        is the same thing as a command line.

and, for tasks with a one-call strategy (for the OpenAI Batch route, see pipeline.batch):

    batch_request(inputs: dict, ctx: TaskContext) -> OneCall
    batch_finish(inputs: dict, raw: str, ctx: TaskContext) -> TaskResult
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from pipeline.errors import InputError

if TYPE_CHECKING:
    from pipeline.backends.base import ChatRequest
    from pipeline.call import Client
    from pipeline.prompts import PromptRef

TASKS = ("adapt", "summarize", "restyle", "check")


@dataclass
class TaskContext:
    client: Client | None = None  # None is fine for tasks that need no model (check, extractive)
    corpus_dir: Path | None = None
    prompts_dir: Path | None = None
    dry_run: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class TaskResult(BaseModel):
    """What every task returns; `output` is the schema-valid result as plain data."""

    task: str
    output: dict[str, Any] = Field(default_factory=dict)
    text: str = ""  # plain-text rendering of output
    metadata: dict[str, Any] = Field(default_factory=dict)  # prompt ref, backend, model, usage, …
    checks: dict[str, Any] = Field(default_factory=dict)  # check name -> details incl. "passed"
    ok: bool = True  # False when any check failed


@dataclass(frozen=True)
class OneCall:
    request: ChatRequest
    schema: type[BaseModel]
    prompt: PromptRef | None = None


def task_module(name: str):
    if name not in TASKS:
        raise InputError(f"unknown task {name!r}: use one of {', '.join(TASKS)}")
    return importlib.import_module(f"pipeline.tasks.{name}")


def run_task(name: str, inputs: dict[str, Any], ctx: TaskContext) -> TaskResult:
    return task_module(name).run(inputs, ctx)
