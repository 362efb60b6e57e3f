"""`speechsmith summarize`: a long speech or report to its gist, key points, tasks and figures."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli.common import Format, TaskCommand, info, task_command


class Length(StrEnum):
    short = "short"
    medium = "medium"
    long = "long"


class Method(StrEnum):
    auto = "auto"
    llm = "llm"
    extractive = "extractive"
    hybrid = "hybrid"


HELP = """Summarize a speech or work report: one-sentence gist, key points, tasks (部署、要求: what,
and who where the text says) and figures (value, what it measures), each with the source
paragraph numbers (¶, counted over non-empty lines) so that a reader can check it.

Every figure, date and quoted phrase in the summary is checked against the source by the
pipeline, not by the model: whatever is not found verbatim is dropped and listed in the JSON
checks (with --strict, a dropped item exits 1).

Methods: extractive (instant, no model), llm (the model reads the whole text in one call, or
map-reduce over chunks when it does not fit), hybrid (the model only shortens the sentences the
extractive ranking chose), auto (extractive without a model, hybrid on the embedded local model,
llm on an OpenAI-compatible endpoint; the choice is in the JSON metadata).

Examples:

  speechsmith summarize 2025年政府工作报告.txt --length short --format md

  speechsmith summarize 讲话.docx --method extractive -o 摘要.md

  cat 报告.txt | speechsmith summarize - --format json --base-url http://127.0.0.1:8000/v1 --model qwen2.5

  speechsmith summarize 报告.txt --method llm --dry-run
"""


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("summarize", help=HELP, no_args_is_help=True)(summarize)


@task_command()
def summarize(
    file: Annotated[str, typer.Argument(help="Text, Markdown, .docx or .html file; '-' reads stdin.", show_default=False)],
    length: Annotated[Length, typer.Option("--length", "-l", help="short (3 points), medium (6) or long (10).")] = Length.medium,
    method: Annotated[Method, typer.Option("--method", help="auto, llm, extractive or hybrid (see above).")] = Method.auto,
    title: Annotated[
        str | None,
        typer.Option("--title", help="The text's title: shown to the model and used as the Markdown heading "
                     "(default heading: the file name)."),
    ] = None,
    *,
    cmd: TaskCommand,
) -> None:
    from pipeline.errors import CheckFailed
    from pipeline.render.summary import render_summary_result
    from pipeline.tasks.summarize import SummarizeInput, run
    from pipeline.text.textio import read_text

    out_format = cmd.choose_format((Format.text, Format.md, Format.json), file)
    text = read_text(file)
    heading = title if title is not None else ("" if file == "-" else Path(file).stem)
    extractive = method is Method.extractive
    if extractive and cmd.dry_run:
        info("speechsmith: --method extractive calls no model; the dry run is the summary itself")
    inp = SummarizeInput(text=text, length=length.value, method=method.value, title=title or "")
    result = cmd.run(run, inp, "summarize", model=not extractive)
    if cmd.dry_run and not extractive:
        cmd.emit_dry_run(result)
        return
    cmd.emit(render_summary_result(result, out_format.value, heading))
    dropped = result.checks.get("verbatim", {}).get("dropped", [])
    if dropped:
        info(f"speechsmith: dropped {len(dropped)} item(s) whose figures or quotes are not in the source")
        if cmd.strict:
            raise CheckFailed(f"{len(dropped)} summary item(s) failed the verbatim check")
    substance = result.checks.get("substance", {})
    if not substance.get("passed", True):
        rules = ", ".join(substance.get("rules", []))
        info(f"speechsmith: summarize: the substance check failed ({rules}; details in --format json)")
        if cmd.strict:
            raise CheckFailed(f"summarize: substance check failed: {rules}")

