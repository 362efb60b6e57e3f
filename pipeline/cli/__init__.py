"""The `speechsmith` command. Each command group lives in its own module with `register(app)`.

Start-up must stay fast (`--help` under 0.2 s): modules here import only typer and the
standard library at import time; models, openai, jieba, docx load inside commands.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Annotated

import typer

from pipeline import __version__
from pipeline.errors import SpeechsmithError
from pipeline.redact import redact as _redact

_COMMAND_MODULES = ("corpus", "check", "adapt", "summarize", "restyle", "eval", "batch", "log", "config", "serve")

app = typer.Typer(
    name="speechsmith",
    help=(
        "Write, summarize and restyle Chinese official speeches (讲话稿) with language models, "
        "in the house style of your own corpus of past speeches.\n\n"
        "Runs fully offline on a bundled local model; point it at any OpenAI-compatible endpoint "
        "with --base-url or OPENAI_BASE_URL.\n\n"
        "Examples:\n\n"
        "  speechsmith corpus add 范文集.txt\n\n"
        "  speechsmith adapt --occasion 全县安全生产工作会议 --speaker 县长 --point 压实安全生产责任 -o 讲话.docx\n\n"
        "  speechsmith summarize 政府工作报告.txt --length short --format md\n\n"
        "  speechsmith check 讲话.docx"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"speechsmith {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    if debug:
        os.environ["SPEECHSMITH_DEBUG"] = "1"


for _name in _COMMAND_MODULES:
    importlib.import_module(f"pipeline.cli.{_name}").register(app)


def main() -> None:
    """Console entry point: one line on stderr for every expected failure, no traceback."""
    try:
        app(prog_name="speechsmith")
    except SpeechsmithError as exc:
        if os.environ.get("SPEECHSMITH_DEBUG"):
            traceback.print_exc()  # the exit code must not change with --debug
        typer.echo(f"speechsmith: error: {_redact(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("speechsmith: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:  # disk full, permissions…: the user's environment, not a bug
        if os.environ.get("SPEECHSMITH_DEBUG"):
            traceback.print_exc()
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        typer.echo(f"speechsmith: error:{where} {_redact(exc.strerror or str(exc))}", err=True)
        sys.exit(2)
    except Exception as exc:  # a bug: still one line unless --debug
        if os.environ.get("SPEECHSMITH_DEBUG"):
            traceback.print_exc()
            sys.exit(2)
        typer.echo(
            f"speechsmith: internal error: {type(exc).__name__}: {_redact(str(exc))[:300]} "
            "(run with --debug for the traceback)",
            err=True,
        )
        sys.exit(2)
