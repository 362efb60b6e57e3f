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

import difflib
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from pipeline.errors import InputError

if TYPE_CHECKING:
    from pipeline.backends.base import ChatRequest
    from pipeline.call import Client
    from pipeline.events import ProgressFn
    from pipeline.prompts import PromptRef

TASKS = ("adapt", "summarize", "restyle", "check")


@dataclass
class TaskContext:
    client: Client | None = None  # None is fine for tasks that need no model (check, extractive)
    corpus_dir: Path | None = None
    prompts_dir: Path | None = None
    dry_run: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    progress: ProgressFn | None = None  # see pipeline.events: the task's steps, for a terminal or a page


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


# The input keys each task reads (from the code that reads them: tasks/summarize.py input_text/run,
# tasks/restyle _prepare/_strategy, tasks/check.py config_from_inputs, adapt's Brief + options).
# A key outside these would be silently ignored by the task, so a typo ("lenght") would quietly
# run with the default; batch lines and eval cases refuse it instead.
_ADAPT_OPTIONS = ("brief", "strategy", "strict_facts", "examples", "example_tokens", "seed")
_ACCEPTS: dict[str, frozenset[str]] = {
    "summarize": frozenset({"text", "file", "length", "title", "method"}),
    "restyle": frozenset({"text", "file", "style", "title", "length", "speaker", "date", "occasion", "unit",
                          "audience", "strategy", "model_sentences"}),
    "check": frozenset({"text", "file", "source", "source_file", "select", "ignore", "audience", "length",
                        "minutes", "tolerance", "max_sentence", "fix"}),
}


def accepted_keys(task: str) -> frozenset[str]:
    """The input keys `task` reads (a batch line's or an eval case's options)."""
    if task == "adapt":
        from pipeline.brief import Brief  # brief_from_inputs reads exactly the Brief's fields

        return frozenset(Brief.model_fields) | frozenset(_ADAPT_OPTIONS)
    task_module(task)  # unknown task -> InputError
    return _ACCEPTS[task]


def unknown_keys_message(task: str, inputs: dict[str, Any], *, extra: frozenset[str] = frozenset()) -> str | None:
    """None when every key of `inputs` is one `task` reads, else a message naming the strays."""
    accepted = accepted_keys(task) | extra
    unknown = [k for k in inputs if k not in accepted]
    if not unknown:
        return None
    named = []
    for key in unknown:
        close = difflib.get_close_matches(key.replace("-", "_"), sorted(accepted), n=1, cutoff=0.6)
        named.append(f'"{key}"' + (f' (did you mean "{close[0]}"?)' if close else ""))
    noun = "key" if len(unknown) == 1 else "keys"
    return f"{task} does not take {noun} {', '.join(named)}; it takes: {', '.join(sorted(accepted))}"


def task_module(name: str):
    if name not in TASKS:
        raise InputError(f"unknown task {name!r}: use one of {', '.join(TASKS)}")
    return importlib.import_module(f"pipeline.tasks.{name}")


def run_task(name: str, inputs: dict[str, Any], ctx: TaskContext) -> TaskResult:
    return task_module(name).run(inputs, ctx)
