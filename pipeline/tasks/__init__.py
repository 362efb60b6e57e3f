"""Tasks are thin compositions of the pipeline steps. The CLI, batch, evals and the web page call
only these, through the registry:

    spec = get_task("adapt")                       # a TaskSpec
    inp = spec.input(occasion=…, points=[…])       # AdaptInput (pipeline.tasks.inputs)
    result = spec.run(inp, TaskContext(client=…))  # TaskResult

Every task package (adapt, summarize, restyle, check) declares `TASK = TaskSpec(…)`: its input
model, `run(inp, ctx)`, and for tasks with a one-call strategy (the OpenAI Batch route, see
pipeline.batch) the batch hooks:

    batch_request(inp, ctx) -> OneCall
    batch_finish(inp, raw, ctx) -> TaskResult
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from pipeline.errors import InputError
from pipeline.tasks.inputs import (
    AdaptInput,
    CheckInput,
    RestyleInput,
    SummarizeInput,
    TaskInput,
    parse_input,
    unknown_keys_message,
)

if TYPE_CHECKING:
    from pipeline.events import ProgressFn
    from pipeline.model.client import Client
    from pipeline.model.types import ChatRequest
    from pipeline.prompts import PromptRef

__all__ = [
    "TASKS",
    "AdaptInput",
    "CheckInput",
    "OneCall",
    "RestyleInput",
    "SummarizeInput",
    "TaskContext",
    "TaskInput",
    "TaskResult",
    "TaskSpec",
    "get_task",
    "parse_input",
    "run_task",
    "unknown_keys_message",
]

TASKS = ("adapt", "summarize", "restyle", "check")


@dataclass
class TaskContext:
    """What a task runs with, besides its input: the model, the folders, and caller limits."""

    client: Client | None = None  # None is fine for tasks that need no model (check, extractive)
    corpus_dir: Path | None = None
    prompts_dir: Path | None = None
    dry_run: bool = False
    progress: ProgressFn | None = None  # see pipeline.events: the task's steps, for a terminal or a page
    records: list[Any] | None = None  # corpus speeches already loaded (adapt reads the corpus otherwise)
    max_tokens_per_call: int | None = None  # cap on one call's output tokens (restyle; benchmarks)
    model_passages: int | None = None  # rewrite at most this many passages with the model (restyle)

    @property
    def backend_name(self) -> str:
        """The backend's name ("local", "openai", …); "local" without a client."""
        if self.client is None:
            return "local"
        return str(getattr(self.client.backend, "name", "local"))


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
    """A task's whole work as one model request (the batch route, and the one-call strategies)."""

    request: ChatRequest
    schema: type[BaseModel]
    prompt: PromptRef | None = None


@dataclass(frozen=True)
class TaskSpec:
    """A task as the callers see it: its input model, `run`, and its batch hooks (or None)."""

    name: str
    input: type[TaskInput]
    run: Callable[[Any, TaskContext], TaskResult]
    batch_request: Callable[[Any, TaskContext], OneCall] | None = None
    batch_finish: Callable[[Any, str, TaskContext], TaskResult] | None = None
    # Why a job's options keep it from being one call (extractive, sectioned…), None when they do not.
    batch_skip: Callable[[Any], str | None] | None = None

    @property
    def has_one_call(self) -> bool:
        return self.batch_request is not None and self.batch_finish is not None

    def parse(self, inputs: dict[str, Any] | TaskInput) -> TaskInput:
        """The input model from plain data (a batch line, an eval case, a JSON body)."""
        return parse_input(self.name, inputs)


def get_task(name: str) -> TaskSpec:
    """The registered task `name` (its package is imported on first use)."""
    if name not in TASKS:
        raise InputError(f"unknown task {name!r}: use one of {', '.join(TASKS)}")
    return importlib.import_module(f"pipeline.tasks.{name}").TASK


def run_task(name: str, inputs: dict[str, Any] | TaskInput, ctx: TaskContext) -> TaskResult:
    """Parse `inputs` into the task's input model and run the task."""
    spec = get_task(name)
    return spec.run(spec.parse(inputs), ctx)
