"""Options and helpers every command shares, so that all commands behave alike.

Conventions: --format (text, md, json; docx where a speech is written), -o/--output, --backend,
--model, --base-url, --dry-run, '-' for stdin, exit codes 0 ok / 1 check failed with --strict /
2 usage or input error. Heavy modules are imported inside commands, never here.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from pipeline.atomic import check_output, check_writable, write_atomic
from pipeline.config import ModelOptions

if TYPE_CHECKING:
    from pipeline.tasks import TaskResult

__all__ = ["check_output", "check_writable", "write_atomic"]  # re-exported for the commands


class Format(StrEnum):
    text = "text"
    md = "md"
    json = "json"
    docx = "docx"


class TableFormat(StrEnum):
    table = "table"
    json = "json"


FormatOpt = Annotated[
    Format | None,
    typer.Option("--format", "-f", help="Output format: text, md, json or docx. Default: from -o's suffix, else text."),
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the result to this file instead of stdout.")
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="local (embedded model) or openai (any OpenAI-compatible endpoint). "
        "Default: openai when a base URL or key is configured, else local.",
    ),
]
ModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", help="Model id (openai) or path to a GGUF file (local).")
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1."),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        "--threads", min=1,
        help="CPU threads of the embedded model. Default: every free core to read the prompt, one "
        "fewer to write (a core is left to your other programs), re-checked between calls; also "
        "SPEECHSMITH_THREADS or `threads` in the config.",
        show_default=False,
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Print the rendered prompt, token counts and examples; call no model.")
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Exit 1 when a check fails.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Print usage and cost totals on stderr.")]
CacheOpt = Annotated[bool, typer.Option("--cache", help="Reuse identical earlier responses from the cache.")]
MaxCostOpt = Annotated[
    float | None, typer.Option("--max-cost", help="Stop before the run's cost would pass this (config prices).")
]
MaxTokensOpt = Annotated[
    int | None, typer.Option("--max-tokens", help="Stop before the run's total tokens would pass this.")
]
ContextOpt = Annotated[
    int | None,
    typer.Option(
        "--context", min=512,
        help="Context window in tokens: the local model's context size, or an endpoint's window "
        "(beats what the server states and the built-in table). Default: 8192 local; the "
        "server's, else known per model, else 32768.",
        show_default=False,
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout", min=1,
        help="Seconds to wait for an endpoint's reply to one request (default 180). A request that "
        "times out is not sent again: a slow server may still be generating it.",
        show_default=False,
    ),
]
StructuredOpt = Annotated[
    str | None,
    typer.Option(
        "--structured",
        help="How an endpoint is asked for JSON: auto (json_schema, and plainer forms when the server "
        "refuses it), json_schema, json_object (llama.cpp: with the schema) or prompt. Default: auto.",
        show_default=False,
    ),
]
CorpusOpt = Annotated[
    Path | None,
    typer.Option("--corpus", help="Corpus folder. Default: $SPEECHSMITH_CORPUS or the shipped corpus/.", show_default=False),
]
PromptsOpt = Annotated[
    Path | None,
    typer.Option("--prompts", help="Prompts folder. Default: $SPEECHSMITH_PROMPTS or the shipped prompts/.", show_default=False),
]


def model_options(
    backend: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    *,
    cache: bool = False,
    max_cost: float | None = None,
    max_tokens: int | None = None,
    verbose: bool = False,
    context: int | None = None,
    timeout: float | None = None,
    structured: str | None = None,
    threads: int | None = None,
) -> ModelOptions:
    from pipeline.model.backends.endpoint import STRUCTURED

    if backend is not None and backend not in ("local", "openai"):
        raise typer.BadParameter(f"unknown backend {backend!r}: use local or openai", param_hint="--backend")
    if structured is not None and structured not in STRUCTURED:
        raise typer.BadParameter(f"use one of {', '.join(STRUCTURED)}, not {structured!r}", param_hint="--structured")
    return ModelOptions(
        backend=backend, model=model, base_url=base_url, cache=cache,
        max_cost=max_cost, max_tokens=max_tokens, verbose=verbose,
        context=context, timeout=timeout, structured=structured, threads=threads,
    )


# The model layer's options, in the order --help lists them: (name, annotation, default).
_ENDPOINT_OPTIONS = (("backend", BackendOpt, None), ("model", ModelOpt, None), ("base_url", BaseUrlOpt, None))
_MODEL_OPTIONS = (
    *_ENDPOINT_OPTIONS,
    ("verbose", VerboseOpt, False), ("threads", ThreadsOpt, None), ("cache", CacheOpt, False),
    ("max_cost", MaxCostOpt, None), ("max_tokens", MaxTokensOpt, None), ("context", ContextOpt, None),
    ("timeout", TimeoutOpt, None), ("structured", StructuredOpt, None),
)
# How the model runs, without the per-command budgets: for commands that run many tasks (eval
# run, serve), where a --max-cost or --cache of one command has no single meaning.
_RUNTIME_OPTIONS = (
    *_ENDPOINT_OPTIONS,
    ("threads", ThreadsOpt, None), ("context", ContextOpt, None),
    ("timeout", TimeoutOpt, None), ("structured", StructuredOpt, None),
)


def with_options(
    options: tuple[tuple[str, Any, Any], ...], build: Callable[..., Any], into: str,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Options several commands share, defined once: `options` ((name, Annotated type, default)
    each) are added to the command's own, and the command receives `build(**their values)` as
    its keyword argument `into`. (typer reads a command's options from its signature, so the
    wrapper's signature is the command's own parameters followed by these.)"""
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
             for name, annotation, default in options]

    def wrap(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in signature.parameters.values()
               if p.name != into]

        @functools.wraps(command)
        def run(**kwargs: Any) -> Any:
            given = {name: kwargs.pop(name) for name, _, _ in options}
            return command(**kwargs, **{into: build(**given)})

        parameters = [*own, *extra]
        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return run

    return wrap


_TASK_OPTIONS = (("fmt", FormatOpt, None), ("output", OutputOpt, None), ("dry_run", DryRunOpt, False),
                 ("strict", StrictOpt, False), ("prompts", PromptsOpt, None))


def with_model_options(*, full: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The model options (--backend, --model, --base-url, --threads, --context, --timeout,
    --structured, and with `full` also --verbose, --cache, --max-cost, --max-tokens), handed to
    the command as one ModelOptions, `model_opts`."""
    return with_options(_MODEL_OPTIONS if full else _RUNTIME_OPTIONS, model_options, "model_opts")


@dataclass
class TaskCommand:
    """What the task commands (adapt, restyle, summarize) share: the options --format, -o,
    --dry-run, --strict, --prompts and the model's, and the steps every one of them takes."""

    fmt: Format | None
    output: Path | None
    dry_run: bool
    strict: bool
    prompts: Path | None
    model: ModelOptions
    out_format: Format = Format.text

    def choose_format(self, allowed: tuple[Format, ...], *inputs: str | Path | None) -> Format:
        """The output format (see pick_format); before any work, refuses an -o that would
        overwrite an input or cannot be written."""
        self.out_format = pick_format(self.fmt, self.output, allowed)
        check_outputs(self.output, *inputs)
        return self.out_format

    def run(self, run: Callable[[Any, Any], TaskResult], inp: Any, name: str, *, model: bool = True,
            **context: Any) -> TaskResult:
        """Open the model client (none without `model`), show progress on a terminal, run the
        task, then report the usage."""
        from pipeline.cli.progress import close, listen, terminal_progress
        from pipeline.model.connect import open_client, report_usage
        from pipeline.tasks import TaskContext

        client = open_client(self.model, name) if model else None
        progress = None if client is None or self.dry_run else terminal_progress(
            json_to_stdout=self.out_format is Format.json and self.output is None)
        listen(client, progress)
        try:
            result = run(inp, TaskContext(client=client, dry_run=self.dry_run, progress=progress,
                                          prompts_dir=self.prompts, **context))
        finally:
            close(progress)
        if client is not None:
            report_usage(client)
        return result

    def emit(self, data: str | bytes) -> None:
        emit(data, self.output)

    def emit_dry_run(self, result: TaskResult, data: dict[str, Any] | None = None) -> None:
        """A dry run's prompts as text, or its metadata (or `data`) as JSON; -o is never written."""
        if self.out_format is Format.json:
            emit_dry_run(json.dumps(result.metadata if data is None else data, ensure_ascii=False, indent=2),
                         self.output)
        else:
            emit_dry_run(result.text, self.output)


def task_command() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The shared options of a task command, handed to it as one TaskCommand, `cmd`."""

    def build(*, fmt: Format | None, output: Path | None, dry_run: bool, strict: bool, prompts: Path | None,
              **model: Any) -> TaskCommand:
        return TaskCommand(fmt, output, dry_run, strict, prompts, model_options(**model))

    return with_options(_TASK_OPTIONS + _MODEL_OPTIONS, build, "cmd")


def check_outputs(output: Path | None, *inputs: str | Path | None) -> None:
    """Before any work: refuse an -o that is an input, read-only, a directory, or in a directory
    that does not exist (see pipeline.atomic.check_output)."""
    if output is not None:
        check_output(output, inputs)


def pick_format(fmt: Format | None, output: Path | None, allowed: tuple[Format, ...]) -> Format:
    """--format wins; else the output file's suffix; else text."""
    inferred = fmt is None and output is not None
    if inferred:
        fmt = {".md": Format.md, ".json": Format.json, ".docx": Format.docx}.get(output.suffix.lower(), Format.text)
    fmt = fmt or Format.text
    if fmt not in allowed:
        choices = ", ".join(f.value for f in allowed)
        if inferred:
            raise typer.BadParameter(
                f"this command cannot write {fmt.value} (asked for by -o {output.name}); "
                f"use one of {choices}, or pass --format",
                param_hint="--output",
            )
        raise typer.BadParameter(f"{fmt.value} is not available here; use one of {choices}", param_hint="--format")
    return fmt


def emit(data: str | bytes, output: Path | None) -> None:
    """Write to -o atomically (never a half-written file), or to stdout."""
    if output is None:
        if isinstance(data, bytes):
            if sys.stdout.isatty():
                raise typer.BadParameter("binary output (docx) needs -o FILE", param_hint="--output")
            sys.stdout.buffer.write(data)
        else:
            sys.stdout.write(data if data.endswith("\n") else data + "\n")
        sys.stdout.flush()
        return
    check_output(output)  # the commands check before their work; this is the last guard
    write_atomic(output, data)


def emit_dry_run(text: str, output: Path | None) -> None:
    """A dry run prints prompts to stdout and never touches -o: the file there may be the
    user's finished speech, and a prompt dump is not what they asked to write."""
    emit(text, None)
    if output is not None:
        info(f"speechsmith: dry run: {output} was not written")


def info(message: str) -> None:
    """A status line on stderr (never mixed into the result on stdout)."""
    typer.echo(message, err=True)
